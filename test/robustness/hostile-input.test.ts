// Generated code against hostile names and inputs: keys and names from the user's source never
// inject code or touch prototypes; bad arguments throw a GradcError naming function, argument and
// expectation; kinks and extremes give the same results compiled and on the tape.
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { beforeAll, describe, expect, test } from "vitest";
import { compile } from "../../compiler/index.js";
import { GradcError, randn, tensor, type Tensor } from "../../runtime/index.js";

const TMP = join(__dirname, "..", ".tmp", "hostile");

const SOURCE = String.raw`
import { logSumExp, relu, sum, valueAndGrad, type Tensor } from "gradc";

export type Keys = {
  "__proto__": number;
  constructor: number;
  toString: number;
  'a"b': number;
  "c\\d": number;
  "*/ x": number;
  "line\u2028sep": number;
};
export function keys(p: Keys): number {
  return p["__proto__"] * 2 + p.constructor * 3 + p.toString * 5 + p['a"b'] * 7 + p["c\\d"] * 11 + p["*/ x"] * 13 + p["line\u2028sep"] * 17;
}
export const gKeys = valueAndGrad(keys);

export function shadow(Math: number, Float64Array: number, $gradc_badArg: number): number {
  return Math * Float64Array + $gradc_badArg;
}
export const gShadow = valueAndGrad(shadow, { argnums: [0, 1, 2] });

export function shapes(x: Tensor<[2, 3]>, p: { w: Tensor<[3]>; b: number }): number {
  return sum(x) * p.b + sum(p.w);
}
export const gShapes = valueAndGrad(shapes, { argnums: [0, 1] });

export function ties(x: number, y: number): number {
  return Math.max(x, y) * 3 + Math.min(x, y);
}
export const gTies = valueAndGrad(ties, { argnums: [0, 1] });

export function kink(x: Tensor<[3]>): number {
  return sum(relu(x));
}
export const gKink = valueAndGrad(kink);

export function guarded(x: number): number {
  return x > 0 ? Math.sqrt(x) + Math.log(x) : 0;
}
export const gGuarded = valueAndGrad(guarded);

export function extremes(z: Tensor<[2, 3]>, s: number): number {
  return sum(logSumExp(z, 1)) + Math.exp(s);
}
export const gExtremes = valueAndGrad(extremes, { argnums: [0, 1] });
`;

type Fn = (...args: unknown[]) => [number, unknown];
let compiled: Record<string, Fn>;
let tape: Record<string, Fn>;
let code: string;

beforeAll(async () => {
  mkdirSync(TMP, { recursive: true });
  const src = join(TMP, "hostile.ts");
  writeFileSync(src, SOURCE);
  const result = compile([src], { emit: "js", verify: true });
  expect(result.diagnostics).toEqual([]);
  code = result.modules[0]!.code;
  const out = join(TMP, "hostile.compiled.mjs");
  writeFileSync(out, code);
  compiled = (await import(pathToFileURL(out).href)) as Record<string, Fn>;
  tape = (await import(src)) as Record<string, Fn>;
});

const KEYS = ["__proto__", "constructor", "toString", 'a"b', "c\\d", "*/ x", "line\u2028sep"];
const WEIGHTS = [2, 3, 5, 7, 11, 13, 17];

