// The benchmark's reference engine must be right before anything is compared with it: each
// hand-written model is checked against an independent, naive forward implementation here
// (value) and against central finite differences of that naive forward (every gradient).
// Also pins the worked values of the two circuits.

import { describe, expect, it } from "vitest";
import { CASES, inputsFor } from "../../bench/cases.js";
import { hand } from "../../bench/engines/hand.js";
import { createFxyz } from "../../bench/hand/fxyz.js";
import { B, C, D, H, createMlpMnist } from "../../bench/hand/mlp-mnist.js";
import { createMlpTiny } from "../../bench/hand/mlp-tiny.js";
import { createNeuron } from "../../bench/hand/neuron.js";
import { createPendulum } from "../../bench/hand/pendulum.js";
import { Rng } from "../../bench/lib/prng.js";
import type { TensorValue } from "../../bench/lib/tree.js";

/** Central difference of `f` with respect to `x[i]`, restoring `x[i]` afterwards. */
function centralDiff(f: () => number, x: Float64Array, i: number, h = 1e-6): number {
  const x0 = x[i]!;
  const step = h * Math.max(1, Math.abs(x0));
  x[i] = x0 + step;
  const up = f();
  x[i] = x0 - step;
  const down = f();
  x[i] = x0;
  return (up - down) / (2 * step);
}

function expectClose(actual: number, expected: number, rel: number, what: string): void {
  const err = Math.abs(actual - expected) / Math.max(Math.abs(expected), 1e-6);
  expect(err, `${what}: ${actual} vs ${expected}`).toBeLessThan(rel);
}

describe("hand: the worked values of the two circuits", () => {
  it("fxyz at (-2, 5, -4)", () => {
    const m = createFxyz();
    expect(m.lossAndGrad(-2, 5, -4)).toBe(-12);
    expect([...m.grad]).toEqual([-4, -4, 3]);
  });

  it("sigmoid neuron at w = (2, -3, -3), x = (-1, -2)", () => {
    const m = createNeuron();
    const f = m.lossAndGrad(Float64Array.of(2, -3, -3), Float64Array.of(-1, -2));
    expect(f).toBeCloseTo(0.7311, 4);
    const dw = [...m.dw].map((v) => Math.round(v * 100) / 100);
    const dx = [...m.dx].map((v) => Math.round(v * 100) / 100);
    expect(dw).toEqual([-0.2, -0.39, 0.2]);
    expect(dx).toEqual([0.39, -0.59]);
  });
});

