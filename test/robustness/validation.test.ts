// Run-time validation of compiled functions (docs/architecture.md, "Run-time validation"):
// wrong shapes, data lengths, dtypes, symbolic dimensions, missing and extra pytree fields,
// wrong containers each throw a GradcError naming the function, the argument and what was
// expected, before any work; non-finite inputs are not errors and propagate as NaN/Infinity
// through exactly the values and gradients that depend on them.

import { beforeAll, describe, expect, it } from "vitest";
import { GradcError } from "../../runtime/index.js";
import { type Compiled, compileFiles, load, tensorOf } from "./helpers.js";

const SOURCE = `import { valueAndGrad, grad, sum, mul, add, matmul, sigmoid, type Tensor } from "gradc";

export function layer<B extends number>(
  x: Tensor<[B, 3]>,
  w: Tensor<[3, 2]>,
  p: { b: Tensor<[2]>; scale: number },
  t: [number, number],
  h: Tensor<[3], "f32">,
): number {
  return sum(sigmoid(add(matmul(x, w), p.b))) * p.scale + t[0] * t[1] + sum(h);
}
export const gLayer = valueAndGrad(layer, { argnums: [1, 2, 3] });

export function pair<B extends number>(x: Tensor<[B]>, y: Tensor<[B]>): number {
  return sum(mul(x, y));
}
export const gPair = grad(pair, { argnums: [0, 1] });

export function square(x: Tensor<[3]>, s: number): number {
  return sum(mul(x, x)) + s * s;
}
export const gSquare = valueAndGrad(square, { argnums: [0, 1] });
`;

type Fn = (...args: unknown[]) => unknown;
let compiled: Compiled;
let gLayer: Fn;
let gPair: Fn;
let gSquare: Fn;

beforeAll(async () => {
  compiled = compileFiles("validation", { "model.ts": SOURCE });
  const mod = await load(compiled, "model.ts");
  [gLayer, gPair, gSquare] = [mod["gLayer"], mod["gPair"], mod["gSquare"]] as [Fn, Fn, Fn];
});

/** Good arguments for gLayer, with `change` applied. */
function layerArgs(change: Partial<Record<"x" | "w" | "p" | "t" | "h", unknown>> = {}): unknown[] {
  const good = {
    x: tensorOf([4, 3], Array.from({ length: 12 }, (_x, i) => i / 10)),
    w: tensorOf([3, 2], [0.1, -0.2, 0.3, 0.4, -0.5, 0.6]),
    p: { b: tensorOf([2], [0.5, -0.5]), scale: 2 },
    t: [3, 4],
    h: tensorOf([3], [1, 2, 3], true),
  };
  const all = { ...good, ...change };
  return [all.x, all.w, all.p, all.t, all.h];
}

/** The GradcError `f(...args)` throws. */
function failure(f: Fn, args: unknown[]): GradcError {
  try {
    f(...args);
  } catch (e) {
    expect(e).toBeInstanceOf(GradcError);
    return e as GradcError;
  }
  throw new Error("expected a GradcError, but the call returned");
}

