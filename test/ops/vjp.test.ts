// One generic gradient check over the op registry, in the manner of JAX's: for every op, either
// a table entry whose points (away from kinks, inside the domain) check the op's VJP against
// central finite differences of its reference evaluation in a random direction,
//   Σ_i <sumTo(vjp(g)_i), v_i>  ≈  <g, (f(x + εv) - f(x - εv)) / 2ε>,
// or the explicit statement that it has no gradient. A new op without either fails here.
// A VJP may give no cotangent (null, a symbolic zero) for an active argument: the finite
// differences must then find a zero derivative too (floor, sign and the like, between jumps).
// Broadcast gradients go through `sumTo`, as AD applies it (the one place it is undone).

import { describe, expect, it } from "vitest";
import type { Attrs } from "../../compiler/ir/types.js";
import { type OpDef, allOps, getOp, sumTo } from "../../compiler/ops/index.js";
import { type Val, dtypeOf, shapeOf } from "../../compiler/ops/values.js";
import { EagerBuilder } from "../helpers/eager.js";
import { rng } from "../helpers/numeric.js";
import { type Domain, axpy, dot, draw, flat } from "../helpers/values.js";

interface Arg {
  readonly shape: readonly number[];
  readonly domain?: Domain;
  /** A boolean argument (a condition): never differentiated. */
  readonly bool?: boolean;
  /** A fixed number (an index): never differentiated. */
  readonly fixed?: number;
  /** A tensor the op's output is piecewise constant in (max pooling's x): drawn, not differentiated. */
  readonly constant?: boolean;
  /** Fixed i32 indices of `shape` (labels, gathers): never differentiated. */
  readonly ints?: readonly number[];
}

interface Case {
  readonly args: readonly Arg[];
  readonly attrs?: Attrs;
  /** Rejects points too close to a kink (resampled). */
  readonly valid?: (args: readonly Val[]) => boolean;
}

/** Ops without a gradient, and why. */
const NOT_DIFFERENTIABLE: Readonly<Record<string, string>> = {
  const: "a constant has no inputs",
  dim: "the run-time size of a symbolic dimension, an integer",
  lt: "comparisons give booleans",
  le: "comparisons give booleans",
  gt: "comparisons give booleans",
  ge: "comparisons give booleans",
  eq: "comparisons give booleans",
  ne: "comparisons give booleans",
  and: "logic on booleans",
  or: "logic on booleans",
  not: "logic on booleans",
  argmax_mask: "a 0/1 mask, piecewise constant in its input (max's VJP multiplies by it)",
  one_hot: "its input is i32 labels, integers with no gradient",
  argmax: "gives i32 positions, piecewise constant in its input",
};

/** Ops whose gradient is zero by definition (the VJP returns no cotangent). */
const ZERO_GRADIENT: Readonly<Record<string, string>> = {
  stop_gradient: "the identity whose gradient is cut (softmax's shift by the max)",
  greater: "a 1/0 mask: piecewise constant in its operands",
  less: "a 1/0 mask: piecewise constant in its operands",
  equal: "a 1/0 mask: piecewise constant in its operands",
};

const BINARY_SHAPES: readonly (readonly [number[], number[]])[] = [
  [[], []],
  [[3], [3]],
  [[2, 3], [3]],
  [[2, 1], [1, 3]],
  [[], [2, 2]],
  [[2, 3], []],
];

const binary = (dx: Domain, dy: Domain, valid?: Case["valid"]): Case[] =>
  BINARY_SHAPES.map(([a, b]) => ({ args: [{ shape: a, domain: dx }, { shape: b, domain: dy }], ...(valid ? { valid } : {}) }));

const unary = (d: Domain): Case[] => [[], [4], [2, 3]].map((shape) => ({ args: [{ shape, domain: d }] }));

/** max/min have a kink where the arguments meet: keep every broadcast pair apart. */
const apart = (args: readonly Val[]): boolean => flat(getOp("sub").evaluate(args, {})).every((d) => Math.abs(d) > 0.05);

