// The Rspack plugin, the same as webpack's (see plugin/unplugin.ts). Rspack's own loader strips
// TypeScript after gradc has compiled the models.

import type { GradcPluginOptions } from "../plugin/core.js";
import { unplugin } from "../plugin/unplugin.js";

export type { GradcPluginOptions };

/**
 * The gradc Rspack plugin.
 *
 * @example
 * // rspack.config.mjs
 * import gradc from "gradc/rspack";
 * export default { entry: "./src/train.ts", plugins: [gradc()] };
 */
export const gradc: (options?: GradcPluginOptions) => ReturnType<typeof unplugin.rspack> = unplugin.rspack;

export default gradc;
