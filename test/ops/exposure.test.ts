// The names users reach ops by are facts of the registry entries (ops/exposure.ts); everything
// that lists them is derived or checked here: the frontend's tables, the README's lists, and
// that each exposed name means what JavaScript means by it.

import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { GRADC_OPS, MATH_CONSTANTS as FRONTEND_CONSTANTS, MATH_FUNCTIONS } from "../../compiler/frontend/opcalls.js";
import {
  type ElementwiseOp,
  MATH_CONSTANTS,
  allOps,
  arithmeticOperators,
  binaryOperators,
  gradcOpNames,
  mathOps,
  prefixOperators,
  supportedMathText,
} from "../../compiler/ops/index.js";

const README = readFileSync(new URL("../../README.md", import.meta.url), "utf8");

/** The words of the backquoted list that follows `lead` in the README. */
function readmeList(lead: string): string[] {
  const at = README.indexOf(lead);
  expect(at, `README.md has "${lead}"`).toBeGreaterThanOrEqual(0);
  const m = /`([^`]+)`/.exec(README.slice(at + lead.length))!;
  return m[1]!.split(/\s+/);
}

const sorted = (xs: Iterable<string>): string[] => [...xs].sort();

describe("the README lists exactly what the registry exposes", () => {
  it("Math functions", () => {
    const listed = readmeList("comparisons,\n  `&&`/`||`/`!`, ").map((w) => w.replace(/^Math\./, ""));
    expect(sorted(listed), "README.md: the Math functions a differentiable function may call").toEqual(sorted(mathOps().keys()));
  });

  it("arithmetic operators", () => {
    expect(sorted(readmeList("on **numbers**: "))).toEqual(sorted(arithmeticOperators().keys()));
  });

  it("Math constants", () => {
    const listed = readmeList("the constants ").map((w) => w.replace(/^Math\./, ""));
    expect(sorted(listed)).toEqual(sorted(Object.keys(MATH_CONSTANTS)));
  });

  it("piecewise-constant Math functions", () => {
    const listed = readmeList("SQRT1_2`. ");
    const zero = [...mathOps()].filter(([, def]) => def.vjp !== "not-differentiable" && isPiecewiseConstant(def)).map(([n]) => n);
    expect(sorted(listed)).toEqual(sorted(zero));
  });

  it("tensor ops from gradc", () => {
    expect(sorted(readmeList('- Tensor ops from `"gradc"`: '))).toEqual(sorted(gradcOpNames()));
  });
});

/** The VJP gives no cotangent at all: a zero derivative (piecewise constant). */
function isPiecewiseConstant(def: ElementwiseOp | ReturnType<typeof allOps>[number]): boolean {
  if (def.vjp === "not-differentiable" || def.arity !== 1) return false;
  const probe = { op: () => 0, constant: () => 0, typeOf: () => ({ dtype: "f64" as const, shape: [] }) };
  return def.vjp(probe, 1, [0.3], 0, {}, [true]).every((c) => c === null);
}

const SAMPLES = [-2.5, -1.7, -1, -0.5, -0.2, 0, 0.3, 0.5, 1.5, 2.2, 3];

describe("each exposed name means what JavaScript means by it", () => {
  it.each([...mathOps()].map(([n, d]) => [n, d] as const))("Math.%s", (name, def) => {
    const f = (Math as unknown as Record<string, (...xs: number[]) => number>)[name]!;
    expect(typeof f).toBe("function");
    const scalar = (def as ElementwiseOp).scalar;
    for (const a of SAMPLES)
      for (const b of def.arity === 1 ? [0] : SAMPLES) {
        const args = def.arity === 1 ? [a] : [a, b];
        expect(Object.is(scalar(...args), f(...args)) || (Number.isNaN(scalar(...args)) && Number.isNaN(f(...args))), `${name}(${args.join(", ")})`).toBe(true);
      }
  });

  it.each([...binaryOperators()].map(([o, d]) => [o, d] as const))("a %s b", (op, def) => {
    const js = new Function("a", "b", `return a ${op} b;`) as (a: number, b: number) => number | boolean;
    for (const a of SAMPLES)
      for (const b of SAMPLES) {
        const want = Number(js(a, b));
        const got = (def as ElementwiseOp).scalar(a, b);
        expect(Object.is(got, want) || (Number.isNaN(got) && Number.isNaN(want)), `${a} ${op} ${b}: ${got} vs ${want}`).toBe(true);
      }
  });

  it.each([...prefixOperators()].map(([o, d]) => [o, d] as const))("%s a", (op, def) => {
    const js = new Function("a", `return ${op}a;`) as (a: number) => number;
    for (const a of SAMPLES) expect(Object.is((def as ElementwiseOp).scalar(a), js(a))).toBe(true);
  });

  it("Math constants are Math's", () => {
    for (const [k, v] of Object.entries(MATH_CONSTANTS)) expect(v).toBe((Math as unknown as Record<string, number>)[k]);
  });
});

describe("the frontend's tables are the registry's", () => {
  it("every gradc op has a lowering, and nothing else does (but the constructors)", () => {
    expect(sorted(Object.keys(GRADC_OPS))).toEqual(sorted([...gradcOpNames(), "zeros", "ones"]));
  });

  it("every Math function and constant, and no other", () => {
    expect(sorted(Object.keys(MATH_FUNCTIONS))).toEqual(sorted(mathOps().keys()));
    expect(FRONTEND_CONSTANTS).toEqual(MATH_CONSTANTS);
  });

  it("the message of an unknown Math function lists them all", () => {
    for (const n of [...mathOps().keys(), ...Object.keys(MATH_CONSTANTS)]) expect(supportedMathText()).toMatch(new RegExp(`\\b${n}\\b`));
  });
});

describe("call forms", () => {
  /** `f(…)` with the parentheses opened after the callee closing at the very end. */
  const oneCall = (text: string): boolean => {
    const m = /^[\w.$]+\(/.exec(text);
    if (!m) return false;
    let depth = 0;
    for (let i = m[0].length - 1; i < text.length; i++) {
      if (text[i] === "(") depth++;
      else if (text[i] === ")" && --depth === 0) return i === text.length - 1;
    }
    return false;
  };

  it.each(allOps().filter((d): d is ElementwiseOp => d.kind === "elementwise").map((d) => [d.name, d] as const))("%s", (_name, def) => {
    const text = def.expr(["a", "b", "c"].slice(0, def.arity), {});
    expect(def.callForm === true, `${text}: callForm says whether the emitted expression is one call`).toBe(oneCall(text));
  });
});
