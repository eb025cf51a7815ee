// Generated TypeScript is strict TypeScript: every fixture and example, compiled by the CLI,
// type-checks with strict, noImplicitAny, noUncheckedIndexedAccess, exactOptionalPropertyTypes
// and noImplicitReturns against the published declarations, and so does each `.grad.d.ts` of
// `--emit js`. Stripped of its types, each `.grad.ts` is the `.grad.js` of `--emit js`.

import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { Project, ts } from "ts-morph";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { STRICT_CHECKS } from "./strict.js";

const ROOT = fileURLToPath(new URL("../..", import.meta.url));
const TMP = join(tmpdir(), `gradc-generated-types-${process.pid}`);
const STRICT = {
  ...STRICT_CHECKS,
  target: ts.ScriptTarget.ES2022,
  module: ts.ModuleKind.ES2022,
  moduleResolution: ts.ModuleResolutionKind.Bundler,
  lib: ["lib.es2022.d.ts"],
  // Generated code imports its types from "gradc": the declarations the package publishes.
  paths: { gradc: [join(ROOT, "dist/runtime/index.d.ts")] },
};

// Past OUTLINE_AFTER kernels each kernel becomes a function of its own: a model long enough for
// that, with a symbolic dimension, so outlined kernels take dimensions and arrays as parameters.
const LONG = [
  `import { add, mul, sigmoid, sum, tanh, valueAndGrad, type Tensor } from "gradc";`,
  "export function long<B extends number>(x: Tensor<[B, 8]>, y: Tensor<[B, 8], \"f32\">, s: number): number {",
  "  const v0 = mul(x, y);",
  "  const v1 = tanh(x);",
  "  const v2 = sigmoid(y);",
  ...Array.from({ length: 37 }, (_x, k) => `  const v${k + 3} = tanh(add(mul(v${k + 2}, v${k + 1}), mul(v${k}, s)));`),
  "  return sum(v39);",
  "}",
  "export const gLong = valueAndGrad(long, { argnums: [0, 1, 2] });",
].join("\n");

const fixtureInputs = readdirSync(join(ROOT, "test/fixtures"))
  .filter((n) => !n.startsWith("error-") && existsSync(join(ROOT, "test/fixtures", n, "input.ts")))
  .map((n) => `test/fixtures/${n}/input.ts`);
const exampleInputs = readdirSync(join(ROOT, "examples"))
  .filter((n) => n.endsWith(".ts") && !n.endsWith(".grad.ts"))
  .map((n) => `examples/${n}`);

function gradc(cwd: string, args: string[]): void {
  execFileSync(process.execPath, [join(ROOT, "bin/gradc.js"), ...args], { cwd, encoding: "utf8", stdio: "pipe", timeout: 300_000 });
}

function filesUnder(dir: string, suffix: string): string[] {
  return readdirSync(dir, { recursive: true, encoding: "utf8" })
    .filter((f) => f.endsWith(suffix))
    .map((f) => join(dir, f))
    .sort();
}

beforeAll(() => {
  rmSync(TMP, { recursive: true, force: true });
  const long = join(TMP, "long");
  mkdirSync(long, { recursive: true });
  writeFileSync(join(long, "model.ts"), `${LONG}\n`);
  writeFileSync(
    join(long, "tsconfig.json"),
    JSON.stringify({ compilerOptions: { strict: true, moduleResolution: "Bundler", module: "ES2022", paths: { gradc: [join(ROOT, "runtime/index.ts")] } } }),
  );
  for (const emit of ["ts", "js"]) {
    gradc(ROOT, [...fixtureInputs, ...exampleInputs, "--emit", emit, "--outDir", join(TMP, emit)]);
    gradc(long, ["model.ts", "--emit", emit, "--outDir", join(TMP, emit, "long")]);
  }
}, 600_000);

afterAll(() => rmSync(TMP, { recursive: true, force: true }));

/** Diagnostics of `files` on the strict settings, formatted with their paths. */
function strictDiagnostics(files: readonly string[]): string {
  const project = new Project({ compilerOptions: STRICT, skipAddingFilesFromTsConfig: true });
  for (const f of files) project.addSourceFileAtPath(f);
  return project.formatDiagnosticsWithColorAndContext(project.getPreEmitDiagnostics());
}