/** Piecewise-constant ops jump at the integers shifted by `offset`: keep every entry apart. */
const awayFromJumps =
  (offset = 0) =>
  ([x]: readonly Val[]): boolean =>
    flat(x!).every((v) => Math.abs(v - offset - Math.round(v - offset)) > 0.05);

const piecewise = (offset = 0): Case[] => unary("any").map((c) => ({ ...c, valid: awayFromJumps(offset) }));

/** a % b jumps where a/b is a whole number. */
const remainderAway = (args: readonly Val[]): boolean => awayFromJumps()([getOp("div").evaluate(args, {})]);

/** A max reduction has a kink where two entries tie (the steps below move entries by < 1e-4). */
const distinctEntries = ([x]: readonly Val[]): boolean => {
  const xs = flat(x!).sort((a, b) => a - b);
  return xs.every((v, i) => i === 0 || v - xs[i - 1]! > 1e-3);
};

/** clip has kinks where x meets lo or hi: keep every broadcast triple apart. */
const clipApart = ([x, lo, hi]: readonly Val[]): boolean =>
  apart([x!, lo!]) && apart([x!, hi!]) && apart([lo!, hi!]);

const reductions = (valid?: Case["valid"]): Case[] =>
  ([{ axes: [1], keepdims: false }, { axes: [0, 2], keepdims: true }, { axes: [2], keepdims: false }, {}, { keepdims: false }] as Attrs[]).map((attrs) => ({
    args: [{ shape: [2, 3, 4] }],
    attrs,
    ...(valid ? { valid } : {}),
  }));

