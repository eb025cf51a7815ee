// i32 labels and the ops that use them (take, takeAlongAxis, oneHot, argmax, crossEntropy):
// compiled code against the tape and central differences (repeated indices, every axis, f32
// and f64), crossEntropy at ±1000 against values worked by hand, ties of argmax, and index
// errors: the same GradcError naming the op, the index and the bound, compiled, eager and on
// the tape, never a read past the end.

import { readFileSync } from "node:fs";
import { join } from "node:path";
import { beforeAll, describe, expect, it, vi } from "vitest";
import { GradcError, argmax, crossEntropy, grad, matmul, oneHot, take, takeAlongAxis, tensor } from "../../runtime/index.js";
import { ROOT } from "../helpers/fixtures.js";
import { centralDifference, relErr, rng, uniform } from "../helpers/numeric.js";
import { compileFiles, load } from "../robustness/helpers.js";
import * as model from "./model.js";

vi.mock("gradc", () => import("../../runtime/index.js"));

type Fn = (...args: unknown[]) => unknown;
type T = { shape: number[]; data: Float64Array | Float32Array | Int32Array };
let compiled: Record<string, unknown>;

beforeAll(async () => {
  const c = compileFiles("labels", { "model.ts": readFileSync(join(ROOT, "test/labels/model.ts"), "utf8") });
  expect(c.diagnostics).toEqual([]);
  compiled = await load(c, "model.ts");
});

const floats = (shape: number[], next: () => number, f32 = false): T => {
  const n = shape.reduce((a, b) => a * b, 1);
  const data = f32 ? new Float32Array(n) : new Float64Array(n);
  for (let i = 0; i < n; i++) data[i] = uniform(next, -2, 2);
  return { shape, data };
};
const ints = (shape: number[], values: number[]): T => ({ shape, data: Int32Array.from(values) });
/** `run` throws a GradcError with exactly `message` (the tape's also carry a GRADC code). */
function throwsGradc(run: () => unknown, message: string): void {
  let thrown: unknown;
  try {
    run();
  } catch (e) {
    thrown = e;
  }
  expect(thrown).toBeInstanceOf(GradcError);
  expect((thrown as Error).message).toBe(message);
}
const matmulOf = (a: T, b: T): { shape: [number, number]; data: Float64Array } => matmul(a as never, b as never) as never;

/** Compiled = tape on the value and every gradient; f64 gradients = central differences. */
function check(name: string, args: unknown[], argnums: number[], f32 = false): void {
  const mine = (compiled[name] as Fn)(...args) as [number, unknown];
  const taped = (model as unknown as Record<string, Fn>)[name]!(...args) as [number, unknown];
  const fn = (model as unknown as Record<string, Fn>)[name.slice(1, 2).toLowerCase() + name.slice(2)]!;
  expect(relErr(mine[0], taped[0])).toBeLessThan(f32 ? 1e-6 : 1e-12);
  expect(relErr(mine[0], fn(...args) as number)).toBeLessThan(f32 ? 1e-6 : 1e-12);
  const grads = (o: [number, unknown]): T[] => (argnums.length > 1 ? (o[1] as T[]) : [o[1] as T]);
  argnums.forEach((k, n) => {
    const [g, t] = [grads(mine)[n]!, grads(taped)[n]!];
    const x = args[k] as T;
    expect(g.shape).toEqual(x.shape);
    expect(g.data.constructor).toBe(x.data.constructor);
    g.data.forEach((v, i) => {
      expect(relErr(v, t.data[i]!), `${name} d${k}[${i}] vs the tape`).toBeLessThan(f32 ? 1e-5 : 1e-10);
      if (f32) return;
      const fd = centralDifference((u) => {
        const moved = [...args];
        const data = x.data.slice();
        data[i] = u;
        moved[k] = { shape: x.shape, data };
        return fn(...moved) as number;
      }, x.data[i]!);
      expect(relErr(v, fd), `${name} d${k}[${i}]: ${v} vs ${fd}`).toBeLessThan(1e-6);
    });
  });
}

