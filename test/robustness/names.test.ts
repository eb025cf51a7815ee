// Generated-code safety: names from the user's source (parameters, locals, bindings, pytree
// keys, the file name) must never inject code into the generated module, shadow what it reads,
// or set a prototype. Each case is compiled, checked (parses, no eval/Function, no shadowing
// declaration, TypeScript variant and .d.ts parse), imported and run, and Object.prototype is
// checked to be untouched.

import { beforeAll, describe, expect, it } from "vitest";
import { GradcError } from "../../runtime/index.js";
import { type Compiled, compileFiles, load, prototypes, tensorOf } from "./helpers.js";

/** Keys a code generator can trip on, each with the coefficient the model gives it. */
const KEYS: readonly (readonly [string, number])[] = [
  ["__proto__", 1],
  ["constructor", 2],
  ["toString", 3],
  ["hasOwnProperty", 4],
  ["valueOf", 5],
  ['a"b', 6],
  ["a\\b", 7],
  ["*/", 8],
  ["/*", 9],
  ["\u2028", 10],
  ["\u2029", 11],
  ["</script>", 12],
  ["${x}", 13],
  ["'", 14],
  ["", 15],
  ["1", 16],
  ["ñ", 17],
  ["😀", 18],
  ["\n", 19],
  ["]; globalThis.pwned = 1; //", 20],
  ['"; globalThis.pwned = 2; "', 21],
  ["`; globalThis.pwned = 3; `", 22],
  ["\\u0041", 23],
];

/** A TypeScript string literal for any key. */
const lit = (k: string): string => JSON.stringify(k).replace(/\u2028/g, "\\u2028").replace(/\u2029/g, "\\u2029");

const SOURCES: Record<string, string> = {
  "params.ts": `import { valueAndGrad, grad, sum, mul, exp, type Tensor } from "gradc";

// Parameters named like globals the generated code reads, its helpers and its loop counters.
export function shadow(Math: number, Float64Array: Tensor<[2]>, $gradc_badArg: number, i: number, acc: number, key: { w: number }): number {
  return Math * Math + sum(mul(exp(Float64Array), $gradc_badArg)) + i * acc + key.w;
}
export const gShadow = valueAndGrad(shadow, { argnums: [0, 1, 2, 3, 4, 5] });

// Unicode identifiers, and one written with an escape (\\u0078 is x).
export function unicode(ñ: number, π: Tensor<[2]>, \\u0078: number): number {
  const 变量 = ñ * x;
  return 变量 + sum(mul(π, π));
}
export const gUnicode = grad(unicode, { argnums: [0, 1, 2] });
// Bindings named in unicode, like a helper, like a global, like a strict-mode reserved word.
export const π = grad(unicode, { argnums: 0 });
export const $gradc_describe = grad(unicode, { argnums: 2 });
export const Symbol = grad(unicode, { argnums: 1 });
export const implements = grad(unicode, { argnums: 0 });
`,
  "keys.ts": `import { grad, sum, mul, type Tensor } from "gradc";

export function keyed(p: { ${KEYS.map(([k]) => `${lit(k)}: number`).join("; ")}; t: Tensor<[2]> }): number {
  return ${KEYS.map(([k, c]) => `p[${lit(k)}] * ${c}`).join(" + ")} + sum(mul(p.t, 3));
}
export const gKeyed = grad(keyed);
`,
  'odd*/we"ird \'name\u2028.ts': `import { grad } from "gradc";
export function sq(x: number): number {
  return x * x;
}
export const gSq = grad(sq);
`,
};

let compiled: Compiled;
let before: string;
beforeAll(() => {
  before = prototypes();
  compiled = compileFiles("names", SOURCES);
});

