// The dtype promotion rule (as NumPy and JAX): f32 and f64 tensors together give f64; numbers
// are weak and take a tensor's dtype. The shape rules, the eager ops and the tape apply it
// alike, and every gradient comes back in its parameter's dtype, compiled or on the tape.

import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import type { DType, Type } from "../../compiler/ir/types.js";
import { allOps, getOp } from "../../compiler/ops/index.js";
import { add, matmul, maximum, mul, sub, sum, tensor, valueAndGrad } from "../../runtime/index.js";
import { centralDifference } from "../helpers/numeric.js";
import { type Compiled, compileFiles, load } from "../robustness/helpers.js";

const t = (dtype: DType, shape: number[]): Type => ({ dtype, shape });

describe("the shape rules", () => {
  const cases: [string, Type[], DType][] = [
    ["f32 tensor with f64 tensor", [t("f32", [3]), t("f64", [3])], "f64"],
    ["f64 tensor with f32 tensor", [t("f64", [2, 3]), t("f32", [3])], "f64"],
    ["f32 tensor with a number", [t("f32", [3]), t("f64", [])], "f32"],
    ["a number with an f32 tensor", [t("f64", []), t("f32", [3])], "f32"],
    ["an f32 number with an f64 tensor", [t("f32", []), t("f64", [3])], "f64"],
    ["f32 tensors", [t("f32", [3]), t("f32", [1])], "f32"],
    ["an f32 number with a number", [t("f32", []), t("f64", [])], "f64"],
    ["f32 numbers", [t("f32", []), t("f32", [])], "f32"],
  ];
  const binaries = allOps().filter((op) => op.kind === "elementwise" && op.arity === 2 && !["lt", "le", "gt", "ge", "eq", "ne", "and", "or"].includes(op.name));

  it.each(cases)("every binary arithmetic op: %s", (_what, args, expected) => {
    expect(binaries.map((op) => op.name)).toEqual(expect.arrayContaining(["add", "sub", "mul", "div", "pow", "maximum", "minimum"]));
    for (const op of binaries) expect(op.infer(args, {}).dtype, op.name).toBe(expected);
  });

  it("select, matmul and the reductions", () => {
    expect(getOp("select").infer([t("bool", [3]), t("f32", [3]), t("f64", [3])], {}).dtype).toBe("f64");
    expect(getOp("select").infer([t("bool", [3]), t("f32", [3]), t("f64", [])], {}).dtype).toBe("f32");
    expect(getOp("matmul").infer([t("f32", [2, 3]), t("f64", [3, 4])], {}).dtype).toBe("f64");
    expect(getOp("matmul").infer([t("f32", [2, 3]), t("f32", [3, 4])], {}).dtype).toBe("f32");
    expect(getOp("sum").infer([t("f32", [2, 3])], {}).dtype).toBe("f32");
  });

  it("cast converts, rounding to the nearest f32", () => {
    const x = { shape: [2], data: Float64Array.from([0.1, 1 / 3]) };
    const y = getOp("cast").evaluate([x], { dtype: "f32" }) as { data: Float32Array };
    expect(y.data).toBeInstanceOf(Float32Array);
    expect(Array.from(y.data)).toEqual([Math.fround(0.1), Math.fround(1 / 3)]);
    expect(getOp("cast").infer([t("f64", [2])], { dtype: "f32" })).toEqual(t("f32", [2]));
  });
});

describe("the eager ops", () => {
  const a32 = tensor(Float32Array.from([1.5, -2, 0.25]), [3]);
  const b64 = tensor([0.1, 0.2, 0.3]);

  it("promote mixed tensors to f64 and keep f32 with numbers", () => {
    expect(mul(a32, b64).data).toBeInstanceOf(Float64Array);
    expect(Array.from(mul(a32, b64).data)).toEqual([1.5 * 0.1, -2 * 0.2, 0.25 * 0.3]);
    expect(add(b64, a32).data).toBeInstanceOf(Float64Array);
    expect(maximum(a32, b64).data).toBeInstanceOf(Float64Array);
    expect(mul(a32, 2).data).toBeInstanceOf(Float32Array);
    expect(sub(1, a32).data).toBeInstanceOf(Float32Array);
    const m = matmul(tensor(Float32Array.from([1, 2, 3, 4]), [2, 2]), tensor([1, 0, 0, 1], [2, 2]));
    expect(m.data).toBeInstanceOf(Float64Array);
  });

  it("the tape returns each gradient in its parameter's dtype, computed in the promoted dtype", () => {
    const f = (a: typeof a32, b: typeof b64): number => sum(mul(mul(a, b), b));
    const [value, [da, db]] = valueAndGrad(f, { argnums: [0, 1] })(a32, b64);
    expect(value).toBeCloseTo(1.5 * 0.01 - 2 * 0.04 + 0.25 * 0.09, 15);
    expect(da.data).toBeInstanceOf(Float32Array);
    expect(db.data).toBeInstanceOf(Float64Array);
    expect(Array.from(da.data)).toEqual([0.01, 0.04, 0.09].map(Math.fround));
    expect(Array.from(db.data)).toEqual([2 * 1.5 * 0.1, 2 * -2 * 0.2, 2 * 0.25 * 0.3]);
  });
});

