// What `npm run bench:scaling` and bench/mlp-batch.ts rest on: the sized hand-written reference
// (checked against bench/hand/mlp-mnist.ts, an independent implementation, and against central
// finite differences of a naive forward at a size that is no multiple of 4), the generated model
// sources (literal and symbolic batch), and the sized inputs.

import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { pathToFileURL } from "node:url";
import { describe, expect, it } from "vitest";
import { awayFromKink, CASES, inputsFor, sizedMlpMnist } from "../../bench/cases.js";
import { createMlpMnist } from "../../bench/hand/mlp-mnist.js";
import { Rng } from "../../bench/lib/prng.js";
import type { TensorValue, Tree } from "../../bench/lib/tree.js";
import { createSizedMlp } from "../../bench/scaling/hand-mlp.js";
import { mlpSource } from "../../bench/scaling/model.js";
import { compile } from "../../compiler/index.js";

type P = Record<"W1" | "b1" | "W2" | "b2", TensorValue>;
const f64 = (t: TensorValue) => Float64Array.from(t.data);

function relErr(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let scale = 0, err = 0;
  for (let i = 0; i < b.length; i++) {
    scale = Math.max(scale, Math.abs(b[i]!));
    err = Math.max(err, Math.abs(a[i]! - b[i]!));
  }
  return err / scale;
}

describe("the sized hand-written mlp-mnist", () => {
  it("equals bench/hand/mlp-mnist.ts at batch 64, hidden 128", () => {
    const [p, x, y] = inputsFor(CASES["mlp-mnist"]) as [P, TensorValue, TensorValue];
    const ref = createMlpMnist("f64");
    const sized = createSizedMlp(64, 128, "f64");
    const args = [f64(p.W1), f64(p.b1), f64(p.W2), f64(p.b2), f64(x), f64(y)] as const;
    const v1 = ref.lossAndGrad(...args);
    const v2 = sized.lossAndGrad(...args);
    expect(Math.abs(v2 - v1) / Math.abs(v1)).toBeLessThan(1e-13);
    for (const k of ["dW1", "db1", "dW2", "db2"] as const) expect(relErr(sized[k], ref[k]), k).toBeLessThan(1e-12);
  });

  it("matches central finite differences at batch 6, hidden 10 (tiles with edges)", () => {
    const B = 6, H = 10, D = 784, C = 10;
    const dims = { batch: B, hidden: H };
    const [p, xIn, yIn] = inputsFor(sizedMlpMnist(dims, "unused.ts")) as [P, TensorValue, TensorValue];
    const params = { W1: f64(p.W1), b1: f64(p.b1), W2: f64(p.W2), b2: f64(p.b2) };
    const x = f64(xIn), y = f64(yIn);
    const naive = () => {
      let total = 0;
      for (let b = 0; b < B; b++) {
        const hidden = Float64Array.from(params.b1);
        for (let k = 0; k < D; k++) for (let j = 0; j < H; j++) hidden[j] += x[b * D + k]! * params.W1[k * H + j]!;
        const logits = Float64Array.from(params.b2);
        for (let j = 0; j < H; j++) for (let c = 0; c < C; c++) logits[c] += Math.max(hidden[j]!, 0) * params.W2[j * C + c]!;
        let sumExp = 0, target = 0;
        for (let c = 0; c < C; c++) {
          sumExp += Math.exp(logits[c]!);
          target += y[b * C + c]! * logits[c]!;
        }
        total += Math.log(sumExp) - target;
      }
      return total / B;
    };
    const m = createSizedMlp(B, H, "f64");
    expect(Math.abs(m.lossAndGrad(params.W1, params.b1, params.W2, params.b2, x, y) - naive())).toBeLessThan(1e-12);
    const grads = { W1: m.dW1, b1: m.db1, W2: m.dW2, b2: m.db2 };
    const rng = new Rng(3);
    for (const name of ["W1", "b1", "W2", "b2"] as const) {
      const v = params[name];
      const picks = name === "W1" ? Array.from({ length: 24 }, () => rng.int(v.length)) : v.map((_, i) => i);
      for (const i of picks) {
        const x0 = v[i]!;
        const h = 1e-6;
        v[i] = x0 + h;
        const up = naive();
        v[i] = x0 - h;
        const down = naive();
        v[i] = x0;
        const fd = (up - down) / (2 * h);
        expect(Math.abs(grads[name][i]! - fd), `d${name}[${i}]: ${grads[name][i]} vs ${fd}`).toBeLessThan(1e-7 + 1e-5 * Math.abs(fd));
      }
    }
  });
});

