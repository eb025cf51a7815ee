// What the uncompiled fallback says when it cannot work because a bundler got there first. It
// interprets a function's source text; once a bundler has minified that text, the names in it
// (helpers, gradc's own ops) are renamed to ones the fallback cannot resolve, and reporting such
// a name (`cannot resolve Ot`) would only confuse. The fix is always the same: compile the
// model at build time with the plugin for the bundler in use.

import { GradcError } from "./error.js";

/** The advice every fallback failure ends with. */
export const COMPILE_HINT =
  "compile the model with gradc: run the gradc CLI, or add its plugin to your build (gradc/vite, gradc/esbuild, gradc/rollup or gradc/webpack)";

/**
 * True when a function's source reads like a minifier's output: one line with none of the
 * spacing people write (`, `, `; `, ` = `, ` => `, `) {`).
 */
export function looksMinified(source: string): boolean {
  const text = source.trim();
  return text.length > 0 && !text.includes("\n") && !/, |; |\) \{| => | = |\{ /.test(text);
}

/** The error for a fallback that fails on minified source: names the plugin, never a mangled name. */
export function minifiedSourceError(): GradcError {
  return new GradcError(
    "grad/valueAndGrad ran uncompiled on a function whose source a bundler has minified, so the names it " +
      "uses are out of the fallback's reach. Add gradc's plugin to the build so that grad and valueAndGrad are " +
      "compiled: gradc/vite, gradc/esbuild, gradc/rollup or gradc/webpack (or compile the model with the gradc CLI).",
  );
}
