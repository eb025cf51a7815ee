// One generic gradient check for every op on the tape: the loss <op(inputs), R> for a random
// direction R, differentiated by `grad` and by central finite differences of the plain function.

import fc from "fast-check";
import { describe, expect, it } from "vitest";
import * as g from "../../runtime/index.js";
import { type Tensor, grad, tensor } from "../../runtime/index.js";
import { callNatively } from "../../runtime/interpret.js";

type Input = number | Tensor<readonly number[]>;

/** Deterministic uniform numbers for reproducible points. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = Math.imul(a ^ (a >>> 15), a | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** How to draw an input's entries: away from each op's kinks and outside its domain edges. */
type Domain = "any" | "positive" | "awayFromZero";

function draw(shape: number[] | "scalar", domain: Domain, next: () => number): Input {
  const one = (): number => {
    const u = next();
    if (domain === "positive") return 0.5 + 1.5 * u;
    if (domain === "awayFromZero") return (u < 0.5 ? -1 : 1) * (0.2 + 1.8 * next());
    return -2 + 4 * u;
  };
  if (shape === "scalar") return one();
  const n = shape.reduce((a, b) => a * b, 1);
  return tensor(Float64Array.from({ length: n }, one), shape) as Tensor<number[]>;
}

interface Case {
  name: string;
  run: (...xs: Input[]) => Input;
  inputs: { shape: number[] | "scalar"; domain?: Domain }[];
}

const T = (shape: number[], domain: Domain = "any") => ({ shape, domain });
const S = (domain: Domain = "any") => ({ shape: "scalar" as const, domain });
const op = (f: unknown) => f as (...xs: Input[]) => Input;

const unary: Case[] = (
  [
    ["neg", "any"],
    ["exp", "any"],
    ["log", "positive"],
    ["sqrt", "positive"],
    ["square", "any"],
    ["tanh", "any"],
    ["sigmoid", "any"],
    ["relu", "awayFromZero"],
    ["abs", "awayFromZero"],
  ] as const
).map(([name, domain]) => ({ name, run: op(g[name]), inputs: [T([2, 3], domain)] }));

const binaryNames = ["add", "sub", "mul", "div", "pow", "maximum", "minimum"] as const;
const binaryDomains: Record<(typeof binaryNames)[number], [Domain, Domain]> = {
  add: ["any", "any"],
  sub: ["any", "any"],
  mul: ["any", "any"],
  div: ["any", "awayFromZero"],
  pow: ["positive", "any"],
  maximum: ["any", "any"],
  minimum: ["any", "any"],
};
const binaryShapes: [string, number[] | "scalar", number[] | "scalar"][] = [
  ["same shape", [2, 3], [2, 3]],
  ["[B,1] with [1,C]", [2, 1], [1, 3]],
  ["[C] with [B,C]", [3], [2, 3]],
  ["tensor with scalar", [2, 3], "scalar"],
  ["scalar with tensor", "scalar", [2, 3]],
  ["scalars", "scalar", "scalar"],
];
const binary: Case[] = binaryNames.flatMap((name) =>
  binaryShapes.map(([label, a, b]) => ({
    name: `${name} (${label})`,
    run: op(g[name]),
    inputs: [
      { shape: a, domain: binaryDomains[name][0] },
      { shape: b, domain: binaryDomains[name][1] },
    ],
  })),
);

const axisChoices: [string, number | number[] | undefined, boolean][] = [
  ["all", undefined, false],
  ["axis 0", 0, false],
  ["axis 1", 1, false],
  ["axis 2 keepdims", 2, true],
  ["axis -1 keepdims", -1, true],
  ["axes [0, 2]", [0, 2], false],
  ["axis 0 keepdims", 0, true],
];
const reductions: Case[] = (["sum", "mean", "max", "logSumExp"] as const).flatMap((name) =>
  axisChoices.map(([label, axis, keep]) => ({
    name: `${name} (${label})`,
    // Bound, so it has no readable source: the fallback calls it on traced values directly,
    // rather than interpreting a closure over `name`, `axis` and `keep` it cannot see.
    run: ((x: Input) => (g[name] as (x: Input, a?: number | number[], k?: boolean) => Input)(x, axis, keep)).bind(null),
    inputs: [T([2, 3, 2])],
  })),
);

