// The Rollup plugin (also for Rolldown): `plugins: [gradc(), typescript()]` compiles every
// grad/valueAndGrad binding in place before TypeScript is stripped. See plugin/unplugin.ts.

import type { GradcPluginOptions } from "../plugin/core.js";
import { unplugin } from "../plugin/unplugin.js";

export type { GradcPluginOptions };

/**
 * The gradc Rollup plugin.
 *
 * @example
 * // rollup.config.mjs
 * import gradc from "gradc/rollup";
 * import typescript from "@rollup/plugin-typescript";
 * export default { input: "src/train.ts", output: { file: "out.js", sourcemap: true }, plugins: [gradc(), typescript()] };
 */
export const gradc: (options?: GradcPluginOptions) => ReturnType<typeof unplugin.rollup> = unplugin.rollup;

export default gradc;
