// mlp-mnist with a literal batch (`Tensor<[64, 784]>`) against the same model with a symbolic
// one (`<B extends number>(… x: Tensor<[B, 784]>)`, called with B = 64), on the JavaScript and
// the WebAssembly backend: the symbolic form must cost what the literal one costs (within 5 %).
// Both modules live in one process; their timed batches alternate (literal first on even
// rounds, symbolic first on odd ones), so both see the same machine load, and each round gives
// one ratio symbolic / literal. Timed by the process's CPU time by default: on a shared
// machine wall time mostly measures waiting for a core.
//
//   node bench/run.mjs mlp-batch [--rounds 21] [--batch-ms 40] [--batch 64] [--hidden 128]
//                                [--backend js,wasm] [--clock cpu|wall]

import { mkdirSync, writeFileSync } from "node:fs";
import path from "node:path";
import { parseArgs } from "node:util";
import { inputsFor, sizedMlpMnist, tolerance, type MlpDims } from "./cases.js";
import { fromGradc } from "./engines/compiled.js";
import { compileToFile, importCompiled, type Backend } from "./engines/gradc.js";
import { ROOT } from "./lib/build.js";
import { compareResults } from "./lib/compare.js";
import { fmtErr, fmtTime } from "./lib/report.js";
import { calibrate, median, quantile, setClock, timeBatch, warmUp, type Clock } from "./lib/timing.js";
import { cloneTree } from "./lib/tree.js";
import { writeMlpSource } from "./scaling/model.js";

const { values } = parseArgs({
  options: {
    rounds: { type: "string", default: "21" },
    "batch-ms": { type: "string", default: "40" },
    batch: { type: "string", default: "64" },
    hidden: { type: "string", default: "128" },
    backend: { type: "string", default: "js,wasm" },
    clock: { type: "string", default: "cpu" },
  },
});
const ROUNDS = Number(values.rounds);
const BATCH_MS = Number(values["batch-ms"]);
const clock = values.clock as Clock;
if (clock !== "cpu" && clock !== "wall") throw new Error(`--clock must be cpu or wall, got '${values.clock}'`);
setClock(clock);
const backends = values.backend.split(",").map((b) => b.trim()) as Backend[];
for (const b of backends) if (b !== "js" && b !== "wasm") throw new Error(`--backend takes js and/or wasm, got '${b}'`);

type Step = () => unknown;

/** The compiled `lossAndGrad` of the model at `dims` on `backend`, called on the bench's inputs. */
async function build(dims: MlpDims, backend: Backend): Promise<{ call: Step; check: () => ReturnType<typeof fromGradc> }> {
  const source = writeMlpSource(dims);
  const model = sizedMlpMnist(dims, source);
  const compiled = await compileToFile(source, `mlp-batch-${dims.symbolic ? "symbolic" : "literal"}-${backend}.mjs`, false, backend);
  const { exports } = await importCompiled(compiled);
  await (exports["ready"] as Promise<void> | undefined);
  const f = exports["lossAndGrad"] as (p: unknown, x: unknown, y: unknown) => unknown;
  const inputs = inputsFor(model);
  const [p, x, y] = inputs.map((a) => cloneTree(a));
  let out: unknown;
  const call = () => (out = f(p, x, y));
  return { call, check: () => (call(), fromGradc(model, inputs, out)) };
}

interface Row {
  backend: Backend;
  literalMs: number;
  symbolicMs: number;
  ratio: number;
  ratioP25: number;
  ratioP75: number;
  maxRelErr: number;
}

const dims = { batch: Number(values.batch), hidden: Number(values.hidden) };
const rows: Row[] = [];
console.log(`mlp-mnist (f32, batch ${dims.batch}, 784→${dims.hidden}→10): literal batch against <B extends number> called with ${dims.batch}, ${ROUNDS} alternating rounds of ≥ ${BATCH_MS} ms, ${clock} clock`);
for (const backend of backends) {
  const literal = await build({ ...dims, symbolic: false }, backend);
  const symbolic = await build({ ...dims, symbolic: true }, backend);
  const { maxRelErr } = compareResults(literal.check(), symbolic.check());
  warmUp(literal.call, 200);
  warmUp(symbolic.call, 200);
  const nl = calibrate(literal.call, BATCH_MS);
  const ns = calibrate(symbolic.call, BATCH_MS);
  const lit: number[] = [];
  const sym: number[] = [];
  const ratios: number[] = [];
  for (let r = 0; r < ROUNDS; r++) {
    let l: number, s: number;
    if (r % 2 === 0) {
      l = timeBatch(literal.call, nl) / nl;
      s = timeBatch(symbolic.call, ns) / ns;
    } else {
      s = timeBatch(symbolic.call, ns) / ns;
      l = timeBatch(literal.call, nl) / nl;
    }
    lit.push(l);
    sym.push(s);
    ratios.push(s / l);
  }
  const row = { backend, literalMs: median(lit), symbolicMs: median(sym), ratio: median(ratios), ratioP25: quantile(ratios, 0.25), ratioP75: quantile(ratios, 0.75), maxRelErr };
  rows.push(row);
  console.log(`  ${backend.padEnd(5)} literal ${fmtTime(row.literalMs)}  symbolic ${fmtTime(row.symbolicMs)}  ratio ${row.ratio.toFixed(3)} (${row.ratioP25.toFixed(3)}–${row.ratioP75.toFixed(3)})`);
}

const lines = [
  `| backend | literal batch ${dims.batch} | symbolic batch B = ${dims.batch} | symbolic ÷ literal: median of ${ROUNDS} paired rounds (25–75 %) | within 5 % | results differ by |`,
  "| --- | --- | --- | --- | --- | --- |",
  ...rows.map((r) =>
    `| ${r.backend} | ${fmtTime(r.literalMs)} | ${fmtTime(r.symbolicMs)} | ${r.ratio.toFixed(3)}× (${r.ratioP25.toFixed(3)}–${r.ratioP75.toFixed(3)}) | ${r.ratio <= 1.05 ? "✓" : "✗"} | ${fmtErr(r.maxRelErr)}${r.maxRelErr > tolerance("f32") ? " ⚠" : ""} |`,
  ),
];
const markdown = lines.join("\n");
console.log(`\n${markdown}\n`);
const dir = path.join(ROOT, "bench", "results");
mkdirSync(dir, { recursive: true });
writeFileSync(path.join(dir, "mlp-batch-latest.json"), JSON.stringify({ date: new Date().toISOString(), dims, rounds: ROUNDS, batchMs: BATCH_MS, clock, rows, markdown }, null, 2) + "\n");
console.log("wrote bench/results/mlp-batch-latest.json");
// The compiled modules may keep wasm workers alive.
process.exit(0);