const TABLE: Readonly<Record<string, readonly Case[]>> = {
  add: binary("any", "any"),
  sub: binary("any", "any"),
  mul: binary("any", "any"),
  div: binary("any", "nonzero"),
  pow: binary("positive", "any"),
  maximum: binary("any", "any", apart),
  minimum: binary("any", "any", apart),
  neg: unary("any"),
  exp: unary("any"),
  log: unary("positive"),
  sqrt: unary("positive"),
  square: unary("any"),
  tanh: unary("any"),
  sigmoid: unary("any"),
  relu: unary("nonzero"),
  abs: unary("nonzero"),
  log1p: unary("positive"),
  expm1: unary("any"),
  sin: unary("any"),
  cos: unary("any"),
  sign: piecewise(),
  floor: piecewise(),
  ceil: piecewise(),
  round: piecewise(0.5),
  trunc: piecewise(),
  rem: binary("any", "nonzero", remainderAway),
  select: [
    { args: [{ shape: [], bool: true }, { shape: [] }, { shape: [] }] },
    { args: [{ shape: [2, 3], bool: true }, { shape: [2, 3] }, { shape: [2, 3] }] },
    { args: [{ shape: [2, 3], bool: true }, { shape: [3] }, { shape: [] }] },
  ],
  sum: reductions(),
  max: reductions(distinctEntries),
  reshape: [
    { args: [{ shape: [2, 3] }], attrs: { shape: [3, 2] } },
    { args: [{ shape: [6] }], attrs: { shape: [2, 3] } },
    { args: [{ shape: [2, 3] }], attrs: { shape: [6] } },
    { args: [{ shape: [] }], attrs: { shape: [1, 1] } },
  ],
  broadcast_to: [
    { args: [{ shape: [3] }], attrs: { shape: [2, 3] } },
    { args: [{ shape: [2, 1] }], attrs: { shape: [2, 3] } },
    { args: [{ shape: [1, 3] }], attrs: { shape: [4, 3] } },
    { args: [{ shape: [] }], attrs: { shape: [2, 2] } },
  ],
  transpose: [
    { args: [{ shape: [2, 3] }] },
    { args: [{ shape: [1, 4] }] },
    { args: [{ shape: [2, 3, 4] }] },
    { args: [{ shape: [2, 3, 4] }], attrs: { perm: [1, 2, 0] } },
    { args: [{ shape: [2, 3, 4, 2] }], attrs: { perm: [0, 2, 1, 3] } },
  ],
  matmul: [
    { args: [{ shape: [2, 3] }, { shape: [3, 4] }] },
    { args: [{ shape: [3, 2] }, { shape: [3, 4] }], attrs: { ta: true } },
    { args: [{ shape: [2, 3] }, { shape: [4, 3] }], attrs: { tb: true } },
    { args: [{ shape: [3, 2] }, { shape: [4, 3] }], attrs: { ta: true, tb: true } },
    { args: [{ shape: [1, 1] }, { shape: [1, 5] }] },
    // Batch dimensions, broadcast both ways (the cotangent of a broadcast operand sums over them).
    { args: [{ shape: [2, 2, 3] }, { shape: [2, 3, 4] }] },
    { args: [{ shape: [2, 2, 3] }, { shape: [3, 4] }] },
    { args: [{ shape: [2, 3] }, { shape: [3, 3, 4] }], attrs: { tb: false } },
    { args: [{ shape: [3, 1, 2, 3] }, { shape: [2, 4, 3] }], attrs: { tb: true } },
    { args: [{ shape: [2, 3, 2] }, { shape: [1, 3, 4] }], attrs: { ta: true } },
    // B not batched: dB is one product over the batch's rows (A and G reshaped), for B read
    // transposed, B with leading 1s, and A with a batch axis of 1.
    { args: [{ shape: [2, 2, 3] }, { shape: [4, 3] }], attrs: { tb: true } },
    { args: [{ shape: [2, 3, 2, 3] }, { shape: [1, 3, 4] }] },
    { args: [{ shape: [2, 1, 2, 3] }, { shape: [1, 1, 4, 3] }], attrs: { tb: true } },
  ],
  clip: [
    // lo < x < hi, x below lo, x above hi, broadcast bounds; kept away from the kinks.
    { args: [{ shape: [2, 3] }, { shape: [] }, { shape: [] }], valid: clipApart },
    { args: [{ shape: [4] }, { shape: [4] }, { shape: [1] }], valid: clipApart },
    { args: [{ shape: [2, 3] }, { shape: [3] }, { shape: [2, 1] }], valid: clipApart },
  ],
  where: [
    { args: [{ shape: [2, 3], constant: true }, { shape: [2, 3] }, { shape: [2, 3] }] },
    { args: [{ shape: [3], constant: true }, { shape: [2, 3] }, { shape: [] }] },
    { args: [{ shape: [2, 3], bool: true }, { shape: [3] }, { shape: [2, 1] }] },
  ],
  concat: [
    { args: [{ shape: [2, 3] }, { shape: [2, 1] }], attrs: { axis: 1 } },
    { args: [{ shape: [1, 3] }, { shape: [2, 3] }, { shape: [3, 3] }], attrs: { axis: 0 } },
    { args: [{ shape: [2, 2, 2] }], attrs: { axis: 2 } },
  ],
  slice: [
    { args: [{ shape: [4, 5] }], attrs: { start: [1, 0], end: [3, 5] } },
    { args: [{ shape: [2, 3, 4] }], attrs: { start: [0, 1, 1], end: [2, 3, 2] } },
  ],
  pad: [
    { args: [{ shape: [2, 5] }], attrs: { shape: [4, 5], start: [1, 0] } },
    { args: [{ shape: [2, 2, 1] }], attrs: { shape: [2, 3, 4], start: [0, 1, 1] } },
  ],
  conv2d: [
    { args: [{ shape: [2, 2, 5, 5] }, { shape: [3, 2, 3, 3] }], attrs: { stride: 1, padding: [0, 0, 0, 0] } },
    { args: [{ shape: [1, 2, 6, 5] }, { shape: [2, 2, 3, 2] }], attrs: { stride: 2, padding: [1, 1, 2, 2] } },
    { args: [{ shape: [2, 1, 4, 4] }, { shape: [2, 1, 2, 2] }], attrs: { stride: 1, padding: [0, 1, 0, 1] } },
  ],
  conv2d_dx: [
    { args: [{ shape: [2, 3, 3, 3] }, { shape: [3, 2, 3, 3] }], attrs: { stride: 1, padding: [0, 0, 0, 0], size: [5, 5] } },
    { args: [{ shape: [1, 2, 3, 4] }, { shape: [2, 2, 3, 2] }], attrs: { stride: 2, padding: [1, 1, 2, 2], size: [6, 5] } },
  ],
  conv2d_dw: [
    { args: [{ shape: [2, 2, 5, 5] }, { shape: [2, 3, 3, 3] }], attrs: { stride: 1, padding: [0, 0, 0, 0], size: [3, 3] } },
    { args: [{ shape: [1, 2, 6, 5] }, { shape: [1, 2, 3, 4] }], attrs: { stride: 2, padding: [1, 1, 2, 2], size: [3, 2] } },
  ],
  max_pool2d: [
    { args: [{ shape: [2, 2, 4, 4] }], attrs: { window: 2, stride: 2 }, valid: distinctEntries },
    { args: [{ shape: [1, 2, 5, 5] }], attrs: { window: 3, stride: 1 }, valid: distinctEntries },
  ],
  max_pool2d_grad: [
    { args: [{ shape: [2, 2, 4, 4], constant: true }, { shape: [2, 2, 2, 2] }], attrs: { window: 2, stride: 2 } },
    { args: [{ shape: [1, 2, 5, 5], constant: true }, { shape: [1, 2, 3, 3] }], attrs: { window: 3, stride: 1 } },
  ],
  max_pool2d_pick: [
    { args: [{ shape: [2, 2, 4, 4], constant: true }, { shape: [2, 2, 4, 4] }], attrs: { window: 2, stride: 2 } },
    { args: [{ shape: [1, 2, 5, 5], constant: true }, { shape: [1, 2, 5, 5] }], attrs: { window: 3, stride: 1 } },
  ],
  avg_pool2d: [
    { args: [{ shape: [2, 2, 4, 4] }], attrs: { window: 2, stride: 2 } },
    { args: [{ shape: [1, 2, 5, 4] }], attrs: { window: 2, stride: 1 } },
  ],
  avg_pool2d_grad: [
    { args: [{ shape: [2, 2, 2, 2] }], attrs: { window: 2, stride: 2, input: [4, 4] } },
    { args: [{ shape: [1, 2, 4, 3] }], attrs: { window: 2, stride: 1, input: [5, 4] } },
  ],
  take: [
    { args: [{ shape: [4, 3] }, { shape: [], fixed: 2 }] },
    { args: [{ shape: [4] }, { shape: [], fixed: 0 }] },
  ],
  // To f64 here (finite differences need it); the conversion to f32 is checked in
  // test/compiler/promotion.test.ts.
  cast: [
    { args: [{ shape: [2, 3] }], attrs: { dtype: "f64" } },
    { args: [{ shape: [] }], attrs: { dtype: "f64" } },
  ],
  // Repeated indices (the adjoint must accumulate them), every axis, and indices at both ends.
  gather: [
    { args: [{ shape: [5, 3] }, { shape: [4], ints: [4, 0, 4, 2] }], attrs: { axis: 0 } },
    { args: [{ shape: [2, 4, 3] }, { shape: [2, 3], ints: [3, 3, 0, 1, 3, 0] }], attrs: { axis: 1 } },
    { args: [{ shape: [2, 3] }, { shape: [5], ints: [2, 2, 2, 0, 1] }], attrs: { axis: -1 } },
  ],
  scatter_add: [
    { args: [{ shape: [4, 3] }, { shape: [4], ints: [4, 0, 4, 2] }], attrs: { axis: 0, shape: [5, 3] } },
    { args: [{ shape: [2, 5] }, { shape: [5], ints: [2, 2, 2, 0, 1] }], attrs: { axis: 1, shape: [2, 3] } },
  ],
  gather_along: [
    { args: [{ shape: [3, 4] }, { shape: [3, 2], ints: [3, 3, 0, 1, 2, 0] }], attrs: { axis: 1 } },
    { args: [{ shape: [3, 4] }, { shape: [5, 4], ints: [2, 2, 0, 1, 0, 0, 0, 0, 2, 1, 1, 2, 2, 0, 2, 1, 1, 1, 1, 0] }], attrs: { axis: 0 } },
  ],
  scatter_along: [
    { args: [{ shape: [3, 2] }, { shape: [3, 2], ints: [3, 3, 0, 1, 2, 0] }], attrs: { axis: 1, shape: [3, 4] } },
  ],
  put: [
    { args: [{ shape: [3] }, { shape: [], fixed: 1 }], attrs: { shape: [4, 3] } },
    { args: [{ shape: [] }, { shape: [], fixed: 3 }], attrs: { shape: [4] } },
  ],
};

