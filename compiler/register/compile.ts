// What gradc/register does to one module, on whichever thread loads it: compile its grad
// bindings with the integration core (one core per thread, so one TypeScript program for the
// whole process: later modules reuse it), strip the types with the TypeScript compiler gradc
// already uses, and chain the two source maps so stack traces land on the model's lines.

import remapping from "@jridgewell/remapping";
import { ts } from "ts-morph";
import { packageType } from "../moduletype.js";
import { GradcCore, diagnosticsText } from "../plugin/core.js";
import { sourceMappingURL } from "../sourcemap.js";

const core = new GradcCore({}, process.cwd());

/** How Node would load the file: its extension, else the nearest package.json's type. */
export function formatOf(path: string): "module" | "commonjs" {
  if (/\.m[jt]s$/.test(path)) return "module";
  if (/\.c[jt]s$/.test(path)) return "commonjs";
  return packageType(path) === "module" ? "module" : "commonjs";
}

/**
 * The module's models compiled and its types stripped, as JavaScript in `format` with an inline
 * source map to the original; undefined when it has no model. Throws an error listing gradc's
 * diagnostics (tsc's format, with code frames) when a model cannot be compiled.
 */
export function compileModule(path: string, text: string, format: "module" | "commonjs"): string | undefined {
  const outcome = core.transform(text, path);
  if (outcome.kind === "unchanged") return undefined;
  if (outcome.kind === "diagnostics") {
    const error = new Error(`gradc cannot compile ${path}:\n${diagnosticsText(outcome.diagnostics)}`);
    error.name = "GradcCompileError";
    throw error;
  }
  const out = ts.transpileModule(outcome.code, {
    fileName: path,
    compilerOptions: {
      module: format === "module" ? ts.ModuleKind.ESNext : ts.ModuleKind.CommonJS,
      target: ts.ScriptTarget.ES2022,
      sourceMap: true,
      esModuleInterop: true,
      allowJs: true,
    },
  });
  const js = out.outputText.replace(/\n\/\/# sourceMappingURL=.*\s*$/, "\n");
  const map = remapping([out.sourceMapText!, JSON.stringify(outcome.map)], () => null);
  return `${js}${sourceMappingURL(JSON.parse(map.toString()))}\n`;
}