describe("generated TypeScript under strict settings", () => {
  it("compiles every fixture and example", () => {
    const made = filesUnder(join(TMP, "ts"), ".grad.ts").map((f) => relative(join(TMP, "ts"), f));
    for (const input of [...fixtureInputs, ...exampleInputs]) {
      const source = readFileSync(join(ROOT, input), "utf8");
      if (/\b(grad|valueAndGrad)\(/.test(source)) expect(made).toContain(input.replace(/\.ts$/, ".grad.ts"));
    }
    expect(made).toContain("long/model.grad.ts");
    expect(readFileSync(join(TMP, "ts/long/model.grad.ts"), "utf8")).toMatch(/^function \$gradc_gLong_k\d+\(B: number, /m);
  });

  it("every .grad.ts type-checks with zero errors", { timeout: 300_000 }, () => {
    const files = filesUnder(join(TMP, "ts"), ".grad.ts");
    expect(files.length).toBeGreaterThan(20);
    expect(strictDiagnostics(files)).toBe("");
  });

  it("every .grad.d.ts of --emit js type-checks with zero errors", { timeout: 300_000 }, () => {
    const files = filesUnder(join(TMP, "js"), ".grad.d.ts");
    expect(files.length).toBe(filesUnder(join(TMP, "ts"), ".grad.ts").length);
    expect(strictDiagnostics(files)).toBe("");
  });

  it("the checker does see generated code: a wrong annotation fails", { timeout: 300_000 }, () => {
    const file = join(TMP, "ts/test/fixtures/seed-mlp/input.grad.ts");
    const broken = join(TMP, "broken.grad.ts");
    // The gradient of W2 declared with the shape of W1.
    writeFileSync(broken, readFileSync(file, "utf8").replace("W2: Tensor<[1, 16]> }]", "W2: Tensor<[16, 4]> }]"));
    expect(strictDiagnostics([broken])).toMatch(/broken\.grad\.ts/);
  });

  it("each compiled export has the type of the binding it replaces", { timeout: 300_000 }, () => {
    // check.ts: `export const c0: typeof model.lossGrad = compiled.lossGrad;` for every exported binding.
    const lines: string[] = [];
    let k = 0;
    for (const input of [...fixtureInputs, ...exampleInputs]) {
      const generated = join(TMP, "ts", input.replace(/\.ts$/, ".grad.ts"));
      if (!existsSync(generated)) continue;
      const source = readFileSync(join(ROOT, input), "utf8");
      const names = [...source.matchAll(/^export const (\w+) = (?:grad|valueAndGrad)\(/gm)].map((m) => m[1]!);
      if (names.length === 0) continue;
      lines.push(`import * as m${k} from ${JSON.stringify(join(ROOT, input).replace(/\.ts$/, ".js"))};`);
      lines.push(`import * as g${k} from ${JSON.stringify(generated.replace(/\.ts$/, ".js"))};`);
      for (const name of names) lines.push(`export const c${k}_${name}: typeof m${k}.${name} = g${k}.${name};`);
      k++;
    }
    expect(k).toBeGreaterThan(15);
    const check = join(TMP, "check.ts");
    writeFileSync(check, `${lines.join("\n")}\n`);
    const project = new Project({
      compilerOptions: { ...STRICT, types: ["node"], typeRoots: [join(ROOT, "node_modules/@types")] },
      skipAddingFilesFromTsConfig: true,
    });
    const file = project.addSourceFileAtPath(check);
    expect(project.formatDiagnosticsWithColorAndContext(file.getPreEmitDiagnostics())).toBe("");
  });

  it("a gradient has its parameter's dtype, as its declared type says", async () => {
    // regress-f32-loop-adjoint: the loss depends on an f32 tensor, so the cotangent of the f64
    // parameter x is computed in f32; it is handed back as the f64 tensor its type declares.
    const file = join(TMP, "js/test/fixtures/regress-f32-loop-adjoint/input.grad.js");
    const { dmodel } = (await import(pathToFileURL(file).href)) as {
      dmodel: (x: object, h: object) => { shape: number[]; data: Float64Array | Float32Array };
    };
    const dx = dmodel({ shape: [2], data: Float64Array.of(0.5, -1) }, { shape: [2], data: Float32Array.of(1, 2) });
    expect(dx.data).toBeInstanceOf(Float64Array);
    // t ← t/2 + x twenty times from t = x is c·x with c = 2 − 2⁻²⁰; d/dx sum(t²) = 2c²x.
    const c = 2 - 2 ** -20;
    expect(dx.shape).toEqual([2]);
    [0.5, -1].forEach((x, i) => expect(dx.data[i]).toBeCloseTo(2 * c * c * x, 5));
  });

  it("stripped of its types, each .grad.ts is the .grad.js of --emit js", () => {
    // Comments are compared apart: TypeScript drops the header with the type-only import.
    const strip = (text: string): string =>
      ts.transpileModule(text, { compilerOptions: { target: ts.ScriptTarget.ES2022, module: ts.ModuleKind.ES2022, removeComments: true } })
        .outputText;
    const comments = (text: string): string[] => text.split("\n").filter((l) => /^\s*(\/\/|\/\*)/.test(l));
    for (const file of filesUnder(join(TMP, "ts"), ".grad.ts")) {
      const [tsText, jsText] = [file, file.replace(join(TMP, "ts"), join(TMP, "js")).replace(/\.ts$/, ".js")].map((f) => readFileSync(f, "utf8"));
      expect(strip(tsText!), relative(TMP, file)).toBe(strip(jsText!));
      expect(comments(tsText!), relative(TMP, file)).toEqual(comments(jsText!));
    }
  });
});
