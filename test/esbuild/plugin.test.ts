// The esbuild plugin: grad/valueAndGrad bindings compiled in place, the
// bundle running the generated code with none of the runtime's tape, diagnostics as esbuild
// errors with locations, and rebuilds that see edits.

import { readFileSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { type BuildFailure, type BuildOptions, type Metafile, build, context } from "esbuild";
import { afterAll, describe, expect, it } from "vitest";
import { formatMessage } from "../../compiler/diagnostics/messages.js";
import { gradc } from "../../compiler/esbuild/index.js";
import { rewriteSource } from "../../compiler/plugin/rewrite.js";
import { compileSourceFile, createProject } from "../../compiler/program.js";
import { NEURON, ROOT, neuronExpected, removeTempProjects, tempProject, write } from "../cli/helpers.js";

afterAll(removeTempProjects);

type NeuronGrad = (w: number[], x: number[]) => [number, [number[], number[]]];

let counter = 0;
/** Builds, writes the output into `dir` and imports it. */
async function bundleAndImport<T>(dir: string, options: BuildOptions): Promise<{ mod: T; code: string; metafile: Metafile }> {
  const outfile = join(dir, `out-${counter++}.mjs`);
  const result = await build({ format: "esm", platform: "node", logLevel: "silent", metafile: true, plugins: [gradc()], outfile, ...options });
  const code = readFileSync(outfile, "utf8");
  return { mod: (await import(pathToFileURL(outfile).href)) as T, code, metafile: result.metafile! };
}

function expectSeedNeuron(neuronGrad: NeuronGrad): void {
  const [f, [dw, dx]] = neuronGrad([2, -3, -3], [-1, -2]);
  const want = neuronExpected();
  expect(f).toBeCloseTo(want.f, 12);
  dw.forEach((v, i) => expect(v).toBeCloseTo(want.dw[i]!, 12));
  dx.forEach((v, i) => expect(v).toBeCloseTo(want.dx[i]!, 12));
  expect([f.toFixed(4), ...dw.map((v) => v.toFixed(2)), ...dx.map((v) => v.toFixed(2))]).toEqual(["0.7311", "-0.20", "-0.39", "0.20", "0.39", "-0.59"]);
}

/** Files with code in the bundle (metafile.inputs also lists what was parsed, then shaken off). */
const bundled = (metafile: Metafile): string[] =>
  Object.values(metafile.outputs).flatMap((o) => Object.entries(o.inputs).filter(([, i]) => i.bytesInOutput > 0).map(([p]) => p));

/** Bundled files that belong to the uncompiled fallback: the tape, the interpreter, acorn. */
const tapeInputs = (metafile: Metafile): string[] =>
  bundled(metafile).filter((p) => /runtime\/(tape|interpret|grad|checkgrad)\.[jt]s$|acorn/.test(p));

describe("gradc() esbuild plugin", () => {
  it("bundles examples/neuron.ts into generated code that gives the seed's gradients, with no tape", async () => {
    const dir = tempProject();
    const { mod, code, metafile } = await bundleAndImport<{ neuronGrad: NeuronGrad }>(dir, {
      entryPoints: [join(ROOT, "examples/neuron.ts")],
      bundle: true,
      absWorkingDir: ROOT,
    });
    expectSeedNeuron(mod.neuronGrad);
    // Nothing of the runtime at all: the example needs only the generated code.
    expect(bundled(metafile)).toContain("examples/neuron.ts");
    expect(bundled(metafile).filter((p) => /runtime\/|acorn/.test(p))).toEqual([]);
    expect(code).toContain("$gradc$module");
    expect(code).not.toMatch(/acorn|Interpreter|parseFunction|backward\(/);
  });

  it("tree-shakes the runtime down to what the entry uses: tensors yes, tape and interpreter no", async () => {
    const dir = tempProject({
      "train.ts": `import { type Tensor, grad, mul, sum, tensor } from "gradc";

function loss(w: Tensor<[3]>, x: Tensor<[3]>): number {
  return sum(mul(w, x));
}

export const dloss = grad(loss);
export const w = tensor([1, 2, 3]);
export const dw = dloss(w, tensor([4, 5, 6]));
`,
    });
    const { mod, code, metafile } = await bundleAndImport<{ dw: { shape: number[]; data: Float64Array } }>(dir, {
      entryPoints: ["train.ts"],
      bundle: true,
      absWorkingDir: dir,
    });
    expect(mod.dw.shape).toEqual([3]);
    expect(Array.from(mod.dw.data)).toEqual([4, 5, 6]);
    expect(tapeInputs(metafile)).toEqual([]);
    expect(bundled(metafile).some((p) => /runtime\/tensor\.js$/.test(p))).toBe(true);
    expect(code).not.toContain("acorn");
  });

  it("works without bundling, for TypeScript and for JSDoc-typed JavaScript entries", async () => {
    const dir = tempProject({
      "model.ts": NEURON + `\nexport const atSeed = neuronGrad([2, -3, -3], [-1, -2]);\n`,
      "fxyz.js": `import { grad } from "gradc";

/**
 * @param {number} x
 * @param {number} y
 * @param {number} z
 * @returns {number}
 */
export function fxyz(x, y, z) {
  const q = x + y;
  return q * z;
}

export const dfxyz = grad(fxyz, { argnums: [0, 1, 2] });
`,
    });
    const ts = await bundleAndImport<{ neuronGrad: NeuronGrad; atSeed: unknown }>(dir, { entryPoints: ["model.ts"], absWorkingDir: dir });
    expectSeedNeuron(ts.mod.neuronGrad);
    // A call at top level, before the appended module in the file, already runs compiled code.
    expect(ts.mod.atSeed).toEqual(ts.mod.neuronGrad([2, -3, -3], [-1, -2]));
    expect(ts.code).not.toMatch(/^import /m);

    const js = await bundleAndImport<{ dfxyz: (x: number, y: number, z: number) => number[] }>(dir, { entryPoints: ["fxyz.js"], absWorkingDir: dir });
    expect(js.mod.dfxyz(-2, 5, -4)).toEqual([-4, -4, 3]);
    expect(js.code).not.toMatch(/^import /m);
  });

  it("reports gradc diagnostics as esbuild errors with their locations", async () => {
    const dir = tempProject({
      "model.ts": `import { grad } from "gradc";

export function f(x: number): number {
  let y = x;
  for (const k in { a: 1 }) y = y / 2;
  return y * x;
}

export const df = grad(f);
`,
    });
    const failure = await build({ entryPoints: ["model.ts"], absWorkingDir: dir, bundle: true, write: false, logLevel: "silent", plugins: [gradc()] }).then(
      () => undefined,
      (e: BuildFailure) => e,
    );
    expect(failure?.errors).toHaveLength(1);
    const [error] = failure!.errors;
    expect(error!.text).toBe(`GRADC1002: ${formatMessage("GRADC1002", ["for-in"])}`);
    expect(error!.pluginName).toBe("gradc");
    expect(error!.location).toMatchObject({ file: "model.ts", line: 5, column: 2, lineText: "  for (const k in { a: 1 }) y = y / 2;" });
    expect(error!.location!.length).toBeGreaterThan(0);
  });

  it("sees edits to the entry and to the files it imports on rebuild", async () => {
    const dir = tempProject({
      "model.ts": `export function f(x: number): number {\n  return x * x;\n}\n`,
      "entry.ts": `import { grad } from "gradc";\nimport { f } from "./model";\n\nexport const df = grad(f);\n`,
    });
    const ctx = await context({ entryPoints: ["entry.ts"], absWorkingDir: dir, bundle: true, format: "esm", platform: "node", write: false, logLevel: "silent", plugins: [gradc()] });
    try {
      const load = async (): Promise<(x: number) => number> => {
        const { outputFiles } = await ctx.rebuild();
        const file = join(dir, `rebuild-${counter++}.mjs`);
        writeFileSync(file, outputFiles![0]!.text);
        return ((await import(pathToFileURL(file).href)) as { df: (x: number) => number }).df;
      };
      expect((await load())(3)).toBe(6);
      write(dir, "model.ts", `export function f(x: number): number {\n  return x * x * x;\n}\n`);
      expect((await load())(3)).toBe(27);
      write(dir, "entry.ts", `import { grad } from "gradc";\nimport { f } from "./model";\n\nfunction g(x: number): number {\n  return 2 * f(x);\n}\n\nexport const df = grad(g);\n`);
      expect((await load())(3)).toBe(54);
    } finally {
      await ctx.dispose();
    }
  });
});

describe("every export form of a grad binding, in place", () => {
  it("export default grad(...), bindings exported later under other names, a namespace import", async () => {
    const dir = tempProject();
    const fixture = (name: string) => join(ROOT, "test/fixtures", name, "input.ts");
    const { mod: byDefault, code } = await bundleAndImport<{ default: (x: number, y: number) => [number, number] }>(dir, {
      entryPoints: [fixture("export-default")],
      bundle: true,
      absWorkingDir: ROOT,
    });
    expect(byDefault.default(2, 3)).toEqual([36, 8]);
    expect(code).not.toMatch(/Interpreter|backward\(/);
    const { mod: later } = await bundleAndImport<{ dloss: (w: number, x: number) => number; lossAndGrads: (w: number, x: number) => [number, [number, number]] }>(dir, {
      entryPoints: [fixture("export-later")],
      bundle: true,
      absWorkingDir: ROOT,
    });
    // d/dw tanh(wx)^2 = 2 tanh(wx) (1 - tanh(wx)^2) x, worked by hand.
    const t = Math.tanh(0.5 * 1.5);
    expect(later.dloss(0.5, 1.5)).toBeCloseTo(2 * t * (1 - t * t) * 1.5, 12);
    const [v, [dw, dx]] = later.lossAndGrads(0.5, 1.5);
    expect(v).toBeCloseTo(t * t, 12);
    expect(dw).toBeCloseTo(2 * t * (1 - t * t) * 1.5, 12);
    expect(dx).toBeCloseTo(2 * t * (1 - t * t) * 0.5, 12);
    const { mod: ns, code: nsCode } = await bundleAndImport<{ dmodel: (w: unknown, x: unknown) => { data: Float64Array } }>(dir, {
      entryPoints: [fixture("namespace-import")],
      bundle: true,
      absWorkingDir: ROOT,
    });
    const vec = (...xs: number[]) => ({ shape: [3], data: Float64Array.from(xs) });
    expect(ns.dmodel(vec(0.1, 0.2, 0.3), vec(1, 2, 3)).data).toHaveLength(3);
    expect(nsCode).toContain("$gradc$module");
  });
});

describe("rewriteSource", () => {
  it("keeps every line where it was and drops the grad import when nothing else uses it", () => {
    const source = `import { grad, valueAndGrad as vg, type Tensor } from "gradc";

export function f(x: number, y: number): number {
  return x * y;
}

export const df = grad(
  f,
  { argnums: [0, 1] },
);
const keep = vg;
export const fv = vg(f);
export function later() {
  return df(1, 2);
}
`;
    const dir = tempProject({ "m.ts": source });
    const path = resolve(dir, "m.ts");
    const { project, rootDir } = createProject([path], { cwd: dir });
    const sf = project.getSourceFileOrThrow(path);
    const { module } = compileSourceFile(sf, rootDir, { cwd: dir, emit: "js", module: "cjs" }, dir);
    const out = rewriteSource(sf, module!).code.split("\n");
    const lines = source.split("\n");
    // `grad` is gone from the import; `vg` stays, since `keep` uses it outside a compiled call.
    expect(out[0]).toBe(`import { valueAndGrad as vg, type Tensor } from "gradc";`);
    expect(out[6]).toBe("export const df = $gradc$module().df");
    expect(out.slice(7, 10)).toEqual(["", "", ";"]);
    expect(out[11]).toBe("export const fv = $gradc$module().fv;");
    for (const i of [1, 2, 3, 4, 5, 10, 12, 13, 14]) expect(out[i]).toBe(lines[i]);
    expect(out.slice(lines.length).join("\n")).toMatch(/^\/\/ gradc: the compiled df, fv, generated from this file's source.*\nfunction \$gradc\$module\(\) \{/m);
  });
});