describe("hand: gradients match central finite differences of a naive forward", () => {
  it("fxyz", () => {
    const v = Float64Array.of(1.3, -0.7, 2.1);
    const naive = () => (v[0]! + v[1]!) * v[2]!;
    const m = createFxyz();
    expect(m.lossAndGrad(v[0]!, v[1]!, v[2]!)).toBe(naive());
    for (let i = 0; i < 3; i++) expectClose(m.grad[i]!, centralDiff(naive, v, i), 1e-8, `d/d${"xyz"[i]}`);
  });

  it("neuron", () => {
    const w = Float64Array.of(0.4, -1.2, 0.3), x = Float64Array.of(0.9, 0.2);
    const naive = () => 1 / (1 + Math.exp(-(w[0]! * x[0]! + w[1]! * x[1]! + w[2]!)));
    const m = createNeuron();
    expect(m.lossAndGrad(w, x)).toBeCloseTo(naive(), 15);
    for (let i = 0; i < 3; i++) expectClose(m.dw[i]!, centralDiff(naive, w, i), 1e-7, `dw${i}`);
    for (let i = 0; i < 2; i++) expectClose(m.dx[i]!, centralDiff(naive, x, i), 1e-7, `dx${i}`);
  });

  it("mlp-tiny", () => {
    const [W1, W2, x, y] = inputsFor(CASES["mlp-tiny"]) as [TensorValue, TensorValue, TensorValue, number];
    const w1 = W1.data as Float64Array, w2 = W2.data as Float64Array, xs = x.data as Float64Array;
    const naive = () => {
      let yHat = 0;
      for (let i = 0; i < 16; i++) {
        let a = 0;
        for (let k = 0; k < 4; k++) a += w1[i * 4 + k]! * xs[k]!;
        yHat += w2[i]! / (1 + Math.exp(-a));
      }
      return (yHat - y) ** 2;
    };
    const m = createMlpTiny();
    expectClose(m.lossAndGrad(w1, w2, xs, y), naive(), 1e-14, "loss");
    for (let i = 0; i < w1.length; i++) expectClose(m.dW1[i]!, centralDiff(naive, w1, i), 1e-6, `dW1[${i}]`);
    for (let i = 0; i < w2.length; i++) expectClose(m.dW2[i]!, centralDiff(naive, w2, i), 1e-6, `dW2[${i}]`);
  });

  it("mlp-mnist (f64 instance, sampled entries and a random direction)", () => {
    const [p, xIn, yIn] = inputsFor(CASES["mlp-mnist"]) as [Record<string, TensorValue>, TensorValue, TensorValue];
    const params = {
      W1: Float64Array.from(p.W1!.data),
      b1: Float64Array.from(p.b1!.data),
      W2: Float64Array.from(p.W2!.data),
      b2: Float64Array.from(p.b2!.data),
    };
    const x = Float64Array.from(xIn.data), y = Float64Array.from(yIn.data);
    const naive = () => {
      let total = 0;
      for (let b = 0; b < B; b++) {
        const hidden = Float64Array.from(params.b1);
        for (let k = 0; k < D; k++) {
          for (let j = 0; j < H; j++) hidden[j] += x[b * D + k]! * params.W1[k * H + j]!;
        }
        for (let j = 0; j < H; j++) hidden[j] = Math.max(hidden[j]!, 0);
        const logits = new Float64Array(C);
        for (let c = 0; c < C; c++) {
          let a = params.b2[c]!;
          for (let j = 0; j < H; j++) a += hidden[j]! * params.W2[j * C + c]!;
          logits[c] = a;
        }
        let sumExp = 0;
        for (let c = 0; c < C; c++) sumExp += Math.exp(logits[c]!);
        let target = 0;
        for (let c = 0; c < C; c++) target += y[b * C + c]! * logits[c]!;
        total += Math.log(sumExp) - target;
      }
      return total / B;
    };
    const m = createMlpMnist("f64");
    const run = () => m.lossAndGrad(params.W1, params.b1, params.W2, params.b2, x, y);
    expectClose(run(), naive(), 1e-12, "loss");
    const grads = { W1: Float64Array.from(m.dW1), b1: Float64Array.from(m.db1), W2: Float64Array.from(m.dW2), b2: Float64Array.from(m.db2) };

    const rng = new Rng(7);
    for (const name of ["W1", "b1", "W2", "b2"] as const) {
      for (let s = 0; s < 4; s++) {
        const i = rng.int(params[name].length);
        expectClose(grads[name][i]!, centralDiff(naive, params[name], i), 1e-5, `d${name}[${i}]`);
      }
    }
    // Directional derivative along a random direction through every parameter at once.
    const dirs = Object.fromEntries(Object.entries(params).map(([k, v]) => [k, Float64Array.from(v, () => rng.normal())]));
    let predicted = 0;
    for (const k of Object.keys(params) as (keyof typeof params)[]) {
      for (let i = 0; i < params[k].length; i++) predicted += grads[k][i]! * dirs[k]![i]!;
    }
    const base = Object.fromEntries(Object.entries(params).map(([k, v]) => [k, Float64Array.from(v)]));
    const along = (t: number) => {
      for (const k of Object.keys(params) as (keyof typeof params)[]) {
        for (let i = 0; i < params[k].length; i++) params[k][i] = base[k]![i]! + t * dirs[k]![i]!;
      }
      return naive();
    };
    // Small step: with 10⁵ parameters moving at once, a step of 1e-6 already pushes some of
    // the 8192 hidden pre-activations across the ReLU kink.
    const h = 1e-7;
    const fd = (along(h) - along(-h)) / (2 * h);
    along(0);
    expectClose(predicted, fd, 1e-6, "directional derivative");
  });

  it("mlp-mnist: the f32 instance agrees with the f64 one", () => {
    const [p, x, y] = inputsFor(CASES["mlp-mnist"]) as [Record<string, TensorValue>, TensorValue, TensorValue];
    const m32 = createMlpMnist("f32");
    const m64 = createMlpMnist("f64");
    const f64 = (a: TensorValue) => Float64Array.from(a.data);
    const v32 = m32.lossAndGrad(p.W1!.data, p.b1!.data, p.W2!.data, p.b2!.data, x.data, y.data);
    const v64 = m64.lossAndGrad(f64(p.W1!), f64(p.b1!), f64(p.W2!), f64(p.b2!), f64(x), f64(y));
    expectClose(v32, v64, 1e-6, "loss");
    for (const [a, b] of [[m32.dW1, m64.dW1], [m32.db1, m64.db1], [m32.dW2, m64.dW2], [m32.db2, m64.db2]] as const) {
      let scale = 0, err = 0;
      for (let i = 0; i < a.length; i++) {
        scale = Math.max(scale, Math.abs(b[i]!));
        err = Math.max(err, Math.abs(a[i]! - b[i]!));
      }
      expect(err / scale).toBeLessThan(1e-5);
    }
  });

  it("pendulum", () => {
    const [k, L, theta0, omega0, target] = inputsFor(CASES.pendulum) as number[];
    const v = Float64Array.of(k!, L!, theta0!, omega0!);
    const naive = () => {
      let theta = v[2]!, omega = v[3]!, loss = 0;
      for (let t = 0; t < 1000; t++) {
        omega = omega + 0.01 * (-(9.81 / v[1]!) * Math.sin(theta) - v[0]! * omega);
        theta = theta + 0.01 * omega;
        loss += (theta - target!) ** 2;
      }
      return loss;
    };
    const m = createPendulum();
    expectClose(m.lossAndGrad(v[0]!, v[1]!, v[2]!, v[3]!, target!), naive(), 1e-13, "loss");
    const names = ["k", "L", "θ0", "ω0"];
    for (let i = 0; i < 4; i++) expectClose(m.grad[i]!, centralDiff(naive, v, i), 1e-6, `d/d${names[i]}`);
  });
});

describe("hand engine adapter", () => {
  it("returns gradients shaped like the differentiated arguments", async () => {
    for (const c of Object.values(CASES)) {
      const inputs = inputsFor(c);
      const inst = await hand.setup(c, inputs);
      inst.call();
      const { value, grads } = inst.result();
      expect(Number.isFinite(value), c.name).toBe(true);
      expect(grads.length, c.name).toBe(c.argnums.length);
    }
  });
});
