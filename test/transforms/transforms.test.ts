// Transformations beyond grad: jvp (forward mode), grad of grad, Hessian-vector products, a
// gradient penalty, customVjp and stopGradient. Every fixture is compiled and its generated
// code run; each result is checked against the same bindings uncompiled (the tape: importing
// input.ts runs them on the runtime) and against finite differences of plain models written
// here by hand (second differences for second derivatives).

import { join } from "node:path";
import { beforeAll, describe, expect, it, vi } from "vitest";
import { FIXTURES, type FixtureResult, compileFixtures } from "../helpers/fixtures.js";
import { importGenerated } from "../helpers/generated.js";
import { relErr, rng, uniform } from "../helpers/numeric.js";

vi.mock("gradc", () => import("../../runtime/index.js"));

type Fn = (...args: any[]) => any; // eslint-disable-line @typescript-eslint/no-explicit-any
type T = { shape: number[]; data: Float64Array };

const CASES = ["compose-depth", "jvp-scalar", "jvp-loop", "jvp-while", "jvp-tensor", "jvp-pytree", "grad-of-grad", "grad-of-grad-loop", "hvp-mlp", "gradient-penalty", "custom-vjp", "stop-gradient"];
let compiled: Map<string, FixtureResult>;
const gen: Record<string, Record<string, Fn>> = {};
const tape: Record<string, Record<string, Fn>> = {};

beforeAll(async () => {
  compiled = compileFixtures(CASES);
  for (const name of CASES) {
    const r = compiled.get(name)!;
    expect(r.diagnostics.map((d) => d.message)).toEqual([]);
    gen[name] = (await importGenerated(r.module!.code, name)) as Record<string, Fn>;
    tape[name] = (await import(/* @vite-ignore */ join(FIXTURES, name, "input.ts"))) as Record<string, Fn>;
  }
}, 120_000);

const t = (shape: number[], next: () => number): T => {
  const n = shape.reduce((a, b) => a * b, 1);
  return { shape, data: Float64Array.from({ length: n }, () => uniform(next, -1, 1)) };
};
const axpy = (x: T, a: number, v: T): T => ({ shape: x.shape, data: x.data.map((xi, i) => xi + a * v.data[i]!) });
const close = (a: number, b: number, tol: number, what: string) => expect(relErr(a, b), `${what}: ${a} vs ${b}`).toBeLessThan(tol);
const closeAll = (a: ArrayLike<number>, b: ArrayLike<number>, tol: number, what: string) => {
  expect(a.length, what).toBe(b.length);
  for (let i = 0; i < a.length; i++) close(a[i]!, b[i]!, tol, `${what}[${i}]`);
};
/** Central difference of a (possibly tensor-valued) function along one direction. */
const directional = (g: (h: number) => number | T, h = 1e-6): number[] => {
  const [p, m] = [g(h), g(-h)];
  const flat = (v: number | T) => (typeof v === "number" ? [v] : [...v.data]);
  return flat(p).map((x, i) => (x - flat(m)[i]!) / (2 * h));
};