const zerosLike = (v: Val): Val => (typeof v === "number" ? 0 : { shape: shapeOf(v), data: new Float64Array(flat(v).length) });

const differentiable = (c: Case): number[] => c.args.flatMap((a, i) => (a.bool || a.constant || a.fixed !== undefined || a.ints ? [] : [i]));

function drawArg(a: Arg, next: () => number): Val {
  if (a.fixed !== undefined) return a.fixed;
  if (a.ints) return { shape: [...a.shape], data: Int32Array.from(a.ints) };
  if (a.bool) {
    if (a.shape.length === 0) return next() < 0.5;
    const n = a.shape.reduce((x, y) => x * y, 1);
    return { shape: [...a.shape], data: Uint8Array.from({ length: n }, () => (next() < 0.5 ? 1 : 0)) };
  }
  return draw(a.shape, a.domain ?? "any", next);
}

function drawPoint(c: Case, next: () => number): Val[] {
  for (let tries = 0; tries < 200; tries++) {
    const args = c.args.map((a) => drawArg(a, next));
    if (!c.valid || c.valid(args)) return args;
  }
  throw new Error("no valid point found: loosen the case's domain");
}

const describeCase = (c: Case): string =>
  `(${c.args.map((a) => (a.bool ? "bool" : a.fixed !== undefined ? String(a.fixed) : a.ints ? "i32" : "f64") + `[${a.shape.join(",")}]`).join(", ")})` +
  (c.attrs ? ` ${JSON.stringify(c.attrs)}` : "");

