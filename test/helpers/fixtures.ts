// The fixture corpus: test/fixtures/<case>/input.ts compiled with the verifier after every pass,
// and the text each expected file holds. Successful cases have expected.ir (frontend IR),
// expected.grad.ir (optimized forward+backward, what codegen sees) and expected.js (the
// generated module); `error-*` cases have errors.txt (the diagnostics, paths relative to the
// case folder, each with its code frame).

import { existsSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { type CompileOptions, type CompiledModule, compileSourceFile, createProject } from "../../compiler/program.js";
import { type Diagnostic, formatWithFrame } from "../../compiler/diagnostics/diagnostic.js";
import { printFunc } from "../../compiler/ir/print.js";

export const ROOT = fileURLToPath(new URL("../..", import.meta.url));
export const FIXTURES = join(ROOT, "test/fixtures");

export const EXPECTED_FILES = ["expected.ir", "expected.grad.ir", "expected.js", "errors.txt"] as const;
export type ExpectedFile = (typeof EXPECTED_FILES)[number];

export interface FixtureResult {
  readonly name: string;
  readonly dir: string;
  readonly module: CompiledModule | undefined;
  readonly diagnostics: readonly Diagnostic[];
}

/** Every case folder (one holding input.ts), sorted. */
export function fixtureNames(): string[] {
  return readdirSync(FIXTURES, { withFileTypes: true })
    .filter((d) => d.isDirectory() && existsSync(join(FIXTURES, d.name, "input.ts")))
    .map((d) => d.name)
    .sort();
}

export const isErrorCase = (name: string): boolean => name.startsWith("error-");

/**
 * Compiles the cases' input.ts files in one TypeScript project (creating one per case costs
 * about half a second each), each exactly as `compile([input.ts], { cwd: caseDir })` would:
 * `compile` is a loop of `compileSourceFile` over one project. fixtures.test.ts checks that
 * equivalence on a case of each kind. The expected files are the JavaScript backend's output
 * (`backend: "js"`); fixture-tensors.test.ts also runs the cases on the WebAssembly backend.
 */
export function compileFixtures(
  names: readonly string[],
  kernels: Pick<CompileOptions, "backend" | "wasmMinWork"> = { backend: "js" },
): Map<string, FixtureResult> {
  const inputs = names.map((n) => join(FIXTURES, n, "input.ts"));
  const { project, rootDir } = createProject(inputs);
  const out = new Map<string, FixtureResult>();
  names.forEach((name, i) => {
    const dir = join(FIXTURES, name);
    const sf = project.getSourceFileOrThrow(inputs[i]!);
    const r = compileSourceFile(sf, rootDir, { emit: "js", verify: true, cwd: dir, ...kernels }, dir);
    out.set(name, { name, dir, module: r.module, diagnostics: r.diagnostics });
  });
  return out;
}

/** The expected files' text for a compiled case. */
export function render(r: FixtureResult): Partial<Record<ExpectedFile, string>> {
  if (r.diagnostics.length > 0 || !r.module) {
    return { "errors.txt": r.diagnostics.map(formatWithFrame).join("\n") };
  }
  const fns = r.module.functions;
  const dump = (pick: (f: (typeof fns)[number]) => Parameters<typeof printFunc>[0]): string =>
    fns.map((f) => `# ${f.exportName}\n${printFunc(pick(f))}`).join("\n");
  return {
    "expected.ir": dump((f) => f.stages.ir),
    "expected.grad.ir": dump((f) => f.stages.opt),
    "expected.js": r.module.code,
  };
}

/**
 * Fixtures of jvp, nested transformations and custom rules: their models are not the functions
 * named in the bindings, so the generic gradient checks leave them to test/transforms.
 */
export const TRANSFORM_CASES: readonly string[] = ["compose-depth", "jvp-scalar", "jvp-loop", "jvp-while", "jvp-tensor", "jvp-reuse", "jvp-pytree", "grad-of-grad", "grad-of-grad-loop", "grad-of-grad-while", "hvp-mlp", "gradient-penalty", "custom-vjp", "stop-gradient", "jvp-models"];