describe("jvp (forward mode)", () => {
  const f = (x: number, y: number, c: number) => {
    const s = Math.sin(x) * y;
    return s > 0 ? Math.exp(s) + c : Math.tanh(s) * y;
  };
  it("scalar model with a branch: compiled = tape = finite differences", () => {
    const next = rng(1);
    for (let k = 0; k < 8; k++) {
      const p = [uniform(next, -2, 2), uniform(next, -2, 2), uniform(next, -1, 1)];
      const d = [uniform(next, -1, 1), uniform(next, -1, 1)];
      const [v, tv] = gen["jvp-scalar"]!["fJvp"]!(p, d);
      const [v2, tv2] = tape["jvp-scalar"]!["fJvp"]!(p, d);
      const [fd] = directional((h) => f(p[0]! + h * d[0]!, p[1]! + h * d[1]!, p[2]!));
      close(v, f(p[0]!, p[1]!, p[2]!), 1e-12, "value");
      close(v2, v, 1e-12, "tape value");
      close(tv, fd!, 1e-6, "tangent vs fd");
      close(tv2, tv, 1e-10, "tape tangent");
    }
  });

  const pend = (k: number, th: number) => {
    let theta = th;
    let omega = 0;
    let loss = 0;
    for (let t = 0; t < 100; t++) {
      omega = omega + 0.01 * (-9.81 * Math.sin(theta) - k * omega);
      theta = theta + 0.01 * omega;
      loss = loss + theta * theta;
    }
    return loss;
  };
  it("a 100-step loop stays a loop: compiled = tape = finite differences", () => {
    const code = compiled.get("jvp-loop")!.module!.code;
    expect(code).toMatch(/for \(let \w+ = 0; \w+ < 100; \w+\+\+\)/);
    for (const [p, d] of [[[0.3, 0.7], [1, -2]], [[1.1, -0.4], [0.5, 0.25]]] as const) {
      const [v, tv] = gen["jvp-loop"]!["pendulumJvp"]!(p, d);
      const [v2, tv2] = tape["jvp-loop"]!["pendulumJvp"]!(p, d);
      const [fd] = directional((h) => pend(p[0] + h * d[0], p[1] + h * d[1]));
      close(v, pend(p[0], p[1]), 1e-12, "value");
      close(v2, v, 1e-12, "tape value");
      close(tv, fd!, 1e-6, "tangent");
      close(tv2, tv, 1e-10, "tape tangent");
    }
  });

  it("forward over reverse through the loop: both loops carry tangents; compiled = tape = differences of differences", () => {
    const code = compiled.get("jvp-loop")!.module!.code;
    expect(code.match(/for \(let \w+ = 0; \w+ < 100; \w+\+\+\)/g)?.length).toBe(2);
    expect(code).toMatch(/for \(let \w+ = 100 - 1; \w+ >= 0; \w+--\)/);
    const dk = (k: number, th: number, h = 1e-4) => (pend(k + h, th) - pend(k - h, th)) / (2 * h);
    for (const [p, d] of [[[0.3, 0.7], [1, -2]], [[1.1, -0.4], [0.5, 0.25]]] as const) {
      const [g, hv] = gen["jvp-loop"]!["pendulumHvp"]!(p, d);
      const [g2, hv2] = tape["jvp-loop"]!["pendulumHvp"]!(p, d);
      close(g, dk(p[0], p[1], 1e-6), 1e-6, "gradient");
      close(hv, directional((h) => dk(p[0] + h * d[0], p[1] + h * d[1]), 1e-4)[0]!, 1e-4, "H·v");
      close(g2, g, 1e-10, "tape gradient");
      close(hv2, hv, 1e-9, "tape H·v");
    }
  });

  const fixed = (p: number, x0: number) => {
    let x = x0;
    let step = 1;
    let n = 0;
    while (step > 1e-12 && n < 200) {
      const next = 0.5 * Math.cos(p * x);
      step = Math.abs(next - x);
      x = next;
      n = n + 1;
    }
    return x * x;
  };
  it("a while loop run to convergence, forward and forward over reverse: compiled = tape = finite differences", () => {
    const code = compiled.get("jvp-while")!.module!.code;
    expect(code).toMatch(/for \(; ; k\w*\+\+\)/);
    const dp = (p: number, x0: number, h = 1e-5) => (fixed(p + h, x0) - fixed(p - h, x0)) / (2 * h);
    for (const [p, d] of [[[0.8, 0.3], [1, -2]], [[-1.3, 0.9], [0.5, 0.25]]] as const) {
      const [v, tv] = gen["jvp-while"]!["fixedPointJvp"]!(p, d);
      const [v2, tv2] = tape["jvp-while"]!["fixedPointJvp"]!(p, d);
      close(v, fixed(p[0], p[1]), 1e-12, "value");
      close(v2, v, 1e-12, "tape value");
      close(tv, directional((h) => fixed(p[0] + h * d[0], p[1] + h * d[1]))[0]!, 1e-5, "tangent");
      close(tv2, tv, 1e-9, "tape tangent");
      const [g, hv] = gen["jvp-while"]!["fixedPointHvp"]!(p, d);
      const [g2, hv2] = tape["jvp-while"]!["fixedPointHvp"]!(p, d);
      close(g, dp(p[0], p[1]), 1e-6, "gradient");
      close(hv, directional((h) => dp(p[0] + h * d[0], p[1] + h * d[1]), 1e-4)[0]!, 1e-4, "H·v");
      close(g2, g, 1e-9, "tape gradient");
      close(hv2, hv, 1e-8, "tape H·v");
    }
  });

  it("tensor model with a tensor result: compiled = tape = finite differences", () => {
    const next = rng(3);
    const layer = (W: T, x: T): T => {
      const out = new Float64Array(6);
      for (let j = 0; j < 2; j++) {
        const z = [0, 1, 2].map((i) => Math.tanh([0, 1, 2, 3].reduce((s, k) => s + W.data[i * 4 + k]! * x.data[k * 2 + j]!, 0)));
        const m = Math.max(...z);
        const e = z.map((q) => Math.exp(q - m));
        const s = e.reduce((a, b) => a + b, 0);
        e.forEach((q, i) => (out[i * 2 + j] = q / s));
      }
      return { shape: [3, 2], data: out };
    };
    const W = t([3, 4], next);
    const x = t([4, 2], next);
    const V = t([3, 4], next);
    const [v, tv] = gen["jvp-tensor"]!["layerJvp"]!([W, x], [V]);
    const [v2, tv2] = tape["jvp-tensor"]!["layerJvp"]!([W, x], [V]);
    expect(tv.shape).toEqual([3, 2]);
    closeAll(v.data, layer(W, x).data, 1e-12, "value");
    closeAll(v2.data, v.data, 1e-12, "tape value");
    closeAll(tv.data, directional((h) => layer(axpy(W, h, V), x)), 1e-6, "tangent");
    closeAll(tv2.data, tv.data, 1e-10, "tape tangent");
  });

  it("a structured result: value and tangent with its structure, compiled = tape = finite differences", () => {
    type P = { w: T; b: number };
    type R = { y: T; parts: [number, number]; decay: number };
    const stats = (p: P, x: T): R => {
      const y = p.w.data.map((w, i) => Math.tanh(w * x.data[i]!));
      const s = y.reduce((a, b) => a + b, 0) + p.b;
      let d = p.b;
      for (let i = 0; i < 30; i++) d = Math.sin(d) * 0.9 + s * 0.01;
      return { y: { shape: [3], data: y }, parts: [s * s, 2], decay: d };
    };
    const flat = (r: R) => [...r.y.data, ...r.parts, r.decay];
    const next = rng(11);
    const p: P = { w: t([3], next), b: 0.3 };
    const x = t([3], next);
    const tp: P = { w: t([3], next), b: -0.7 };
    const tx = t([3], next);
    const [v, tv] = gen["jvp-pytree"]!["statsJvp"]!([p, x], [tp, tx]) as [R, R];
    const [v2, tv2] = tape["jvp-pytree"]!["statsJvp"]!([p, x], [tp, tx]) as [R, R];
    expect(Object.keys(v)).toEqual(["y", "parts", "decay"]);
    expect(tv.y.shape).toEqual([3]);
    expect(tv.parts).toHaveLength(2);
    closeAll(flat(v), flat(stats(p, x)), 1e-12, "value");
    const fd = directional((h) => {
      const r = stats({ w: axpy(p.w, h, tp.w), b: p.b + h * tp.b }, axpy(x, h, tx));
      return { shape: [7], data: Float64Array.from(flat(r)) };
    });
    closeAll(flat(tv), fd.map((d, i) => (i === 4 ? 0 : d)), 1e-6, "tangent");
    expect(tv.parts[1]).toBe(0);
    closeAll(flat(v2), flat(v), 1e-12, "tape value");
    closeAll(flat(tv2), flat(tv), 1e-10, "tape tangent");

    // Differentiating only p (argnums 0), and the reused result: same numbers, same objects.
    const [, tp0] = gen["jvp-pytree"]!["statsJvpP"]!([p, x], [tp]) as [R, R];
    const [, tp0Tape] = tape["jvp-pytree"]!["statsJvpP"]!([p, x], [tp]) as [R, R];
    closeAll(flat(tp0), flat(tp0Tape), 1e-10, "argnums 0 vs tape");
    const first = gen["jvp-pytree"]!["statsJvpReuse"]!([p, x], [tp, tx]) as [R, R];
    closeAll(flat(first[1]), flat(tv), 1e-15, "reuse");
    const again = gen["jvp-pytree"]!["statsJvpReuse"]!([p, x], [tp, { shape: [3], data: new Float64Array(3) }]) as [R, R];
    expect(again).toBe(first);
    expect(again[1].y).toBe(first[1].y);
    closeAll(flat(again[1]), flat(tp0), 1e-12, "reuse, overwritten");
  });

  it("jvp of a structured result inside a differentiated model (hand-written derivative, tape)", () => {
    for (const [a, b] of [
      [0.4, -1.2],
      [2.1, 0.5],
    ] as const) {
      // usesPair = a·b·cos(a) + b.
      const want = [b * Math.cos(a) - a * b * Math.sin(a), a * Math.cos(a) + 1];
      const got = gen["jvp-pytree"]!["dUsesPair"]!(a, b) as number[];
      closeAll(got, want, 1e-12, "compiled");
      closeAll(tape["jvp-pytree"]!["dUsesPair"]!(a, b) as number[], want, 1e-12, "tape");
    }
  });

  it("validates its two tuples with a GradcError naming them", () => {
    expect(() => gen["jvp-loop"]!["pendulumJvp"]!([1], [1, 1])).toThrow(/pendulumJvp: argument primals must be an array of 2 arguments/);
    expect(() => gen["jvp-loop"]!["pendulumJvp"]!([1, 2], [1])).toThrow(/argument tangents must be an array of 2 tangents/);
    expect(() => gen["jvp-loop"]!["pendulumJvp"]!([1, 2], [1, "a"])).toThrow(/argument tangents\[1\] must be a number/);
  });
});

