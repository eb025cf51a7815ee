// The project every bundler test builds: a model with a helper in another module, tensors and
// a loop, an entry that initializes weights with eager ops, and what to compare its gradients
// against (the uncompiled model on the runtime's tape, run in the test itself).

import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { expect } from "vitest";
import { tempProject } from "../cli/helpers.js";

export const HELPERS = `import { type Tensor, add, matmul, tanh } from "gradc";

/** One dense layer. */
export function layer(w: Tensor<[3, 4]>, b: Tensor<[4]>, x: Tensor<[2, 3]>): Tensor<[2, 4]> {
  return tanh(add(matmul(x, w), b));
}
`;

/** Line 10 is the loss's first statement (the line a bad argument's stack frame maps to is 7, the signature). */
export const MODEL = `import { type Tensor, at, mean, square, sub, valueAndGrad } from "gradc";
import { layer } from "./helpers";

// A two-layer fit of y, with a decaying sum over a loop:
// loss = Σ_t k^t · mean((layer(x) − y)²) + b[t]²
// (the line numbers matter: the source map tests look for them)
export function loss(w: Tensor<[3, 4]>, b: Tensor<[4]>, x: Tensor<[2, 3]>, y: Tensor<[2, 4]>, k: number): number {
  const h = layer(w, b, x);
  const err = mean(square(sub(h, y)));
  let acc = 0;
  for (let t = 0; t < 4; t++) {
    acc = acc * k + err + at(b, t) * at(b, t);
  }
  return acc;
}

export const lossGrad = valueAndGrad(loss, { argnums: [0, 1, 4], scope: { layer } });
`;

/** The line of MODEL where the model function starts: argument checks map there. */
export const MODEL_SIGNATURE_LINE = 7;

export const ENTRY = `import { mul, randn, tensor } from "gradc";
import { lossGrad } from "./model";

/** Weights initialized with eager ops, outside any compiled model. */
export const w = mul(randn([3, 4], 7), 0.5);
export const b = tensor([0.1, -0.2, 0.3, 0.05]);
export const x = tensor([[1, 2, -1], [0.5, -0.3, 2]]);
export const y = tensor([[0.2, -0.1, 0.4, 0.3], [-0.5, 0.6, 0.1, 0]]);

export function run() {
  return lossGrad(w, b, x, y, 0.7);
}

/** A call with a wrongly shaped argument: throws from inside the compiled code. */
export function bad() {
  return lossGrad(tensor([1, 2, 3]) as never, b, x, y, 0.7);
}
`;

/** A fresh folder holding the project (gradc installed as a package), with `extra` files. */
export function bundlerProject(extra: Record<string, string> = {}): string {
  return tempProject({
    "package.json": JSON.stringify({ name: "app", private: true, type: "module" }),
    "tsconfig.json": JSON.stringify({ compilerOptions: { strict: true, target: "ES2022", module: "ESNext", moduleResolution: "Bundler", skipLibCheck: true, noEmit: true } }),
    "helpers.ts": HELPERS,
    "model.ts": MODEL,
    "train.ts": ENTRY,
    ...extra,
  });
}

type Grads = [number, [{ shape: number[]; data: Float64Array }, { shape: number[]; data: Float64Array }, number]];
interface Entry {
  run(): Grads;
  bad(): unknown;
  w: { data: Float64Array };
}

/** The bundle's gradients equal the tape's on the same inputs (the uncompiled model, run here). */
export async function expectTapeGradients(bundle: Entry, dir: string): Promise<void> {
  const model = (await import(join(dir, "model.ts"))) as { loss: (...a: unknown[]) => number };
  const { valueAndGrad } = (await import(join(dir, "node_modules/gradc/dist/runtime/index.js"))) as typeof import("../../runtime/index.js");
  const { layer } = (await import(join(dir, "helpers.ts"))) as { layer: unknown };
  const entry = (await import(join(dir, "train.ts"))) as { w: unknown; b: unknown; x: unknown; y: unknown };
  const tape = valueAndGrad(model.loss, { argnums: [0, 1, 4], scope: { layer } });
  const [want, [dw, db, dk]] = tape(entry.w, entry.b, entry.x, entry.y, 0.7) as Grads;
  // The bundle's own weights are the same eager randn: same seed, same values.
  expect(Array.from(bundle.w.data)).toEqual(Array.from((entry.w as { data: Float64Array }).data));
  const [got, [gw, gb, gk]] = bundle.run();
  expect(got).toBeCloseTo(want, 12);
  expect(gw.shape).toEqual([3, 4]);
  gw.data.forEach((v, i) => expect(v).toBeCloseTo(dw.data[i]!, 12));
  gb.data.forEach((v, i) => expect(v).toBeCloseTo(db.data[i]!, 12));
  expect(gk).toBeCloseTo(dk, 12);
  expect(Math.abs(dk)).toBeGreaterThan(0);
}

/** Texts only the tape, the fallback interpreter, acorn or TypeScript hold (they survive minification). */
const FALLBACK_MARKERS = [
  "a differentiated value reached a JavaScript operator", // runtime/tape.ts
  "Uncompiled, grad reads only the function's own source", // runtime/interpret-core.ts
  "ecmaVersion", // acorn
  "createSourceFile", // TypeScript
];

/**
 * The bundle holds the generated code (its argument checks) and neither the tape, the
 * interpreter, acorn nor TypeScript: none of their modules, none of their texts.
 */
export function expectNoTape(code: string, modules: readonly string[]): void {
  expect(code).toContain(`"a f64 tensor of shape [3, 4]"`); // the generated argument check
  expect(modules.some((m) => m.endsWith("model.ts"))).toBe(true);
  const fallback = modules.filter((m) => /runtime[\\/](tape|interpret(-\w+)?|grad|checkgrad|refusal)\.[jt]s$|[\\/]acorn[\\/]|[\\/]typescript[\\/]|ts-morph/.test(m));
  expect(fallback).toEqual([]);
  for (const marker of FALLBACK_MARKERS) expect(code).not.toContain(marker);
}

/** Runs the bundle's `bad()` under `node --enable-source-maps`: the stack, for source map checks. */
export function badCallStack(bundle: string, cwd: string): string {
  const script = `import(${JSON.stringify(pathToFileURL(bundle).href)}).then((m) => { try { (m.bad ?? m.default.bad)(); } catch (e) { console.log(e.stack); } });`;
  const r = spawnSync(process.execPath, ["--enable-source-maps", "-e", script], { cwd, encoding: "utf8", timeout: 60_000 });
  expect(r.stderr).toBe("");
  return r.stdout;
}

/**
 * The stack of a bad call lands on the model: the compiled function's frame at model.ts, on the
 * model function's line (a minified bundle keeps its own name for the frame), and the caller's
 * frame at train.ts, line 16.
 */
export function expectStackAtModel(stack: string): void {
  expect(stack).toContain("lossGrad: argument w must be a f64 tensor of shape [3, 4]");
  expect(stack).toMatch(new RegExp(`at \\S+ \\(\\S*model\\.ts:${MODEL_SIGNATURE_LINE}:\\d+\\)`));
  expect(stack).toMatch(/at \S+ \(\S*train\.ts:16:\d+\)/);
}

/** The text of a file. */
export const read = (path: string): string => readFileSync(path, "utf8");
