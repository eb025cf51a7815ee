// Threads in generated modules: the same model compiled with `threads` 1, 2 and 3 (and "auto"),
// as an ES module and as CommonJS, run in a child Node process, gives bit-identical values and
// gradients; the threaded modules start their workers (2 and 1 of them), and the process exits
// on its own with the workers still there (they are unref'd). Also the CLI's --threads flag and
// the esbuild plugin's `threads` option.

import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { build } from "esbuild";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { main } from "../../compiler/cli/main.js";
import { gradc } from "../../compiler/esbuild/index.js";
import { compile, type CompileOptions } from "../../compiler/program.js";
import { removeTempProjects, tempProject } from "../cli/helpers.js";

vi.mock("gradc", () => import("../../runtime/index.js"));

const SOURCE = `import { add, matmul, relu, sum, square, valueAndGrad, type Tensor } from "gradc";
export function mlp<B extends number>(x: Tensor<[B, 200], "f32">, w1: Tensor<[200, 96], "f32">, b1: Tensor<[96], "f32">, w2: Tensor<[96, 40], "f32">): number {
  return sum(square(matmul(relu(add(matmul(x, w1), b1)), w2)));
}
export const gMlp = valueAndGrad(mlp, { argnums: [0, 1, 2, 3] });
export function wide(x: Tensor<[52, 70]>, w: Tensor<[70, 90]>): number {
  return sum(square(relu(matmul(x, w))));
}
export const gWide = valueAndGrad(wide, { argnums: [0, 1] });
`;

/** Runs the child on generated modules: per file name, the result digests seen and the workers started. */
function runChild(files: string[]): Record<string, { results: string[]; workers: number }> {
  const child = spawnSync(process.execPath, [join(dir, "child.mjs"), ...files], { encoding: "utf8", timeout: 240_000 });
  expect(child.error).toBeUndefined();
  expect(child.signal).toBeNull();
  expect(child.stderr).toBe("");
  expect(child.status).toBe(0);
  return JSON.parse(child.stdout) as Record<string, { results: string[]; workers: number }>;
}

/** The child: loads every module, calls both functions until the workers have surely started, prints digests. */
const CHILD = `
import { createHash } from "node:crypto";
import { createRequire } from "node:module";
const require = createRequire(import.meta.url);
// Count the workers the generated code starts, through the door it uses.
let workers = 0;
const builtin = process.getBuiltinModule;
process.getBuiltinModule = (name) => {
  const mod = builtin(name);
  if (name !== "node:worker_threads") return mod;
  return { ...mod, Worker: class extends mod.Worker { constructor(...a) { super(...a); workers++; } } };
};
let seed = 11;
const next = () => ((seed = (seed * 16807) % 2147483647) / 2147483647) * 2 - 1;
const tensor = (shape, f32) => {
  const n = shape.reduce((a, b) => a * b, 1);
  return { shape, data: f32 ? Float32Array.from({ length: n }, next) : Float64Array.from({ length: n }, next) };
};
const mlpArgs = [tensor([72, 200], true), tensor([200, 96], true), tensor([96], true), tensor([96, 40], true)];
const wideArgs = [tensor([52, 70]), tensor([70, 90])];
const digest = (v, h = createHash("sha256")) => {
  if (typeof v === "number") h.update(new Uint8Array(Float64Array.of(v).buffer));
  else if (Array.isArray(v)) v.forEach((x) => digest(x, h));
  else if (v && v.data) h.update(new Uint8Array(v.data.buffer, v.data.byteOffset, v.data.byteLength));
  else if (v && typeof v === "object") Object.values(v).forEach((x) => digest(x, h));
  return h;
};
const out = {};
for (const file of process.argv.slice(2)) {
  const before = workers;
  const m = file.endsWith(".cjs") ? require(file) : await import(file);
  const results = new Set();
  const end = Date.now() + 1500;
  do {
    results.add(digest([m.gMlp(...mlpArgs), m.gWide(...wideArgs)]).digest("hex"));
    await new Promise((r) => setTimeout(r, 5));
  } while (Date.now() < end);
  out[file.replace(/^.*\\//, "")] = { results: [...results], workers: workers - before };
}
console.log(JSON.stringify(out));
`;

let dir: string;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "gradc-wasm-threads-compiled-"));
  writeFileSync(join(dir, "model.ts"), SOURCE);
  writeFileSync(join(dir, "child.mjs"), CHILD);
});

/** The generated module text for these options (every product a kernel, every kernel call split). */
function generated(options: CompileOptions): string {
  const r = compile([join(dir, "model.ts")], { emit: "js", verify: true, wasmMinWork: 1, threadMinWork: 1, ...options });
  expect(r.diagnostics).toEqual([]);
  return r.modules[0]!.code;
}