describe("second order", () => {
  const f = (x: number) => Math.tanh(x) * Math.exp(0.5 * x) + Math.log(1 + x * x) + 1 / (1 + Math.exp(-x)) + Math.max(x, 0.3 * x);
  it("grad(grad(f)) with tanh, exp, log, sigmoid, max away from its kink: compiled = tape = second differences", () => {
    for (const x of [-1.7, -0.6, 0.4, 1.3, 2.2]) {
      const h = 1e-4;
      const second = (f(x + h) - 2 * f(x) + f(x - h)) / (h * h);
      const c = gen["grad-of-grad"]!["d2f"]!(x);
      close(c, second, 1e-6, `d2f(${x}) vs second difference`);
      close(tape["grad-of-grad"]!["d2f"]!(x), c, 1e-10, `tape d2f(${x})`);
    }
  });

  it("grad inside a differentiated function (two arguments, argnums array)", () => {
    const slope = (x: number, y: number) => Math.cos(x) * y * y * (2 * Math.sin(x) * y);
    const [v, [dx, dy]] = gen["grad-of-grad"]!["dSlope"]!(0.7, 1.3);
    const [v2, [dx2, dy2]] = tape["grad-of-grad"]!["dSlope"]!(0.7, 1.3);
    close(v, slope(0.7, 1.3), 1e-12, "value");
    close(dx, directional((h) => slope(0.7 + h, 1.3))[0]!, 1e-6, "d/dx");
    close(dy, directional((h) => slope(0.7, 1.3 + h))[0]!, 1e-6, "d/dy");
    for (const [a, b] of [[v2, v], [dx2, dx], [dy2, dy]]) close(a, b, 1e-10, "tape");
  });

  const sig = (z: number) => 1 / (1 + Math.exp(-z));
  /** The MLP's loss and its gradient in W1, by hand. */
  const lossAndGrad = (W1: T, W2: T, x: T, y: T): [number, Float64Array] => {
    const g = new Float64Array(12);
    let loss = 0;
    for (let j = 0; j < 5; j++) {
      const h = [0, 1, 2, 3].map((i) => sig([0, 1, 2].reduce((s, k) => s + W1.data[i * 3 + k]! * x.data[k * 5 + j]!, 0)));
      const r = h.reduce((s, hi, i) => s + W2.data[i]! * hi, 0) - y.data[j]!;
      loss += (r * r) / 5;
      for (let i = 0; i < 4; i++) for (let k = 0; k < 3; k++) g[i * 3 + k]! += ((2 * r) / 5) * W2.data[i]! * h[i]! * (1 - h[i]!) * x.data[k * 5 + j]!;
    }
    return [loss, g];
  };
  it("Hessian-vector product of an MLP, reverse over reverse and forward over reverse: compiled = tape = differences of the gradient", () => {
    const next = rng(7);
    for (let trial = 0; trial < 3; trial++) {
      const [W1, V, W2, x, y] = [t([4, 3], next), t([4, 3], next), t([1, 4], next), t([3, 5], next), t([1, 5], next)];
      const fd = directional((h) => ({ shape: [4, 3], data: lossAndGrad(axpy(W1, h, V), W2, x, y)[1] }), 1e-5);
      const rev = gen["hvp-mlp"]!["hvpReverse"]!(W1, V, W2, x, y);
      const [g, fwd] = gen["hvp-mlp"]!["hvpForward"]!([W1, W2, x, y], [V]);
      closeAll(g.data, lossAndGrad(W1, W2, x, y)[1], 1e-10, "gradient");
      closeAll(rev.data, fd, 1e-5, "H·v reverse over reverse");
      closeAll(fwd.data, fd, 1e-5, "H·v forward over reverse");
      closeAll(fwd.data, rev.data, 1e-10, "both modes");
      const [, tfwd] = tape["hvp-mlp"]!["hvpForward"]!([W1, W2, x, y], [V]);
      closeAll(tape["hvp-mlp"]!["hvpReverse"]!(W1, V, W2, x, y).data, rev.data, 1e-9, "tape reverse over reverse");
      closeAll(tfwd.data, fwd.data, 1e-9, "tape forward over reverse");
    }
  });

  it("a gradient penalty: compiled = tape = finite differences", () => {
    const penalized = (w: number[], x: T) => {
      let s = 0;
      let q = 0;
      for (let j = 0; j < 2; j++) {
        const z = [0, 1, 2].reduce((a, k) => a + w[k]! * x.data[k * 2 + j]!, 0);
        s += Math.tanh(z);
        for (let k = 0; k < 3; k++) q += ((1 - Math.tanh(z) ** 2) * w[k]!) ** 2;
      }
      return s + 0.1 * q;
    };
    const next = rng(11);
    for (let trial = 0; trial < 3; trial++) {
      const w = t([1, 3], next);
      const x = t([3, 2], next);
      const [v, g] = gen["gradient-penalty"]!["dPenalized"]!(w, x);
      const [v2, g2] = tape["gradient-penalty"]!["dPenalized"]!(w, x);
      close(v, penalized([...w.data], x), 1e-12, "value");
      [0, 1, 2].forEach((k) =>
        close(g.data[k], directional((h) => penalized([...w.data].map((wi, i) => (i === k ? wi + h : wi)), x))[0]!, 1e-6, `d/dw${k}`),
      );
      close(v2, v, 1e-12, "tape value");
      closeAll(g2.data, g.data, 1e-10, "tape gradient");
    }
  });

  it("reverse over reverse through rolled loops: second differences and the tape", () => {
    const code = compiled.get("grad-of-grad-loop")!.module!.code;
    // The loops stay loops: the inner backward loop runs in reverse, its reverse forward again.
    expect(code).toMatch(/for \(let \w+ = 40 - 1; \w+ >= 0; \w+--\)/);
    expect(code).toMatch(/for \(let \w+ = 0; \w+ < 40; \w+\+\+\)/);
    const d1 = (h: (x: number) => number, x: number, e = 1e-5) => (h(x + e) - h(x - e)) / (2 * e);
    const f = (x: number) => {
      let s = x;
      for (let i = 0; i < 40; i++) s = Math.sin(s) + x;
      return s;
    };
    const run = (name: string, ...args: unknown[]) => [gen["grad-of-grad-loop"]![name]!(...args), tape["grad-of-grad-loop"]![name]!(...args)];
    for (const x of [0.3, -0.8, 1.4]) {
      const second = (f(x + 1e-4) - 2 * f(x) + f(x - 1e-4)) / 1e-8;
      const [c, tp] = run("d2", x);
      close(c, second, 1e-5, `f'' at ${x}`);
      close(tp, c, 1e-9, "tape");
      // slope = f'(x)·x: slope' = f''(x)·x + f'(x).
      const first = d1(f, x, 1e-6);
      const [cs, ts] = run("dSlope", x);
      close(cs, second * x + first, 1e-5, `slope' at ${x}`);
      close(ts, cs, 1e-9, "tape");
    }
    const g = (a: number, w: T): number => {
      let p = a;
      let q = 0.5;
      let h = Array.from(w.data);
      for (let i = 0; i < 25; i++) {
        const np = Math.tanh(p * q + 0.1);
        q = q * 0.9 + p * a * 0.05;
        p = np;
        h = h.map((v, j) => Math.tanh(v * w.data[j]!));
      }
      return p * q + h.reduce((u, v) => u + v, 0) * a;
    };
    const dga = (a: number, w: T) => d1((y) => g(y, w), a, 1e-5);
    const next = rng(5);
    const w = t([3], next);
    for (const a of [0.6, -0.3]) {
      const [[ca, cw], [ta, tw]] = run("d2g", a, w) as [[number, T], [number, T]];
      close(ca, (g(a + 1e-4, w) - 2 * g(a, w) + g(a - 1e-4, w)) / 1e-8, 1e-4, `g_aa at ${a}`);
      closeAll(cw.data, directional((h) => dga(a, axpy(w, h, { shape: [3], data: Float64Array.from([1, 0, 0]) })), 1e-4).concat(
        directional((h) => dga(a, axpy(w, h, { shape: [3], data: Float64Array.from([0, 1, 0]) })), 1e-4),
        directional((h) => dga(a, axpy(w, h, { shape: [3], data: Float64Array.from([0, 0, 1]) })), 1e-4),
      ), 1e-4, `g_aw at ${a}`);
      close(ta, ca, 1e-9, "tape g_aa");
      closeAll(tw.data, cw.data, 1e-9, "tape g_aw");
    }
  });
});