describe("names from the source cannot inject code or pollute prototypes", () => {
  test("hostile pytree keys are read and returned as own properties", () => {
    // JSON.parse makes "__proto__" an own property, as a user's data would have it.
    const p = JSON.parse(JSON.stringify(Object.fromEntries(KEYS.filter((k) => k !== "__proto__").map((k, i) => [k, i + 1])))) as Record<string, number>;
    Object.defineProperty(p, "__proto__", { value: 0.5, enumerable: true, configurable: true, writable: true });
    const [value, grad] = compiled.gKeys!(p) as [number, Record<string, number>];
    const expected = KEYS.reduce((s, k, i) => s + (Object.getOwnPropertyDescriptor(p, k)!.value as number) * WEIGHTS[i]!, 0);
    expect(value).toBe(expected);
    KEYS.forEach((k, i) => {
      expect(Object.prototype.hasOwnProperty.call(grad, k), k).toBe(true);
      expect(Object.getOwnPropertyDescriptor(grad, k)!.value).toBe(WEIGHTS[i]);
    });
    expect(Object.getPrototypeOf(grad)).toBe(Object.prototype);
    expect(({} as Record<string, unknown>)["constructor"]).toBe(Object);
    expect(Object.keys(Object.prototype)).toEqual([]);
  });

  test("parameters named like globals or helpers do not break the generated code", () => {
    const [value, grad] = compiled.gShadow!(2, 3, 4) as [number, number[]];
    expect(value).toBe(10);
    expect(grad).toEqual([3, 2, 1]);
    expect(() => compiled.gShadow!("2", 3, 4)).toThrow(GradcError);
  });

  test("the module evaluates no strings and keeps comments on one line", () => {
    expect(code).not.toMatch(/\beval\s*\(|new\s+Function|Function\s*\(/);
    for (const line of code.split("\n")) if (line.includes("//")) expect(line).not.toMatch(/[\u2028\u2029\r]/);
  });
});

describe("run-time validation", () => {
  const x = () => randn([2, 3], 1);
  const p = () => ({ w: randn([3], 2), b: 0.5 });
  test.each([
    ["a wrong shape", () => [randn([3, 2], 1), p()], /gShapes: argument x must be a f64 tensor of shape \[2, 3\], got a f64 tensor of shape \[3, 2\]/],
    ["a wrong data length", () => [{ shape: [2, 3], data: new Float64Array(5) }, p()], /argument x must be a f64 tensor of shape \[2, 3\], got .* with 5 entries/],
    ["f32 data where f64 is declared", () => [tensor(new Float32Array(6), [2, 3]), p()], /argument x must be a f64 tensor .*got a f32 tensor/],
    ["a missing pytree field", () => [x(), { w: randn([3], 2) }], /argument p\.b must be a number, got undefined/],
    ["an extra pytree field", () => [x(), { ...p(), extra: 1 }], /gShapes: argument p/],
    ["a number where a tensor is declared", () => [3, p()], /argument x must be a f64 tensor/],
  ])("%s throws a GradcError naming function, argument and expectation", (_what, args, message) => {
    let thrown: unknown;
    try {
      compiled.gShapes!(...(args() as unknown[]));
    } catch (e) {
      thrown = e;
    }
    expect(thrown).toBeInstanceOf(GradcError);
    expect((thrown as Error).message).toMatch(message);
  });

  test("non-finite inputs propagate through the math: NaN in, NaN out, no throw", () => {
    const bad = randn([2, 3], 1);
    bad.data[4] = NaN;
    const [value, [dx, dp]] = compiled.gShapes!(bad, p()) as [number, [Tensor, { w: Tensor; b: number }]];
    expect(value).toBeNaN();
    expect(Array.from(dx.data).every((d) => d === 0.5)).toBe(true);
    expect(dp.b).toBeNaN();
  });
});

describe("kinks and extremes: compiled and tape agree", () => {
  const same = (name: string, args: () => unknown[]): [[unknown, unknown], unknown] => {
    const a = compiled[name]!(...args());
    const b = tape[name]!(...args());
    expect(JSON.stringify(a, (_k, v: unknown) => (v instanceof Float64Array ? Array.from(v) : v))).toBe(
      JSON.stringify(b, (_k, v: unknown) => (v instanceof Float64Array ? Array.from(v) : v)),
    );
    return [a as [unknown, unknown], b];
  };
  test("Math.max/min ties route to the first argument", () => {
    const [[, g]] = same("gTies", () => [1.5, 1.5]);
    // Both gates send a tie to their first argument, x: 3 from the max, 1 from the min.
    expect(g).toEqual([4, 0]);
  });
  test("relu at 0 has gradient 0", () => {
    const [[, g]] = same("gKink", () => [tensor([-1, 0, 2])]);
    expect(Array.from((g as Tensor).data)).toEqual([0, 0, 1]);
  });
  test("a guarded sqrt/log at -1 gives 0, not NaN", () => {
    const [[v, g]] = same("gGuarded", () => [-1]);
    expect(v).toBe(0);
    expect(g).toBe(0);
  });
  test("logSumExp of ±1000 and exp overflow", () => {
    const [[v, g]] = same("gExtremes", () => [tensor([[1000, -1000, 0], [-1000, 1000, 999]]), 800]);
    expect(v).toBe(Infinity);
    const [dz, ds] = g as [Tensor, number];
    expect(Array.from(dz.data).every(Number.isFinite)).toBe(true);
    expect(ds).toBe(Infinity);
  });
});