/** Runs the op's VJP eagerly with the given arguments marked active. */
function cotangents(def: OpDef, g: Val, args: readonly Val[], out: Val, attrs: Attrs, needs: readonly boolean[]): (Val | null)[] {
  if (def.vjp === "not-differentiable") throw new Error(`${def.name} has no VJP`);
  return def.vjp(new EagerBuilder(), g, args, out, attrs, needs);
}

function checkCase(def: OpDef, c: Case, seed: number): void {
  const next = rng(seed);
  const attrs = c.attrs ?? {};
  const args = drawPoint(c, next);
  const out = def.evaluate(args, attrs);
  const g = draw(shapeOf(out), "any", next);
  const wrt = differentiable(c);
  const needs = c.args.map((_a, i) => wrt.includes(i));
  const eager = new EagerBuilder();
  const cts = cotangents(def, g, args, out, attrs, needs);
  expect(cts).toHaveLength(def.listArgs ? args.length : def.arity);

  // Each active argument gets a cotangent of its own shape (after undoing broadcasting).
  const grads = wrt.map((i) => {
    const ct = cts[i];
    if (ct === null) return zerosLike(args[i]!);
    const shaped = sumTo(eager, ct!, shapeOf(args[i]!));
    expect(shapeOf(shaped), `shape of the gradient of argument ${i}`).toEqual(shapeOf(args[i]!));
    return shaped;
  });

  // <vjp(g), v> against the directional derivative <g, J v> by central differences.
  const dirs = wrt.map((i) => draw(shapeOf(args[i]!), "any", next));
  const eps = 1e-5;
  const moved = (t: number): Val[] => args.map((a, i) => (wrt.includes(i) ? axpy(a, t, dirs[wrt.indexOf(i)]!) : a));
  const up = def.evaluate(moved(eps), attrs);
  const down = def.evaluate(moved(-eps), attrs);
  const jv = flat(up).map((u, k) => (u - flat(down)[k]!) / (2 * eps));
  const rhs = dot(g, shapeOf(g).length === 0 ? jv[0]! : { shape: shapeOf(g), data: Float64Array.from(jv) });
  const lhs = grads.reduce<number>((s, gr, k) => s + dot(gr, dirs[k]!), 0);
  expect(Math.abs(lhs - rhs), `<vjp(g), v> = ${lhs} but <g, Jv> ≈ ${rhs}`).toBeLessThanOrEqual(1e-6 * Math.max(1, Math.abs(lhs), Math.abs(rhs)));

  // With one argument active at a time, the rule gives that argument the same cotangent and
  // builds nothing for the others.
  for (const i of wrt) {
    const only = c.args.map((_a, k) => k === i);
    const single = cotangents(def, g, args, out, attrs, only);
    single.forEach((ct, k) => {
      if (k === i) expect(ct && flat(ct), `argument ${i} alone`).toEqual(cts[i] && flat(cts[i]!));
      else expect(ct, `argument ${k} is not active`).toBeNull();
    });
  }
}

