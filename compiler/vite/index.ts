// The Vite plugin: `plugins: [gradc()]` in vite.config.ts compiles every grad/valueAndGrad
// binding in place, in the dev server (kept compiled across saves) and in the production build,
// with source maps to the model's lines. See plugin/unplugin.ts.

import type { GradcPluginOptions } from "../plugin/core.js";
import { unplugin } from "../plugin/unplugin.js";

export type { GradcPluginOptions };

/**
 * The gradc Vite plugin.
 *
 * @example
 * // vite.config.ts
 * import { defineConfig } from "vite";
 * import gradc from "gradc/vite";
 * export default defineConfig({ plugins: [gradc()] });
 */
export const gradc: (options?: GradcPluginOptions) => ReturnType<typeof unplugin.vite> = unplugin.vite;

export default gradc;