describe("compiled = tape = finite differences", () => {
  it("take along axis 0 with repeated tokens (the adjoint accumulates)", () => {
    const next = rng(1);
    check("gEmbed", [floats([5, 3], next), ints([2, 4], [4, 0, 4, 4, 1, 0, 2, 4]), floats([2, 4, 3], next)], [0]);
  });
  it("take along the last axis, counted from the end", () => {
    const next = rng(2);
    check("gColumns", [floats([3, 4], next), ints([5], [3, 3, 0, 1, 3]), floats([3, 5], next)], [0]);
  });
  it("takeAlongAxis with an index picked twice in a row", () => {
    const next = rng(3);
    check("gAlong", [floats([3, 4], next), ints([3, 2], [3, 3, 0, 2, 1, 1]), floats([3, 2], next)], [0]);
  });
  it("oneHot", () => {
    check("gEncoded", [floats([4, 3], rng(4)), ints([4], [2, 0, 2, 1])], [0]);
  });
  it("take at argmax (argmax itself has no gradient)", () => {
    const next = rng(5);
    check("gPicked", [floats([4, 3], next), floats([4, 3], next)], [0]);
  });
  it("crossEntropy of a linear layer", () => {
    const next = rng(6);
    check("gClassify", [floats([3, 4], next), floats([4], next), floats([5, 3], next), ints([5], [0, 3, 3, 1, 2])], [0, 1]);
  });
  it("take and takeAlongAxis in f32 (against the tape)", () => {
    const next = rng(8);
    check("gEmbed32", [floats([5, 3], next, true), ints([2, 4], [4, 0, 4, 4, 1, 0, 2, 4]), floats([2, 4, 3], next, true)], [0], true);
    check("gAlong32", [floats([3, 4], next, true), ints([3, 2], [3, 3, 0, 2, 1, 1]), floats([3, 2], next, true)], [0], true);
  });
  it("crossEntropy in f32 (against the tape)", () => {
    const next = rng(7);
    check("gLogits32", [floats([6, 4], next, true), ints([6], [0, 3, 3, 1, 2, 0])], [0], true);
  });
});

describe("crossEntropy at ±1000 (values worked by hand)", () => {
  // Row 0: max 1000 at label 0, others ≤ 999: loss log(1 + e⁻¹ + e⁻²⁰⁰⁰ + e⁻¹⁰⁰⁰) ≈ log(1 + e⁻¹).
  // Row 1: label 1 holds -1000, max 1000: loss ≈ 2000. Row 2: all equal: loss log 4.
  const z = [1000, -1000, 999, 0, 1000, -1000, 0, 0, 5, 5, 5, 5];
  const y = [0, 1, 2];
  const loss = (Math.log(1 + Math.exp(-1)) + 2000 + Math.log(4)) / 3;
  // (softmax − oneHot) / 3, the softmax of each row by hand.
  const s0 = [1, 0, Math.exp(-1), 0].map((v) => v / (1 + Math.exp(-1)));
  const expected = [
    [s0[0]! - 1, s0[1]!, s0[2]!, s0[3]!],
    [1, -1, 0, 0],
    [0.25, 0.25, -0.75, 0.25],
  ].flat().map((v) => v / 3);

  it.each([["compiled", () => compiled["gLogits"] as Fn], ["tape", () => model.gLogits as Fn]] as const)("%s", (_label, get) => {
    const [value, g] = get()(tensor(z, [3, 4]), tensor(y, [3], "i32")) as [number, T];
    expect(relErr(value, loss)).toBeLessThan(1e-12);
    g.data.forEach((v, i) => expect(Math.abs(v - expected[i]!), `entry ${i}`).toBeLessThan(1e-12));
  });

  it("eager", () => {
    expect(relErr(crossEntropy(tensor(z, [3, 4]), tensor(y, [3], "i32")), loss)).toBeLessThan(1e-12);
  });
});

describe("argmax and oneHot", () => {
  it("argmax gives the first maximal entry, compiled and eager alike", async () => {
    const s = tensor([[1, 3, 3], [2, 2, 1], [-1, -5, -1], [0, 0, 9]]);
    expect([...argmax(s, 1).data]).toEqual([1, 0, 0, 2]);
    expect([...argmax(s, 0).data]).toEqual([1, 0, 3]);
    // take(x, argmax(s, 1)) picks rows 1, 0, 0, 2 of x: the compiled value says which it read.
    const x = tensor([[1, 2, 3], [4, 5, 6], [7, 8, 9], [10, 11, 12]]);
    const [value] = (compiled["gPicked"] as Fn)(x, s) as [number];
    const rows = [1, 0, 0, 2].map((r) => [1, 2, 3].map((c) => 3 * r + c));
    expect(value).toBe(rows.flat().reduce((acc, v, i) => acc + v * x.data[i]!, 0));
  });

  it("argmax predictions come back as an auxiliary i32 result, compiled as on the tape", () => {
    const next = rng(13);
    const args = [floats([3, 4], next), floats([5, 3], next), ints([5], [0, 1, 2, 3, 0])];
    const [[value, predicted], dw] = (compiled["gClassifyAux"] as Fn)(...args) as [[number, T], T];
    const [[tValue, tPredicted], tDw] = model.gClassifyAux(...(args as [never, never, never])) as unknown as [[number, T], T];
    expect(predicted.data).toBeInstanceOf(Int32Array);
    expect([...predicted.data]).toEqual([...tPredicted.data]);
    expect([...predicted.data]).toEqual([...argmax(matmulOf(args[1]!, args[0]!), 1).data]);
    expect(relErr(value, tValue)).toBeLessThan(1e-12);
    dw.data.forEach((v, i) => expect(relErr(v, tDw.data[i]!)).toBeLessThan(1e-10));
  });

  it("oneHot encodes each label on a new last axis, in the dtype asked", () => {
    const h = oneHot(tensor([2, 0], [2], "i32"), 3, "f32");
    expect(h.shape).toEqual([2, 3]);
    expect(h.data).toBeInstanceOf(Float32Array);
    expect([...h.data]).toEqual([0, 0, 1, 1, 0, 0]);
  });

  it("take and takeAlongAxis gather what NumPy gathers", () => {
    const x = tensor([[1, 2, 3], [4, 5, 6]]);
    const t = take(x, tensor([2, 0, 2], [3], "i32"), 1);
    expect(t.shape).toEqual([2, 3]);
    expect([...t.data]).toEqual([3, 1, 3, 6, 4, 6]);
    const a = takeAlongAxis(x, tensor([[1], [2]], undefined, "i32"), 1);
    expect([...a.data]).toEqual([2, 6]);
  });
});

