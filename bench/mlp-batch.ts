// mlp-mnist with a literal batch (`Tensor<[64, 784]>`) against the same model with a symbolic
// one (`<B extends number>(… x: Tensor<[B, 784]>)`, called with B = 64), on the JavaScript
// and the WebAssembly backend: the symbolic form must cost what the literal one costs.
// CPU time of the process per call (median of rounds, the two forms' rounds alternating),
// since the machine is shared.
//
//   npx tsx bench/mlp-batch.ts [--rounds 15] [--calls 40]

import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { compile } from "../compiler/index.js";

const ROOT = resolve(import.meta.dirname, "..");
const arg = (name: string, fallback: number): number => {
  const at = process.argv.indexOf(`--${name}`);
  return at < 0 ? fallback : Number(process.argv[at + 1]);
};
const ROUNDS = arg("rounds", 15);
const CALLS = arg("calls", 40);

const literal = readFileSync(join(ROOT, "bench/models/mlp-mnist.ts"), "utf8");
const symbolic = literal
  .replace("export function mnistLoss(", "export function mnistLoss<B extends number>(")
  .replace('x: Tensor<[64, 784], "f32">', 'x: Tensor<[B, 784], "f32">')
  .replace('y: Tensor<[64, 10], "f32">', 'y: Tensor<[B, 10], "f32">');
if (symbolic === literal || !symbolic.includes("[B, 784]")) throw new Error("bench/models/mlp-mnist.ts changed: cannot make its batch symbolic");

const dir = join(tmpdir(), "gradc-bench-mlp-batch");
mkdirSync(dir, { recursive: true });

type Step = (p: unknown, x: unknown, y: unknown) => unknown;
async function build(name: string, source: string, backend: "js" | "wasm"): Promise<Step> {
  const file = join(dir, `${name}.ts`);
  writeFileSync(file, source);
  const r = compile([file], { emit: "js", module: "esm", backend });
  if (r.diagnostics.length > 0) throw new Error(r.diagnostics.map((d) => d.message).join("; "));
  const out = join(dir, `${name}-${backend}.mjs`);
  writeFileSync(out, r.modules[0]!.code);
  const mod = (await import(pathToFileURL(out).href)) as { lossAndGrad: Step; ready?: Promise<void> };
  await mod.ready;
  return mod.lossAndGrad;
}

let seed = 1;
const rand = (): number => ((seed = (seed * 16807) % 2147483647) / 2147483647 - 0.5) * 0.2;
const t = (shape: number[]) => ({ shape, data: Float32Array.from({ length: shape.reduce((a, b) => a * b, 1) }, rand) });
const params = { W1: t([784, 128]), b1: t([128]), W2: t([128, 10]), b2: t([10]) };
const x = t([64, 784]);
const y = { shape: [64, 10], data: Float32Array.from({ length: 640 }, (_v, i) => (i % 10 === Math.floor(i / 10) % 10 ? 1 : 0)) };

/**
 * CPU ms per call of each step, median of rounds; the steps' rounds alternate, so that load
 * from other processes on the machine falls on both alike.
 */
function cpuMsPerCall(steps: readonly Step[]): number[] {
  for (const step of steps) for (let i = 0; i < CALLS; i++) step(params, x, y);
  const rounds: number[][] = steps.map(() => []);
  for (let r = 0; r < ROUNDS; r++) {
    steps.forEach((step, k) => {
      const c0 = process.cpuUsage();
      for (let i = 0; i < CALLS; i++) step(params, x, y);
      const c = process.cpuUsage(c0);
      rounds[k]!.push((c.user + c.system) / 1000 / CALLS);
    });
  }
  return rounds.map((rs) => rs.sort((a, b) => a - b)[Math.floor(rs.length / 2)]!);
}

console.log(`mlp-mnist (f32, batch 64, 784→128→10), CPU ms per call, median of ${ROUNDS} rounds of ${CALLS} calls`);
console.log("| backend | literal batch 64 | symbolic batch B = 64 | symbolic / literal |");
console.log("|---|---|---|---|");
for (const backend of ["js", "wasm"] as const) {
  const [lit, sym] = cpuMsPerCall([await build("literal", literal, backend), await build("symbolic", symbolic, backend)]) as [number, number];
  console.log(`| ${backend} | ${lit.toFixed(3)} | ${sym.toFixed(3)} | ${(sym / lit).toFixed(2)}× |`);
}