describe("the sized inputs and sources", () => {
  it("give the bench's own inputs at 64 × 128 and the requested shapes elsewhere", () => {
    expect(inputsFor(sizedMlpMnist({ batch: 64, hidden: 128 }, "x.ts"))).toEqual(inputsFor(CASES["mlp-mnist"]));
    const [p, x, y] = inputsFor(sizedMlpMnist({ batch: 8, hidden: 512 }, "x.ts")) as [P, TensorValue, TensorValue];
    expect([p.W1.shape, p.b1.shape, p.W2.shape, p.b2.shape, x.shape, y.shape]).toEqual([[784, 512], [512], [512, 10], [10], [8, 784], [8, 10]]);
    expect(Array.from(y.data).reduce((a, b) => a + b, 0)).toBe(8); // one-hot rows
  });

  it("keep every pre-activation away from ReLU's kink, moving only the hidden biases", () => {
    const W1 = new Float32Array(784 * 2);
    W1[0] = 1; // unit 0 sees x[0]
    const x = new Float32Array(784);
    x[0] = -0.25;
    const inputs: Tree[] = [{ W1: { shape: [784, 2], data: W1 }, b1: { shape: [2], data: Float32Array.of(0.25, 0.5) } }, { shape: [1, 784], data: x }];
    awayFromKink(inputs, 1, 2);
    const b1 = (inputs[0] as { b1: TensorValue }).b1.data;
    // z0 = −0.25 + 0.25 = 0: its bias moves by 3e-4; z1 = 0.5 stays.
    expect(b1[0]).toBeCloseTo(0.25 + 3e-4, 7);
    expect(b1[1]).toBe(0.5);
    expect(W1[0]).toBe(1);
    expect(x[0]).toBe(-0.25);
  });

  it("replace every size of bench/models/mlp-mnist.ts, literal or symbolic", () => {
    const literal = mlpSource({ batch: 512, hidden: 2048 });
    expect(literal).toContain('W1: Tensor<[784, 2048], "f32">');
    expect(literal).toContain('x: Tensor<[512, 784], "f32">');
    expect(literal).not.toMatch(/Tensor<\[[^\]]*\b(64|128)\b/); // the comments keep the original sizes
    const symbolic = mlpSource({ batch: 512, hidden: 128, symbolic: true });
    expect(symbolic).toContain("export function mnistLoss<B extends number>(");
    expect(symbolic).toContain('y: Tensor<[B, 10], "f32">');
    expect(() => mlpSource({ batch: 8, hidden: 128 }, "export function mnistLoss() {}")).toThrow(/changed: expected/);
    expect(() => mlpSource({ batch: 0, hidden: 128 })).toThrow(/positive integer/);
  });

  it("compile, literal and symbolic, to what the sized hand computes", { timeout: 240_000 }, async () => {
    const dims = { batch: 6, hidden: 12 };
    const dir = mkdtempSync(path.join(tmpdir(), "gradc-scaling-test-"));
    const inputs = inputsFor(sizedMlpMnist(dims, "x.ts"));
    const [p, x, y] = inputs as [P, TensorValue, TensorValue];
    const hand = createSizedMlp(dims.batch, dims.hidden, "f32");
    const v = hand.lossAndGrad(p.W1.data, p.b1.data, p.W2.data, p.b2.data, x.data, y.data);
    for (const symbolic of [false, true]) {
      const file = path.join(dir, `mlp-${symbolic ? "symbolic" : "literal"}.ts`);
      writeFileSync(file, mlpSource({ ...dims, symbolic }));
      const r = compile([file], { emit: "js", module: "esm" });
      expect(r.diagnostics).toEqual([]);
      const out = path.join(dir, `mlp-${symbolic ? "symbolic" : "literal"}.mjs`);
      writeFileSync(out, r.modules[0]!.code);
      const mod = (await import(pathToFileURL(out).href)) as { lossAndGrad: (...a: unknown[]) => [number, [P]]; ready?: Promise<void> };
      await mod.ready;
      const [value, [g]] = mod.lossAndGrad(p, x, y);
      expect(Math.abs(value - v) / Math.abs(v)).toBeLessThan(1e-5);
      expect(relErr(g.W1.data, hand.dW1)).toBeLessThan(1e-5);
      expect(relErr(g.b1.data, hand.db1)).toBeLessThan(1e-5);
      expect(relErr(g.W2.data, hand.dW2)).toBeLessThan(1e-5);
      expect(relErr(g.b2.data, hand.db2)).toBeLessThan(1e-5);
    }
  });
});