describe("an index out of range is a GradcError naming the op, the index and the bound", () => {
  const next = rng(9);
  const e = floats([5, 3], next);
  const w = floats([2, 4, 3], next);
  const bad = (i: number): T => ints([2, 4], [0, 1, 2, i, 0, 1, 2, 3]);

  it.each([5, -1, 2 ** 31 - 1])("take: index %d, compiled, on the tape and eager", (i) => {
    const message = `take: index ${i} is out of range [0, 5)`;
    throwsGradc(() => (compiled["gEmbed"] as Fn)(e, bad(i), w), message);
    throwsGradc(() => model.gEmbed(e as never, bad(i) as never, w as never), message);
    throwsGradc(() => take(e as never, bad(i) as never), message);
  });

  it("takeAlongAxis and oneHot", () => {
    const x = floats([3, 4], next);
    const message = "takeAlongAxis: index 4 is out of range [0, 4)";
    throwsGradc(() => (compiled["gAlong"] as Fn)(x, ints([3, 2], [0, 1, 2, 3, 4, 0]), floats([3, 2], next)), message);
    throwsGradc(() => model.gAlong(x as never, ints([3, 2], [0, 1, 2, 3, 4, 0]) as never, floats([3, 2], next) as never), message);
    const label = "oneHot: label 3 is out of range [0, 3)";
    throwsGradc(() => (compiled["gEncoded"] as Fn)(floats([4, 3], next), ints([4], [0, 3, 1, 1])), label);
    throwsGradc(() => (compiled["gClassify"] as Fn)(floats([3, 4], next), floats([4], next), floats([5, 3], next), ints([5], [0, 1, 2, 3, 4])), "oneHot: label 4 is out of range [0, 4)");
    throwsGradc(() => model.gEncoded(floats([4, 3], next) as never, ints([4], [0, -2, 1, 1]) as never), "oneHot: label -2 is out of range [0, 3)");
  });
});

describe("i32 arguments", () => {
  it("compiled code names the dtype it expected and the one it got", () => {
    const e = floats([5, 3], rng(10));
    throwsGradc(() => (compiled["gEmbed"] as Fn)(e, floats([2, 4], rng(11)), floats([2, 4, 3], rng(12))), "gEmbed: argument tokens must be a i32 tensor of shape [2, 4], got a f64 tensor of shape [2, 4] with 8 entries");
    throwsGradc(() => (compiled["gEmbed"] as Fn)(ints([5, 3], Array(15).fill(0)), ints([2, 4], Array(8).fill(0)), floats([2, 4, 3], rng(12))), "gEmbed: argument e must be a f64 tensor of shape [5, 3], got a i32 tensor of shape [5, 3] with 15 entries");
  });

  it("the uncompiled grad refuses an i32 argument in argnums, as the compiler does", () => {
    const f = (z: unknown, y: unknown): number => crossEntropy(z as never, y as never);
    expect(() => grad(f, { argnums: [0, 1] })(tensor([[1, 2]]), tensor([1], [1], "i32"))).toThrow(GradcError);
  });

  it("tensor() makes i32 tensors from Int32Array or integers, and refuses fractions", () => {
    expect(tensor(Int32Array.from([3, 1])).data).toBeInstanceOf(Int32Array);
    expect(tensor([1, 2], [2], "i32").data).toBeInstanceOf(Int32Array);
    expect(() => tensor([1.5], [1], "i32")).toThrow(GradcError);
  });
});
