// The webpack plugin: `plugins: [gradc()]` compiles every grad/valueAndGrad binding in place,
// ahead of the loaders that strip TypeScript. See plugin/unplugin.ts.

import type { GradcPluginOptions } from "../plugin/core.js";
import { unplugin } from "../plugin/unplugin.js";

export type { GradcPluginOptions };

/**
 * The gradc webpack plugin.
 *
 * @example
 * // webpack.config.mjs
 * import gradc from "gradc/webpack";
 * export default { entry: "./src/train.ts", devtool: "source-map", plugins: [gradc()], module: { rules: [{ test: /\.ts$/, loader: "ts-loader" }] } };
 */
export const gradc: (options?: GradcPluginOptions) => ReturnType<typeof unplugin.webpack> = unplugin.webpack;

export default gradc;