describe("parameters and bindings named like what generated code uses", () => {
  it("Math, Float64Array, $gradc_badArg, i, acc, key as parameters: the right values and gradients", async () => {
    const mod = await load(compiled, "params.ts");
    const F = [0.5, -1];
    const [value, grads] = (mod["gShadow"] as (...a: unknown[]) => [number, unknown[]])(3, tensorOf([2], F), 2, 5, 7, { w: 11 });
    const e = F.map(Math.exp);
    expect(value).toBeCloseTo(9 + 2 * (e[0]! + e[1]!) + 35 + 11, 12);
    expect(grads[0]).toBeCloseTo(6, 12);
    expect(Array.from((grads[1] as { data: Float64Array }).data)).toEqual(e.map((x) => x * 2));
    expect(grads[2]).toBeCloseTo(e[0]! + e[1]!, 12);
    expect(grads.slice(3)).toEqual([7, 5, { w: 1 }]);
    expect(prototypes()).toBe(before);
  });

  it("unicode and escaped identifiers, and bindings named π, $gradc_describe, Symbol, implements", async () => {
    const mod = await load(compiled, "params.ts");
    const P = tensorOf([2], [1, -2]);
    const all = (mod["gUnicode"] as (...a: unknown[]) => unknown[])(3, P, 4);
    expect(all[0]).toBe(4);
    expect(Array.from((all[1] as { data: Float64Array }).data)).toEqual([2, -4]);
    expect(all[2]).toBe(3);
    expect((mod["π"] as (...a: unknown[]) => number)(3, P, 4)).toBe(4);
    expect((mod["$gradc_describe"] as (...a: unknown[]) => number)(3, P, 4)).toBe(3);
    expect((mod["implements"] as (...a: unknown[]) => number)(3, P, 4)).toBe(4);
    expect(Array.from((mod["Symbol"] as (...a: unknown[]) => { data: Float64Array })(3, P, 4).data)).toEqual([2, -4]);
    // The helpers still work under those names: a bad argument is a GradcError.
    expect(() => (mod["$gradc_describe"] as (...a: unknown[]) => number)("3", P, 4)).toThrow(GradcError);
  });
});

describe("pytree keys that could inject code or set a prototype", () => {
  const input = (): Record<string, unknown> => Object.fromEntries([...KEYS.map(([k], i) => [k, i + 0.5]), ["t", tensorOf([2], [1, 2])]]);

  it("every key comes back as an own property with its gradient, on a plain object", async () => {
    const mod = await load(compiled, "keys.ts");
    const g = (mod["gKeyed"] as (p: unknown) => Record<string, unknown>)(input());
    expect(Object.getPrototypeOf(g)).toBe(Object.prototype);
    expect(Reflect.ownKeys(g).map(String).sort()).toEqual([...KEYS.map(([k]) => k), "t"].sort());
    for (const [k, c] of KEYS) expect(Object.getOwnPropertyDescriptor(g, k)?.value, JSON.stringify(k)).toBe(c);
    expect(Array.from((g["t"] as { data: Float64Array }).data)).toEqual([3, 3]);
    expect((globalThis as Record<string, unknown>)["pwned"]).toBeUndefined();
    expect(prototypes()).toBe(before);
  });

  it("a missing __proto__ field is an error, not the prototype read in its place", async () => {
    const mod = await load(compiled, "keys.ts");
    const p = input();
    delete p["__proto__"];
    expect(() => (mod["gKeyed"] as (p: unknown) => unknown)(p)).toThrow(/gKeyed: argument p\.__proto__ must be a number, got object/);
  });

  it("errors name odd keys exactly as written in the source", async () => {
    const mod = await load(compiled, "keys.ts");
    const p = input();
    p["*/"] = "no";
    expect(() => (mod["gKeyed"] as (p: unknown) => unknown)(p)).toThrow('gKeyed: argument p["*/"] must be a number, got string');
    const q = input();
    q["\u2028"] = null;
    expect(() => (mod["gKeyed"] as (p: unknown) => unknown)(q)).toThrow(GradcError);
  });
});

describe("the source file's name", () => {
  it("a path with quotes, */ and a line separator ends up in comments only, harmlessly", async () => {
    const file = 'odd*/we"ird \'name\u2028.ts';
    const mod = await load(compiled, file);
    expect((mod["gSq"] as (x: number) => number)(3)).toBe(6);
    const header = compiled.modules.get(file)!.code.split("\n")[0]!;
    expect(header).toBe(`// Generated by gradc from we"ird 'name .ts. Do not edit: rerun gradc to regenerate.`);
  });
});

describe("no generated module evaluates code", () => {
  it("none of them names eval or Function, or imports anything at run time", () => {
    for (const m of compiled.modules.values()) {
      expect(m.code).not.toMatch(/\beval\s*\(|\bnew Function\b|\bFunction\s*\(|\bimport\s*\(|\brequire\s*\(/);
      expect(m.code).not.toMatch(/^import (?!type )/m);
    }
  });
});