const others: Case[] = [
  { name: "matmul", run: op(g.matmul), inputs: [T([2, 3]), T([3, 4])] },
  { name: "transpose", run: op(g.transpose), inputs: [T([2, 3])] },
  { name: "reshape", run: (x) => g.reshape(x as Tensor, [3, 2]), inputs: [T([2, 3])] },
  { name: "softmax (last axis)", run: (x) => g.softmax(x as Tensor), inputs: [T([2, 3])] },
  { name: "softmax (axis 0)", run: (x) => g.softmax(x as Tensor, 0), inputs: [T([2, 3])] },
  { name: "sum of a 1-D tensor over axis 0", run: (x) => g.sum(x as Tensor, 0), inputs: [T([4])] },
  // Fan-out: the same input feeds several ops, and the gradients add up.
  { name: "fan-out", run: (x) => g.mul(g.add(x, g.exp(x)), x), inputs: [T([2, 3])] },
  { name: "composite chain", run: (x, w) => g.mean(g.tanh(g.matmul(x as Tensor, w as Tensor)), 0), inputs: [T([4, 3]), T([3, 2])] },
];

/** `sum(out * r)` for a fixed random r, so every entry of the op's Jacobian is exercised. */
function directionalLoss(c: Case, xs: Input[], next: () => number) {
  const out = c.run(...xs);
  const r = draw(typeof out === "number" ? "scalar" : [...out.shape], "any", next);
  // Called directly on the traced values (a rest parameter and a spread call are outside the
  // language the fallback interprets): the ops record on the tape all the same.
  const loss = callNatively((...args: Input[]): number => g.sum(g.mul(c.run(...args), r)));
  return { loss, scope: { c, r } };
}

/** Central finite differences of `f` with respect to every entry of every input. */
function numericGradients(f: (...xs: Input[]) => number, xs: Input[], eps = 1e-6): Input[] {
  return xs.map((x, k) => {
    const at = (i: number, h: number): number => {
      const ys = xs.map((y, j) => {
        if (j !== k) return y;
        if (typeof y === "number") return y + h;
        const data = y.data.slice();
        data[i]! += h;
        return { shape: y.shape, data } as Tensor<number[]>;
      });
      return f(...ys);
    };
    if (typeof x === "number") return (at(0, eps) - at(0, -eps)) / (2 * eps);
    const data = x.data.map((_, i) => (at(i, eps) - at(i, -eps)) / (2 * eps));
    return { shape: x.shape, data } as Tensor<number[]>;
  });
}

function expectClose(analytic: Input, numeric: Input, tol = 1e-6): void {
  if (typeof numeric === "number") {
    expect(typeof analytic).toBe("number");
    expect(Math.abs((analytic as number) - numeric)).toBeLessThan(tol * Math.max(1, Math.abs(numeric)));
    return;
  }
  expect(typeof analytic).toBe("object");
  const a = analytic as Tensor<number[]>;
  expect(a.shape).toEqual(numeric.shape);
  a.data.forEach((v, i) => {
    const n = numeric.data[i]!;
    expect(Math.abs(v - n)).toBeLessThan(tol * Math.max(1, Math.abs(n)));
  });
}

describe("every op's tape gradient matches finite differences", () => {
  it.each([...unary, ...binary, ...reductions, ...others].map((c) => [c.name, c] as const))("%s", (_name, c) => {
    for (const seed of [1, 2, 3]) {
      const next = rng(seed * 7919 + c.name.length);
      const xs = c.inputs.map((i) => draw(i.shape, i.domain ?? "any", next));
      const { loss, scope } = directionalLoss(c, xs, next);
      const argnums = xs.map((_, i) => i);
      const analytic = grad(loss, { argnums, scope })(...xs) as Input[];
      const numeric = numericGradients(loss, xs);
      analytic.forEach((a, i) => expectClose(a, numeric[i]!));
    }
  });
});