describe("customVjp and stopGradient", () => {
  const sig = (z: number) => 1 / (1 + Math.exp(-z));
  it("a stable softplus and a straight-through estimator: compiled = tape = the rules by hand", () => {
    const next = rng(5);
    for (let k = 0; k < 6; k++) {
      const a = uniform(next, -2, 2);
      const b = uniform(next, -2, 2);
      const [v, [da, db]] = gen["custom-vjp"]!["dModel"]!(a, b);
      const [v2, [da2, db2]] = tape["custom-vjp"]!["dModel"]!(a, b);
      const s = a > 0 ? 1 : -1;
      close(v, Math.log(1 + Math.exp(a * b)) + s * b, 1e-12, "value");
      // softplus' = sigmoid; the estimator passes g = b through to a.
      close(da, b * sig(a * b) + b, 1e-12, "d/da");
      close(db, a * sig(a * b) + s, 1e-12, "d/db");
      for (const [x, y] of [[v2, v], [da2, da], [db2, db]]) close(x, y, 1e-12, "tape");
    }
  });

  it("the softplus stays finite where the naive formula overflows", () => {
    const [v, [da]] = gen["custom-vjp"]!["dModel"]!(800, 1);
    expect(v).toBe(801);
    close(da, 2, 1e-12, "d/da at 800");
    const [v2, [da2]] = tape["custom-vjp"]!["dModel"]!(800, 1);
    expect([v2, da2]).toEqual([v, da]);
  });

  it("stopGradient: the identity whose gradient is zero, compiled and on the tape", () => {
    for (const [x, y] of [[1.5, 2], [-0.3, 0.7]] as const) {
      const expected = [x * x + x * y * y, [x, x * y]];
      expect(gen["stop-gradient"]!["df"]!(x, y)).toEqual(expected);
      expect(tape["stop-gradient"]!["df"]!(x, y)).toEqual(expected);
    }
  });
});