const opNames = allOps().map((op) => op.name);

describe("every op has a gradient check or says it has none", () => {
  it.each(opNames)("%s", (name) => {
    const def = getOp(name);
    const listed = [name in TABLE, name in NOT_DIFFERENTIABLE, name in ZERO_GRADIENT].filter(Boolean).length;
    expect(listed, `${name}: add a TABLE entry (or list it as not differentiable, with the reason)`).toBe(1);
    if (name in NOT_DIFFERENTIABLE) expect(def.vjp).toBe("not-differentiable");
    else expect(typeof def.vjp).toBe("function");
  });

  it("lists no op the registry does not have", () => {
    const stale = [...Object.keys(TABLE), ...Object.keys(NOT_DIFFERENTIABLE), ...Object.keys(ZERO_GRADIENT)].filter((n) => !opNames.includes(n));
    expect(stale).toEqual([]);
  });
});

describe("VJPs against central finite differences in a random direction", () => {
  const cases = Object.entries(TABLE).flatMap(([name, cs]) => cs.map((c, k) => ({ name, c, k })));
  it.each(cases.map((x) => [`${x.name} ${describeCase(x.c)}`, x] as const))("%s", (_label, { name, c, k }) => {
    const def = getOp(name);
    for (let trial = 0; trial < 3; trial++) checkCase(def, c, 7919 * (k + 1) + 104729 * trial + name.length);
  });
});

describe("zero-gradient ops", () => {
  it.each(Object.keys(ZERO_GRADIENT))("%s gives no cotangent", (name) => {
    const def = getOp(name);
    const next = rng(1);
    const xs = Array.from({ length: def.arity }, () => draw([2, 3], "any", next));
    const out = def.evaluate(xs, {});
    expect(cotangents(def, out, xs, out, {}, xs.map(() => true))).toEqual(xs.map(() => null));
  });
});

describe("gradients keep their argument's dtype", () => {
  const f32 = (shape: number[], next: () => number): Val => draw(shape, "positive", next, true);
  it.each(Object.keys(TABLE).filter((n) => getOp(n).kind === "elementwise" && getOp(n).arity === 2))("%s on f32 tensors", (name) => {
    const def = getOp(name);
    const next = rng(name.length);
    let args = [f32([2, 3], next), f32([3], next)];
    if (name === "maximum" || name === "minimum") while (!apart(args)) args = [f32([2, 3], next), f32([3], next)];
    const out = def.evaluate(args, {});
    expect(dtypeOf(out)).toBe("f32");
    const eager = new EagerBuilder();
    const cts = cotangents(def, draw([2, 3], "any", next, true), args, out, {}, [true, true]);
    cts.forEach((ct, i) => {
      const shaped = sumTo(eager, ct!, shapeOf(args[i]!));
      expect(dtypeOf(shaped), `gradient of argument ${i}`).toBe("f32");
      expect(shapeOf(shaped)).toEqual(shapeOf(args[i]!));
    });
  });
});