describe("broadcasting gradients over random shapes", () => {
  it("sum back to each input's shape for any broadcastable pair", () => {
    // Each output axis of size d comes from an input axis of size d or 1 (or is missing).
    const pair = fc
      .array(fc.integer({ min: 1, max: 3 }), { minLength: 1, maxLength: 3 })
      .chain((dims) =>
        fc.tuple(
          fc.constant(dims),
          fc.array(fc.boolean(), { minLength: dims.length, maxLength: dims.length }),
          fc.array(fc.boolean(), { minLength: dims.length, maxLength: dims.length }),
          fc.integer({ min: 0, max: dims.length }),
          fc.integer({ min: 1, max: 1000 }),
        ),
      );
    fc.assert(
      fc.property(pair, ([dims, ones1, ones2, drop, seed]) => {
        const a = dims.map((d, i) => (ones1[i] ? 1 : d));
        const b = dims.map((d, i) => (ones2[i] ? 1 : d)).slice(drop);
        const next = rng(seed);
        const xs = [draw(a, "any", next), b.length === 0 ? draw("scalar", "any", next) : draw(b, "any", next)];
        for (const name of ["add", "mul", "sub"] as const) {
          const c: Case = { name, run: op(g[name]), inputs: [] };
          const { loss, scope } = directionalLoss(c, xs, next);
          const analytic = grad(loss, { argnums: [0, 1], scope })(...xs) as Input[];
          const numeric = numericGradients(loss, xs);
          analytic.forEach((an, i) => expectClose(an, numeric[i]!));
        }
      }),
      { numRuns: 40, seed: 20240601 },
    );
  });
});

describe("softmax and logSumExp at extreme logits", () => {
  const logits = tensor([1000, -1000, 999]);
  const e1 = Math.exp(-1);
  const p = [1 / (1 + e1), 0, e1 / (1 + e1)]; // the softmax, by hand

  it("logSumExp has the softmax as its gradient, finite", () => {
    const dl = grad((x: Tensor<[3]>) => g.logSumExp(x))(logits);
    dl.data.forEach((v, i) => expect(Math.abs(v - p[i]!)).toBeLessThan(1e-12));
  });

  it("softmax's gradient along a direction r is p ⊙ (r − ⟨p, r⟩), finite", () => {
    const r = [0.3, -1.2, 2] as const;
    const dot = p.reduce((acc, pi, i) => acc + pi * r[i]!, 0);
    const ds = grad((x: Tensor<[3]>, w: Tensor<[3]>) => g.sum(g.mul(g.softmax(x), w)))(logits, tensor(r));
    ds.data.forEach((v, i) => {
      expect(Number.isFinite(v)).toBe(true);
      expect(Math.abs(v - p[i]! * (r[i]! - dot))).toBeLessThan(1e-12);
    });
  });

  it("cross-entropy of a batch at ±1000 stays finite", () => {
    const batch = tensor([[1000, -1000], [-1000, 1000]]);
    const onehot = tensor([[1, 0], [1, 0]]);
    const ce = (x: Tensor<[2, 2]>) => g.mean(g.sub(g.logSumExp(x, 1), g.sum(g.mul(x, onehot), 1)));
    const [v, d] = g.valueAndGrad(ce, { scope: { onehot } })(batch);
    expect(v).toBeCloseTo(1000, 9); // row 0 is right (loss 0), row 1 wrong by 2000
    d.data.forEach((x) => expect(Number.isFinite(x)).toBe(true));
    // d/dx = (softmax(x) − onehot) / B
    expect([...d.data]).toEqual([0, 0, -0.5, 0.5]);
  });
});

describe("f32 tensors", () => {
  it("carry f32 through the tape, close to the f64 gradient", () => {
    const x64 = tensor([[0.5, -1.25, 2], [1, 0.75, -0.5]]);
    const x32 = tensor(Float32Array.from(x64.data), [2, 3]);
    const f = (x: Tensor<[2, 3], "f32"> | Tensor<[2, 3]>) => g.sum(g.tanh(g.mul(x as Tensor<[2, 3]>, x as Tensor<[2, 3]>)));
    const d64 = grad(f)(x64);
    const d32 = grad(f)(x32);
    expect(d32.data).toBeInstanceOf(Float32Array);
    d32.data.forEach((v, i) => expect(Math.abs(v - d64.data[i]!)).toBeLessThan(1e-5));
  });
});