describe("composition at any depth and in every order", () => {
  const g = (x: number) => (x > 0.5 ? Math.sin(x) * x * x : Math.exp(x) / (1 + x * x));
  const d1 = (f: (x: number) => number, x: number, h = 1e-5) => (f(x + h) - f(x - h)) / (2 * h);
  const run = (name: string, ...args: unknown[]) => [gen["compose-depth"]![name]!(...args), tape["compose-depth"]![name]!(...args)];

  it("a third derivative through a branch: grad(grad(grad(g)))", () => {
    for (const x of [-0.8, 0.2, 0.9, 1.7]) {
      const [c, tp] = run("d3g", x);
      // Third differences of g, as differences of the second difference.
      const second = (y: number, h = 1e-3) => (g(y + h) - 2 * g(y) + g(y - h)) / (h * h);
      close(c, d1(second, x, 1e-3), 1e-4, `g'''(${x})`);
      close(tp, c, 1e-9, "tape");
    }
  });

  it("reverse over forward: grad of a jvp's tangent", () => {
    const slope = (x: number, y: number) => d1(g, x * y, 1e-6) * y;
    const [[dx, dy], [tx, ty]] = run("dSlopeOfJvp", 0.9, 1.3);
    close(dx, d1((x) => slope(x, 1.3), 0.9, 1e-4), 1e-5, "d/dx");
    close(dy, d1((y) => slope(0.9, y), 1.3, 1e-4), 1e-5, "d/dy");
    close(tx, dx, 1e-9, "tape d/dx");
    close(ty, dy, 1e-9, "tape d/dy");
  });

  it("a nested valueAndGrad's value and gradient both differentiated", () => {
    const f = (x: number) => g(x) * d1(g, x, 1e-6);
    for (const x of [0.1, 1.2]) {
      const [c, tp] = run("dValueAndSlope", x);
      close(c, d1(f, x, 1e-4), 1e-5, `at ${x}`);
      close(tp, c, 1e-9, "tape");
    }
  });

  it("grad inside a rolled loop, differentiated", () => {
    const f = (x: number) => {
      let s = 0;
      for (let i = 0; i < 20; i++) s += d1(g, x + 0.01 * i, 1e-6) * 0.1;
      return s;
    };
    expect(compiled.get("compose-depth")!.module!.code).toMatch(/for \(let \w+ = 20 - 1; \w+ >= 0; \w+--\)/);
    for (const x of [0.1, 0.7]) {
      const [c, tp] = run("dInLoop", x);
      close(c, d1(f, x, 1e-4), 1e-5, `at ${x}`);
      close(tp, c, 1e-9, "tape");
    }
  });

  it("jvp of a pytree argument", () => {
    const tree = (p: { w: number; b: number[] }, x: number) => Math.tanh(p.w * x + p.b[0]!) * p.b[1]!;
    const p = { w: 0.4, b: [0.2, -1.1] as [number, number] };
    const tp = { w: 1, b: [-0.5, 2] as [number, number] };
    const [[v, t], [v2, t2]] = run("treeJvp", [p, 0.8], [tp]);
    close(v, tree(p, 0.8), 1e-12, "value");
    const fd = d1((h) => tree({ w: p.w + h * tp.w, b: [p.b[0] + h * tp.b[0], p.b[1] + h * tp.b[1]] }, 0.8), 0, 1e-6);
    close(t, fd, 1e-6, "tangent");
    close(v2, v, 1e-12, "tape value");
    close(t2, t, 1e-10, "tape tangent");
  });

  it("customVjp under forward mode and under grad of grad", () => {
    const [[v, t], [v2, t2]] = run("cubeJvp", [1.5], [2]);
    expect([v, t]).toEqual([1.5 ** 3 + 1.5, (3 * 1.5 ** 2 + 1) * 2]);
    expect([v2, t2]).toEqual([v, t]);
    const [d2, d2t] = run("d2Cube", 1.5);
    close(d2, 6 * 1.5, 1e-12, "second derivative through the rule");
    close(d2t, d2, 1e-12, "tape");
  });
});