describe("arguments that do not fit the declared types", () => {
  it("good arguments pass", () => {
    const [value, grads] = gLayer(...layerArgs()) as [number, unknown[]];
    expect(Number.isFinite(value)).toBe(true);
    expect(grads).toHaveLength(3);
  });

  it("a wrong shape names the function, the argument, and both shapes", () => {
    const e = failure(gLayer, layerArgs({ w: tensorOf([2, 3], [1, 2, 3, 4, 5, 6]) }));
    expect(e.message).toBe("gLayer: argument w must be a f64 tensor of shape [3, 2], got a f64 tensor of shape [2, 3] with 6 entries");
    expect(failure(gLayer, layerArgs({ w: tensorOf([6], [1, 2, 3, 4, 5, 6]) })).message).toMatch(/argument w must be .*\[3, 2\], got .*shape \[6\]/);
  });

  it("data of the wrong length for its shape", () => {
    const e = failure(gLayer, layerArgs({ w: { shape: [3, 2], data: new Float64Array(5) } }));
    expect(e.message).toBe("gLayer: argument w must be a f64 tensor of shape [3, 2], got a f64 tensor of shape [3, 2] with 5 entries");
  });

  it("the wrong dtype: Float32Array where f64 is declared, and the reverse", () => {
    expect(failure(gLayer, layerArgs({ w: tensorOf([3, 2], [1, 2, 3, 4, 5, 6], true) })).message).toBe(
      "gLayer: argument w must be a f64 tensor of shape [3, 2], got a f32 tensor of shape [3, 2] with 6 entries",
    );
    expect(failure(gLayer, layerArgs({ h: tensorOf([3], [1, 2, 3]) })).message).toBe(
      "gLayer: argument h must be a f32 tensor of shape [3], got a f64 tensor of shape [3] with 3 entries",
    );
    expect(failure(gLayer, layerArgs({ w: { shape: [3, 2], data: [1, 2, 3, 4, 5, 6] } })).message).toMatch(/got a non-float tensor/);
  });

  it("a symbolic dimension that differs between arguments", () => {
    const e = failure(gPair, [tensorOf([3], [1, 2, 3]), tensorOf([4], [1, 2, 3, 4])]);
    expect(e.message).toBe("gPair: argument y must be a f64 tensor of shape [B], got a f64 tensor of shape [4] with 4 entries");
  });

  it("a missing pytree field, a number or a tensor", () => {
    expect(failure(gLayer, layerArgs({ p: { b: tensorOf([2], [0, 0]) } })).message).toBe(
      "gLayer: argument p.scale must be a number, got undefined",
    );
    expect(failure(gLayer, layerArgs({ p: { scale: 1 } })).message).toBe("gLayer: argument p.b must be a f64 tensor of shape [2], got undefined");
  });

  it("an extra pytree field is an error naming it (see docs/architecture.md)", () => {
    const e = failure(gLayer, layerArgs({ p: { b: tensorOf([2], [0, 0]), scale: 1, bias: 3 } }));
    expect(e.message).toBe('gLayer: argument p has a field "bias" that its type does not declare (declared: "b", "scale"); pass only the declared fields');
    expect(failure(gLayer, layerArgs({ t: [3, 4, 5] })).message).toBe("gLayer: argument t must be an array of 2, got an array of 3");
  });

  it("the wrong kind of value altogether", () => {
    expect(failure(gLayer, layerArgs({ p: null })).message).toMatch(/^gLayer: argument p\.b must be a f64 tensor of shape \[2\], got undefined$/);
    expect(failure(gLayer, layerArgs({ x: [[1, 2, 3]] })).message).toMatch(/^gLayer: argument x must be a f64 tensor of shape \[B, 3\], got an array of 1$/);
    expect(failure(gLayer, layerArgs({ t: "34" })).message).toMatch(/^gLayer: argument t\[0\] must be a number, got string$/);
    expect(failure(gSquare, [tensorOf([3], [1, 2, 3])]).message).toBe("gSquare: argument s must be a number, got undefined");
    expect(failure(gSquare, [tensorOf([3], [1, 2, 3]), 1n]).message).toBe("gSquare: argument s must be a number, got bigint");
  });

  it("a failed check happens before any work: the next good call is unaffected", () => {
    const good = gLayer(...layerArgs()) as [number, unknown];
    failure(gLayer, layerArgs({ h: tensorOf([3], [1, 2, 3]) }));
    expect(gLayer(...layerArgs())).toEqual(good);
  });
});

describe("non-finite inputs: no error, NaN and Infinity propagate through what depends on them", () => {
  it("a NaN entry makes the value and that entry's gradient NaN, and nothing else", () => {
    const [value, [dx, ds]] = gSquare(tensorOf([3], [1, NaN, 3]), 2) as [number, [{ data: Float64Array }, number]];
    expect(value).toBeNaN();
    expect(Array.from(dx.data)).toEqual([2, NaN, 6]);
    expect(ds).toBe(4);
  });

  it("NaN and Infinity as numbers", () => {
    const [v1, [dx1, ds1]] = gSquare(tensorOf([3], [1, 2, 3]), NaN) as [number, [{ data: Float64Array }, number]];
    expect(v1).toBeNaN();
    expect(ds1).toBeNaN();
    expect(Array.from(dx1.data)).toEqual([2, 4, 6]);
    const [v2, [, ds2]] = gSquare(tensorOf([3], [1, 2, 3]), -Infinity) as [number, [unknown, number]];
    expect(v2).toBe(Infinity);
    expect(ds2).toBe(-Infinity);
  });
});
