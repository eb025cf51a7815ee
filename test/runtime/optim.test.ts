// Optimizers and the gradient checker.

import { describe, expect, it } from "vitest";
import { type Tensor, GradcError, adam, checkGrad, grad, mul, sgd, square, sub, sum, tensor } from "../../runtime/index.js";

// A quadratic bowl with its minimum at w = (1, -2, 3), b = 0.5, c = [4]:
// L = |w - target|² + (b - 0.5)² + (c[0] - 4)².
type Params = { w: Tensor<[3]>; b: number; c: [number] };
const target = tensor([1, -2, 3]);
const loss = (p: Params) => sum(square(sub(p.w, target))) + (p.b - 0.5) ** 2 + (p.c[0] - 4) ** 2;
const gradLoss = grad(loss, { scope: { target } });
const start = (): Params => ({ w: tensor([0, 0, 0]), b: 3, c: [0] });

describe("sgd", () => {
  it("applies w ← w − lr·g in place, numbers inside containers included", () => {
    const p = start();
    const w = p.w;
    const g = { w: tensor([1, 2, 3]), b: 10, c: [-4] as [number] };
    const out = sgd(p, g, 0.5);
    expect(out).toBe(p);
    expect(p.w).toBe(w); // same tensor, data updated in place
    expect([...p.w.data]).toEqual([-0.5, -1, -1.5]);
    expect(p.b).toBe(-2);
    expect(p.c).toEqual([2]);
  });

  it("returns the new value of a bare number", () => {
    expect(sgd(2, 4, 0.25)).toBe(1);
  });

  it("decreases a quadratic loss to its minimum", () => {
    const p = start();
    let previous = loss(p);
    for (let i = 0; i < 50; i++) {
      sgd(p, gradLoss(p), 0.1);
      const now = loss(p);
      expect(now).toBeLessThan(previous);
      previous = now;
    }
    expect(previous).toBeLessThan(1e-8);
    expect(Math.abs(p.b - 0.5)).toBeLessThan(1e-4);
  });

  it("refuses gradients that do not match the parameters", () => {
    expect(() => sgd(start(), { w: tensor([1, 2]), b: 0, c: [0] } as unknown as Params, 0.1)).toThrow(GradcError);
    expect(() => sgd(start(), { w: tensor([1, 2, 3]), b: 0 } as unknown as Params, 0.1)).toThrow(/\.c is missing/);
  });
});

describe("adam", () => {
  it("takes a first step of size lr in the direction of −sign(g)", () => {
    // With bias correction, m̂ = g and v̂ = g² after one step, so the update is lr·g/|g|.
    const opt = adam({ lr: 0.1 });
    const p = { w: tensor([1, 1]), b: 1 };
    opt.step(p, { w: tensor([3, -0.5]), b: 2 });
    expect(opt.t).toBe(1);
    expect(Math.abs(p.w.data[0]! - 0.9)).toBeLessThan(1e-7);
    expect(Math.abs(p.w.data[1]! - 1.1)).toBeLessThan(1e-7);
    expect(Math.abs(p.b - 0.9)).toBeLessThan(1e-7);
  });

  it("decreases a quadratic loss", () => {
    const p = start();
    const opt = adam({ lr: 0.05 });
    const initial = loss(p);
    for (let i = 0; i < 400; i++) opt.step(p, gradLoss(p));
    expect(loss(p)).toBeLessThan(initial * 1e-3);
  });

  it("takes a schedule: the step size of step t is lr(t)", () => {
    // A constant gradient keeps m̂ = g and v̂ = g² at every step (bias correction), so each
    // update is lr(t)·sign(g): 1 → 0.9 → 0.88 → 0.88.
    const seen: number[] = [];
    const opt = adam({ lr: (t) => (seen.push(t), [0.1, 0.02, 0][t - 1]!) });
    let p = 1;
    for (let i = 0; i < 3; i++) p = opt.step(p, 2);
    expect(seen).toEqual([1, 2, 3]);
    expect(Math.abs(p - 0.88)).toBeLessThan(1e-7);
  });

  it("refuses a schedule that gives a negative or non-finite step size, naming the step", () => {
    const opt = adam({ lr: (t) => (t < 2 ? 0.1 : NaN) });
    opt.step({ x: 1 }, { x: 1 });
    expect(() => opt.step({ x: 1 }, { x: 1 })).toThrow(/adam: lr\(2\) must be a finite number ≥ 0, got NaN/);
    expect(() => adam({ lr: () => -1 }).step({ x: 1 }, { x: 1 })).toThrow(GradcError);
  });

  it("keeps state per leaf (independent moments)", () => {
    const opt = adam({ lr: 0.1 });
    const a = { x: 0, y: 0 };
    opt.step(a, { x: 1, y: 0 });
    opt.step(a, { x: 0, y: 1 });
    // y's first gradient arrives at t = 2: m̂ = 0.1/(1−0.81) ≈ 0.526, v̂ = 0.001/(1−0.998001);
    const m = 0.1 / (1 - 0.9 ** 2);
    const v = 0.001 / (1 - 0.999 ** 2);
    expect(Math.abs(a.y - -(0.1 * m) / (Math.sqrt(v) + 1e-8))).toBeLessThan(1e-12);
  });
});

describe("checkGrad", () => {
  const f = (p: { w: Tensor<[2, 2]>; s: number }, x: Tensor<[2, 2]>) => sum(mul(square(p.w), x)) * p.s;
  const args = [{ w: tensor([[1, -2], [0.5, 3]]), s: 1.5 }, tensor([[2, 1], [-1, 0.5]])];

  it("accepts the fallback's gradient", () => {
    const r = checkGrad(f, args);
    expect(r.ok).toBe(true);
    expect(r.maxError).toBeLessThan(1e-6);
    expect(r.checked).toBe(5);
  });

  it("checks several arguments", () => {
    const r = checkGrad(f, args, { argnums: [0, 1] });
    expect(r.ok).toBe(true);
    expect(r.checked).toBe(9);
  });

  it("flags a deliberately wrong gradient and names the entry", () => {
    // Right everywhere except d/dw[1,0], which should be 2·w·x·s = 2·0.5·(−1)·1.5 = −1.5.
    const wrong = () => ({ w: tensor([[2 * 1 * 2 * 1.5, 2 * -2 * 1 * 1.5], [0, 2 * 3 * 0.5 * 1.5]]), s: 2 + 4 - 0.25 + 4.5 });
    const r = checkGrad(f, args, { grad: wrong });
    expect(r.ok).toBe(false);
    expect(r.worst?.path).toBe("args[0].w[1, 0]");
    expect(r.worst?.analytic).toBe(0);
    expect(Math.abs(r.worst!.numeric - -1.5)).toBeLessThan(1e-6);
    expect(r.maxError).toBeCloseTo(1.5 / 1.5, 6);
  });

  it("reports a NaN gradient as the worst", () => {
    const r = checkGrad((x: number) => x * x, [2], { grad: () => NaN });
    expect(r.ok).toBe(false);
    expect(r.maxError).toBe(Infinity);
    expect(r.worst?.path).toBe("args[0]");
  });

  it("leaves the arguments untouched", () => {
    const before = [...(args[1] as Tensor).data] as number[];
    checkGrad(f, args, { argnums: 1 });
    expect([...(args[1] as Tensor).data]).toEqual(before);
  });
});
