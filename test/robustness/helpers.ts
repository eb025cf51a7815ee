// Compiling test programs in one project per test file and importing what they compile to,
// the way a user imports a generated module (written to a .mjs file, nothing else loaded).

import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { transformSync } from "esbuild";
import { expect } from "vitest";
import { formatDiagnostic } from "../../compiler/diagnostics/diagnostic.js";
import { type CompiledModule, compile, generate } from "../../compiler/program.js";
import { ROOT } from "../helpers/fixtures.js";
import { importGenerated } from "../helpers/generated.js";
import { checkModuleText } from "./harness.js";

export const TMP = join(ROOT, "test/.tmp/robustness");

export interface Compiled {
  readonly dir: string;
  readonly modules: Map<string, CompiledModule>;
  readonly diagnostics: readonly string[];
}

/** Writes `files` under test/.tmp/robustness/<name>/ and compiles them together (emit js). */
export function compileFiles(name: string, files: Record<string, string>): Compiled {
  const dir = join(TMP, name);
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  for (const [file, text] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, file)), { recursive: true });
    writeFileSync(join(dir, file), text);
  }
  const result = compile(Object.keys(files), { emit: "js", verify: true, cwd: dir });
  const modules = new Map(result.modules.map((m) => [m.sourceFile.slice(dir.length + 1), m]));
  return { dir, modules, diagnostics: result.diagnostics.map(formatDiagnostic) };
}

/**
 * The generated module of `file`, imported, after checking its text: it parses, uses no eval or
 * Function, declares nothing that shadows a global, exports its bindings; and its TypeScript
 * variant and .d.ts parse.
 */
export async function load(c: Compiled, file: string): Promise<Record<string, unknown>> {
  const m = c.modules.get(file);
  expect(m, `${file} compiled: ${c.diagnostics.join("\n")}`).toBeDefined();
  expect(checkModuleText(m!)).toBeUndefined();
  const { code, dts } = generate(m!.functions, file, "ts");
  expect(() => transformSync(code, { loader: "ts", logLevel: "silent" })).not.toThrow();
  expect(() => transformSync(dts, { loader: "ts", logLevel: "silent" })).not.toThrow();
  return importGenerated(m!.code, file.replace(/\W/g, "_"));
}

/** Object.prototype (and Array.prototype) as they are now, to check nothing changed them. */
export const prototypes = (): string =>
  JSON.stringify([
    Reflect.ownKeys(Object.prototype).map(String).sort(),
    Object.getPrototypeOf(Object.prototype),
    Reflect.ownKeys(Array.prototype).map(String).sort(),
    Object.keys(Object.prototype),
  ]);

/** A tensor of the runtime's shape, f64 unless asked. */
export const tensorOf = (shape: number[], values: number[], f32 = false): { shape: number[]; data: Float64Array | Float32Array } => ({
  shape,
  data: f32 ? Float32Array.from(values) : Float64Array.from(values),
});