const SOURCE = `import { grad, valueAndGrad, sum, mul, add, matmul, tanh, type Tensor } from "gradc";

export function mixed(a: Tensor<[3], "f32">, b: Tensor<[3]>, s: number): number {
  return sum(mul(tanh(mul(a, b)), s)) + sum(mul(a, 0.5));
}
export const gMixed = valueAndGrad(mixed, { argnums: [0, 1, 2] });

export function layer(w: Tensor<[2, 3], "f32">, x: Tensor<[3, 2]>): number {
  return sum(tanh(add(matmul(w, x), 0.1)));
}
export const gLayer = grad(layer, { argnums: [0, 1] });
`;

type Fn = (...args: unknown[]) => unknown;
let compiled: Compiled;
let m: Record<string, Fn>;
let tape: Record<string, Fn>;

beforeAll(async () => {
  compiled = compileFiles("promotion", { "model.ts": SOURCE });
  m = (await load(compiled, "model.ts")) as Record<string, Fn>;
  tape = (await import(/* @vite-ignore */ join(compiled.dir, "model.ts"))) as Record<string, Fn>;
});

type T = { shape: number[]; data: Float32Array | Float64Array };
const a = { shape: [3], data: Float32Array.from([0.3, -1.2, 0.7]) };
const b = { shape: [3], data: Float64Array.from([0.11, 0.5, -0.9]) };

describe("compiled code", () => {
  it("mul(a32, b64) is f64: the value is not rounded to f32", () => {
    const [value] = m["gMixed"]!(a, b, 1.5) as [number];
    const exact = [0, 1, 2].reduce((acc, i) => acc + Math.tanh(a.data[i]! * b.data[i]!) * 1.5 + a.data[i]! * 0.5, 0);
    expect(value).toBeCloseTo(exact, 13);
    expect(value).not.toBe(Math.fround(value));
  });

  it("each gradient in its parameter's dtype, as the .d.ts says, equal to the tape's", () => {
    const [, [da, db, ds]] = m["gMixed"]!(a, b, 1.5) as [number, [T, T, number]];
    expect(da.data).toBeInstanceOf(Float32Array);
    expect(db.data).toBeInstanceOf(Float64Array);
    expect(typeof ds).toBe("number");
    const [, [ta, tb, ts]] = tape["gMixed"]!(a, b, 1.5) as [number, [T, T, number]];
    expect(Array.from(da.data)).toEqual(Array.from(ta.data));
    Array.from(db.data).forEach((g, i) => expect(g).toBeCloseTo(tb.data[i]!, 14));
    expect(ds).toBeCloseTo(ts, 14);
    const dts = compiled.modules.get("model.ts")!.declarations!.text;
    expect(dts).toContain('gMixed(a: Tensor<[3], "f32">, b: Tensor<[3]>, s: number): [number, [Tensor<[3], "f32">, Tensor<[3]>, number]]');
  });

  it("the f64 parameter's gradient against central differences; the f32 one is the f64 gradient rounded", () => {
    const [, [da, db]] = m["gMixed"]!(a, b, 1.5) as [number, [T, T]];
    const value = (bb: T): number => (m["gMixed"]!(a, bb, 1.5) as [number])[0];
    for (let i = 0; i < 3; i++) {
      const fd = centralDifference((x) => {
        const data = Float64Array.from(b.data);
        data[i] = x;
        return value({ shape: [3], data });
      }, b.data[i]!);
      expect(db.data[i]).toBeCloseTo(fd, 7);
      // d/da_i worked by hand; the f32 cotangents round on the way (as on the tape and in JAX).
      const exact = (1 - Math.tanh(a.data[i]! * b.data[i]!) ** 2) * b.data[i]! * 1.5 + 0.5;
      expect(Math.abs(da.data[i]! - exact)).toBeLessThan(4e-7 * Math.max(1, Math.abs(exact)));
    }
  });

  it("matmul of f32 by f64: gradients f32 and f64, equal to the tape's", () => {
    const w = { shape: [2, 3], data: Float32Array.from([0.1, -0.2, 0.3, 0.4, 0.5, -0.6]) };
    const x = { shape: [3, 2], data: Float64Array.from([1, 2, -1, 0.5, 0.25, -2]) };
    const [dw, dx] = m["gLayer"]!(w, x) as [T, T];
    const [tw, tx] = tape["gLayer"]!(w, x) as [T, T];
    expect(dw.data).toBeInstanceOf(Float32Array);
    expect(dx.data).toBeInstanceOf(Float64Array);
    expect(Array.from(dw.data)).toEqual(Array.from(tw.data));
    Array.from(dx.data).forEach((g, i) => expect(g).toBeCloseTo(tx.data[i]!, 14));
  });
});