describe("threads in generated modules", () => {
  it("threads 1, 2, 3 and auto, ESM and CommonJS: bit-identical results; workers started; the process exits", { timeout: 300_000 }, () => {
    const files: string[] = [];
    for (const threads of [1, 2, 3, "auto"] as const)
      for (const module of ["esm", "cjs"] as const) {
        const file = join(dir, `model-${threads}.grad.${module === "esm" ? "mjs" : "cjs"}`);
        writeFileSync(file, generated({ threads, module }));
        files.push(file);
      }
    const out = runChild(files);
    const all = new Set(Object.values(out).flatMap((r) => r.results));
    expect(all.size).toBe(1);
    expect(out["model-1.grad.mjs"]!.workers).toBe(0);
    expect(out["model-2.grad.mjs"]!.workers).toBe(1);
    expect(out["model-3.grad.cjs"]!.workers).toBe(2);
  });

  it("threads 1 writes no workers and no shared memory; the default does", () => {
    const one = generated({ threads: 1 });
    expect(one).not.toMatch(/Worker|SharedArrayBuffer|shared: true/);
    const auto = generated({});
    expect(auto).toContain('getBuiltinModule("node:worker_threads")');
    expect(auto).toContain("shared: true");
    expect(auto).toContain("$gradc_wasm.par(kernel, m, m * n * k, [c, a, b, m, n, k, 0]);");
    // The JavaScript backend has no kernels, so no threads either.
    expect(generated({ backend: "js" })).not.toMatch(/WebAssembly|Worker/);
  });
});

describe("gradc --threads", () => {
  const run = async (args: string[]) => {
    let stdout = "";
    let stderr = "";
    const io = { cwd: dir, pretty: false, color: false, stdout: { write: (s: string) => (stdout += s) }, stderr: { write: (s: string) => (stderr += s) } };
    const code = await main(args, io);
    return { code, stdout, stderr };
  };

  it("writes the module for the count asked for", async () => {
    const one = await run(["model.ts", "--emit", "js", "--threads", "1"]);
    expect(one.stderr).toBe("");
    expect(one.code).toBe(0);
    const text1 = readFileSync(join(dir, "model.grad.js"), "utf8");
    expect(text1).not.toContain("SharedArrayBuffer");
    expect((await run(["model.ts", "--emit", "js", "--threads", "3"])).code).toBe(0);
    const text3 = readFileSync(join(dir, "model.grad.js"), "utf8");
    expect(text3).toContain("const wanted = 3;");
    expect((await run(["model.ts", "--emit", "js", "--threads", "auto"])).code).toBe(0);
    expect(readFileSync(join(dir, "model.grad.js"), "utf8")).toContain("const wanted = 0;");
  });

  it("refuses a count that is not a positive whole number", async () => {
    for (const bad of ["0", "-2", "1.5", "many", "999"]) {
      const r = await run(["model.ts", "--threads", bad]);
      expect(r.code, bad).toBe(2);
      expect(r.stderr).toMatch(/--threads takes a whole number from 1 to 256, or auto/);
    }
  });
});

describe("the esbuild plugin's threads option", () => {
  afterAll(removeTempProjects);

  it("gradc({ threads: 1 }) bundles no workers; gradc({ threads: 2 }) starts one; the results are the same bytes", { timeout: 300_000 }, async () => {
    // The default thresholds: 72·200·96 multiply-adds run as a kernel and are split.
    const project = tempProject({ "model.ts": SOURCE, "entry.ts": `export * from "./model.js";\n` });
    const bundles: string[] = [];
    for (const threads of [1, 2] as const) {
      const outfile = join(project, `bundle-${threads}.mjs`);
      await build({
        entryPoints: [join(project, "entry.ts")], bundle: true, format: "esm", platform: "node", logLevel: "silent",
        absWorkingDir: project, outfile, plugins: [gradc({ threads })],
      });
      bundles.push(outfile);
    }
    const [one, two] = bundles.map((f) => readFileSync(f, "utf8")) as [string, string];
    expect(one).toContain("$gradc_wasm");
    expect(one).not.toMatch(/SharedArrayBuffer|node:worker_threads/);
    expect(two).toContain("const wanted = 2;");
    const out = runChild(bundles);
    expect(new Set(Object.values(out).flatMap((r) => r.results)).size).toBe(1);
    expect(out["bundle-1.mjs"]!.workers).toBe(0);
    expect(out["bundle-2.mjs"]!.workers).toBe(1);
  });
});