// ---- forward mode and higher orders ----------------------------------------------------

/** Runs the op's JVP eagerly with tangents for the differentiable arguments. */
function tangentOut(def: OpDef, ts: readonly (Val | null)[], args: readonly Val[], out: Val, attrs: Attrs): Val | null {
  if (def.jvp === "not-differentiable") throw new Error(`${def.name} has no JVP`);
  return def.jvp(new EagerBuilder(), ts, args, out, attrs);
}

describe("JVPs against central finite differences in a random direction", () => {
  const cases = Object.entries(TABLE).flatMap(([name, cs]) => cs.map((c, k) => ({ name, c, k })));
  it.each(cases.map((x) => [`${x.name} ${describeCase(x.c)}`, x] as const))("%s", (_label, { name, c, k }) => {
    const def = getOp(name);
    for (let trial = 0; trial < 3; trial++) {
      const next = rng(7907 * (k + 1) + 104723 * trial + name.length);
      const attrs = c.attrs ?? {};
      const args = drawPoint(c, next);
      const out = def.evaluate(args, attrs);
      const wrt = differentiable(c);
      const dirs = wrt.map((i) => draw(shapeOf(args[i]!), "any", next));
      const t = tangentOut(def, args.map((_a, i) => (wrt.includes(i) ? dirs[wrt.indexOf(i)]! : null)), args, out, attrs);
      // No tangent is a symbolic zero, checked against the finite differences like any other.
      if (t !== null) expect(shapeOf(t), "the tangent has the output's shape").toEqual(shapeOf(out));
      const eps = 1e-5;
      const moved = (s: number): Val[] => args.map((a, i) => (wrt.includes(i) ? axpy(a, s, dirs[wrt.indexOf(i)]!) : a));
      const up = flat(def.evaluate(moved(eps), attrs));
      const down = flat(def.evaluate(moved(-eps), attrs));
      (t === null ? flat(out).map(() => 0) : flat(t)).forEach((ti, j) => {
        const fd = (up[j]! - down[j]!) / (2 * eps);
        expect(Math.abs(ti - fd), `tangent entry ${j}: ${ti} vs ${fd}`).toBeLessThanOrEqual(1e-6 * Math.max(1, Math.abs(fd)));
      });
    }
  });

  it.each(Object.keys(NOT_DIFFERENTIABLE))("%s has no JVP either", (name) => expect(getOp(name).jvp).toBe("not-differentiable"));
  it.each(Object.keys(ZERO_GRADIENT))("%s has a zero tangent", (name) => {
    const x = draw([2, 3], "any", rng(2));
    expect(tangentOut(getOp(name), [x], [x], x, {})).toBeNull();
  });
});

describe("every VJP is built from differentiable ops (so grad of grad works)", () => {
  // The ops a rule may use without a gradient: masks and conditions, which are piecewise
  // constant, so their zero derivative is the right one.
  const masks = new Set(Object.keys(NOT_DIFFERENTIABLE));
  const cases = Object.entries(TABLE).flatMap(([name, cs]) => cs.map((c, k) => ({ name, c, k })));
  it.each(cases.map((x) => [`${x.name} ${describeCase(x.c)}`, x] as const))("%s", (_label, { name, c, k }) => {
    const def = getOp(name);
    const next = rng(31 * (k + 1) + name.length);
    const attrs = c.attrs ?? {};
    const args = drawPoint(c, next);
    const out = def.evaluate(args, attrs);
    const eager = new EagerBuilder();
    if (def.vjp === "not-differentiable") return;
    def.vjp(eager, draw(shapeOf(out), "any", next), args, out, attrs, c.args.map((_a, i) => differentiable(c).includes(i)));
    for (const op of eager.trace) {
      const used = getOp(op);
      expect(used.vjp !== "not-differentiable" || masks.has(op), `${name}'s VJP uses ${op}, which has no gradient`).toBe(true);
    }
  });
});
