// Each pass on its own, starting from IR text: what it must rewrite, what it must leave alone,
// and that its output verifies and computes the same values (run by a reference interpreter).

import { describe, expect, it } from "vitest";
import { parseFunc } from "../../compiler/ir/parse.js";
import { printFunc } from "../../compiler/ir/print.js";
import type { Func } from "../../compiler/ir/types.js";
import { verify } from "../../compiler/passes/verify.js";
import { differentiate } from "../../compiler/passes/ad.js";
import { cse } from "../../compiler/passes/cse.js";
import { dce } from "../../compiler/passes/dce.js";
import { afterAD, compileStages, runPasses } from "../../compiler/passes/pipeline.js";
import { simplify } from "../../compiler/passes/simplify.js";
import type { Val } from "../../compiler/ops/values.js";
import { evalFunc } from "../helpers/ir-eval.js";
import { centralDifference, relErr, rng, uniform } from "../helpers/numeric.js";
import { flat } from "../helpers/values.js";

/** IR text written indented inside a template literal, as the parser reads it. */
const ir = (text: string): string => text.replace(/^\n/, "").replace(/^ {4}/gm, "");

/** Runs `pass`, checks the verifier accepts the result, and returns its text. */
function run(pass: (f: Func) => Func, source: string): { out: Func; text: string } {
  const fn = parseFunc(ir(source));
  verify(fn);
  const out = pass(fn);
  verify(out);
  return { out, text: printFunc(out) };
}

/** The pass keeps the function's values at random scalar points. */
function sameValues(before: Func, after: Func, points = 20): void {
  const next = rng(before.body.nodes.length + 17);
  for (let k = 0; k < points; k++) {
    const args = before.body.params.map((p) =>
      p.type.shape.length === 0 ? uniform(next, -2, 2) : { shape: p.type.shape as number[], data: Float64Array.from({ length: (p.type.shape as number[]).reduce((a, b) => a * b, 1) }, () => uniform(next, -2, 2)) },
    );
    const a = evalFunc(before, args).map(flat);
    const b = evalFunc(after, args).map(flat);
    expect(b).toEqual(a);
  }
}

describe("simplify", () => {
  const identities = `
    fn f(%x: f64[], %y: f64[]) -> f64[] {
      %one: f64[] = const {value=1}
      %zero: f64[] = const {value=0}
      %a: f64[] = mul %x %one
      %b: f64[] = add %a %zero
      %c: f64[] = neg %b
      %d: f64[] = neg %c
      %e: f64[] = div %d %one
      %f: f64[] = sub %e %zero
      %g: f64[] = mul %one %f
      %h: f64[] = pow %g %one
      %i: f64[] = add %zero %h
      %out: f64[] = mul %i %y
      return %out
    }`;

  it("folds x*1, 1*x, x+0, 0+x, x-0, x/1, x**1 and --x away", () => {
    const { out, text } = run((f) => dce(simplify(f)), identities);
    expect(text).toBe(ir(`
    fn f(%x: f64[], %y: f64[]) -> f64[] {
      %out: f64[] = mul %x %y
      return %out
    }
    `));
    sameValues(parseFunc(ir(identities)), out);
  });

  const constants = `
    fn f(%x: f64[], %v: f64[3]) -> f64[3] {
      %two: f64[] = const {value=2}
      %three: f64[] = const {value=3}
      %s: f64[] = add %two %three
      %zero: f64[] = const {value=0}
      %keep: f64[] = mul %x %zero
      %one: f64[] = const {value=1}
      %ones: f64[3] = broadcast_to %one {shape=[3]}
      %wide: f64[3] = mul %x %ones
      %same: f64[3] = mul %v %ones
      %t: f64[3] = mul %wide %same
      %u: f64[3] = mul %t %s
      %out: f64[3] = add %u %keep
      return %out
    }`;

  it("folds constant arithmetic, keeps x*0 (NaN for infinite x) and never loses a broadcast", () => {
    const { out, text } = run((f) => dce(simplify(f)), constants);
    expect(text).toBe(ir(`
    fn f(%x: f64[], %v: f64[3]) -> f64[3] {
      %s: f64[] = const {value=5}
      %zero: f64[] = const {value=0}
      %keep: f64[] = mul %x %zero
      %one: f64[] = const {value=1}
      %ones: f64[3] = broadcast_to %one {shape=[3]}
      %wide: f64[3] = mul %x %ones
      %t: f64[3] = mul %wide %v
      %u: f64[3] = mul %t %s
      %out: f64[3] = add %u %keep
      return %out
    }
    `));
    sameValues(parseFunc(ir(constants)), out);
    // x * 0 stays: it is NaN, not 0, for x = Infinity.
    expect(flat(evalFunc(out, [Infinity, { shape: [3], data: Float64Array.of(1, 2, 3) }])[0]!).every(Number.isNaN)).toBe(true);
  });

  const branches = `
    fn f(%x: f64[], %y: f64[]) -> f64[] {
      %t: bool[] = const {dtype="bool", value=1}
      %r: f64[] = if %t {
        %a: f64[] = mul %x %x
        yield %a
      } else {
        %b: f64[] = neg %x
        yield %b
      }
      %c: bool[] = gt %x %y
      %s: f64[], %w: f64[] = if %c {
        %d: f64[] = exp %y
        yield %x, %d
      } else {
        yield %x, %y
      }
      %p: f64[] = mul %r %s
      %out: f64[] = add %p %w
      return %out
    }`;

  it("rewrites pow(x, c) only where x has the result's type (a tensor exponent broadcasts a number x)", () => {
    const source = `
    fn f(%x: f64[], %v: f64[2]) -> (f64[1,1], f64[1], f64[2], f64[2]) {
      %two: f64[] = const {value=2}
      %c: f64[1,1] = reshape %two {shape=[1,1]}
      %half: f64[] = const {value=0.5}
      %h: f64[1] = broadcast_to %half {shape=[1]}
      %a: f64[1,1] = pow %x %c
      %b: f64[1] = pow %x %h
      %d: f64[2] = pow %v %c2
      %e: f64[2] = pow %v %two
      return %a, %b, %d, %e
    }`.replace("%d: f64[2] = pow %v %c2", "%c2: f64[1] = reshape %two {shape=[1]}\n      %d: f64[2] = pow %v %c2");
    const { out, text } = run(simplify, source);
    // The number x keeps its pow (square(x) would be a number, not [1, 1]); the tensor v of the
    // result's shape becomes square(v), with a scalar or a broadcast exponent alike.
    expect(text).toMatch(/f64\[1,1\] = pow %x/);
    expect(text).toMatch(/f64\[1\] = pow %x/);
    expect(text.match(/square %v/g)).toHaveLength(2);
    expect(text).not.toMatch(/pow %v/);
    sameValues(parseFunc(ir(source)), out);
  });

  it("resolves an if on a constant condition and drops if results both branches agree on", () => {
    const { out, text } = run((f) => dce(simplify(f)), branches);
    expect(text).toBe(ir(`
    fn f(%x: f64[], %y: f64[]) -> f64[] {
      %a: f64[] = mul %x %x
      %c: bool[] = gt %x %y
      %w: f64[] = if %c {
        %d: f64[] = exp %y
        yield %d
      } else {
        yield %y
      }
      %p: f64[] = mul %a %x
      %out: f64[] = add %p %w
      return %out
    }
    `));
    sameValues(parseFunc(ir(branches)), out);
  });

  it("recognizes 1 / (1 + exp(-z)) as sigmoid, whose gradient reuses its output", () => {
    const { text } = run(
      (f) => dce(simplify(f)),
      `
      fn f(%z: f64[]) -> f64[] {
        %one: f64[] = const {value=1}
        %n: f64[] = neg %z
        %e: f64[] = exp %n
        %den: f64[] = add %one %e
        %s: f64[] = div %one %den
        return %s
      }`.replace(/^ {2}/gm, ""),
    );
    expect(text).toBe(ir(`
    fn f(%z: f64[]) -> f64[] {
      %s: f64[] = sigmoid %z
      return %s
    }
    `));
  });
});

describe("cse", () => {
  const commutative = `
    fn f(%x: f64[], %y: f64[]) -> f64[] {
      %a: f64[] = add %x %y
      %b: f64[] = add %y %x
      %c: f64[] = sub %x %y
      %d: f64[] = sub %y %x
      %e: f64[] = mul %a %b
      %f: f64[] = mul %c %d
      %m: f64[] = maximum %x %y
      %n: f64[] = maximum %y %x
      %g: f64[] = add %e %f
      %h: f64[] = add %m %n
      %out: f64[] = add %g %h
      return %out
    }`;

  it("merges commutative duplicates (add, mul), not sub, and not maximum(y, x) into maximum(x, y)", () => {
    const { out, text } = run(cse, commutative);
    expect(text).toBe(ir(`
    fn f(%x: f64[], %y: f64[]) -> f64[] {
      %a: f64[] = add %x %y
      %c: f64[] = sub %x %y
      %d: f64[] = sub %y %x
      %e: f64[] = mul %a %a
      %f: f64[] = mul %c %d
      %m: f64[] = maximum %x %y
      %n: f64[] = maximum %y %x
      %g: f64[] = add %e %f
      %h: f64[] = add %m %n
      %out: f64[] = add %g %h
      return %out
    }
    `));
    sameValues(parseFunc(ir(commutative)), out);
  });

  it("max(x, y) + max(y, x) at a tie: each max routes to its first argument", () => {
    const fn = parseFunc(ir(commutative.replace(/%g: f64\[\] = add %e %f\n\s*/, "").replace("%out: f64[] = add %g %h", "%out: f64[] = add %h %h").replace("add %h %h", "mul %h %h")));
    // (max(x, y) + max(y, x))² = 4x² at x = y, split evenly between x and y: 4x each.
    const stages = compileStages(fn, [0, 1], { verifyEach: true });
    const [, dx, dy] = evalFunc(stages.opt, [1.5, 1.5]) as number[];
    expect(dx).toBe(6);
    expect(dy).toBe(6);
  });

  const scoped = `
    fn f(%x: f64[], %y: f64[]) -> f64[] {
      %a: f64[] = mul %x %y
      %c: bool[] = gt %x %y
      %r: f64[] = if %c {
        %b: f64[] = mul %y %x
        yield %b
      } else {
        %k: f64[] = add %x %y
        yield %k
      }
      %k2: f64[] = add %x %y
      %s: f64[] = add %r %k2
      %out: f64[] = add %s %a
      return %out
    }`;

  it("reuses an outer value inside a branch, never a branch's value outside it", () => {
    const { out, text } = run(cse, scoped);
    expect(text).toBe(ir(`
    fn f(%x: f64[], %y: f64[]) -> f64[] {
      %a: f64[] = mul %x %y
      %c: bool[] = gt %x %y
      %r: f64[] = if %c {
        yield %a
      } else {
        %k: f64[] = add %x %y
        yield %k
      }
      %k2: f64[] = add %x %y
      %s: f64[] = add %r %k2
      %out: f64[] = add %s %a
      return %out
    }
    `));
    sameValues(parseFunc(ir(scoped)), out);
  });
});

describe("dce", () => {
  const dead = `
    fn f(%x: f64[], %y: f64[]) -> f64[] {
      %c: bool[] = gt %x %y
      %r: f64[], %s: f64[] = if %c {
        %a: f64[] = mul %x %y
        %b: f64[] = exp %x
        yield %a, %b
      } else {
        yield %y, %x
      }
      %t: f64[] = if %c {
        %u: f64[] = sin %x
        yield %u
      } else {
        yield %y
      }
      %unused: f64[] = cos %x
      return %r
    }`;

  it("drops unused nodes, unused if results with what only they needed, and ifs nobody reads", () => {
    const { out, text } = run(dce, dead);
    expect(text).toBe(ir(`
    fn f(%x: f64[], %y: f64[]) -> f64[] {
      %c: bool[] = gt %x %y
      %r: f64[] = if %c {
        %a: f64[] = mul %x %y
        yield %a
      } else {
        yield %y
      }
      return %r
    }
    `));
    sameValues(parseFunc(ir(dead)), out);
  });
});

describe("differentiate", () => {
  const fxyz = `
    fn fxyz(%x: f64[], %y: f64[], %z: f64[]) -> f64[] {
      %q: f64[] = add %x %y
      %f: f64[] = mul %q %z
      return %f
    }`;

  it("emits the gates: add passes g through to both inputs, mul swaps", () => {
    const { out, text } = run((f) => differentiate(f, f.body.params), fxyz);
    expect(text).toBe(ir(`
    fn fxyz_grad(%x: f64[], %y: f64[], %z: f64[]) -> (f64[], f64[], f64[], f64[]) {
      %q: f64[] = add %x %y
      %f: f64[] = mul %q %z
      %0: f64[] = const {value=1}
      %dq: f64[] = mul %0 %z
      %dz: f64[] = mul %0 %q
      return %f, %dq, %dq, %dz
    }
    `));
    // No copy for the add gate: x and y get the very same value.
    expect(out.body.results[1]).toBe(out.body.results[2]);
    expect(evalFunc(out, [-2, 5, -4])).toEqual([-12, -4, -4, 3]);
  });

  it("after cleanup the fxyz backward is nothing but the forward values", () => {
    const { text } = run((f) => runPasses(differentiate(f, f.body.params), afterAD, { verifyEach: true }), fxyz);
    expect(text).toBe(ir(`
    fn fxyz_grad(%x: f64[], %y: f64[], %z: f64[]) -> (f64[], f64[], f64[], f64[]) {
      %q: f64[] = add %x %y
      %f: f64[] = mul %q %z
      return %f, %z, %z, %q
    }
    `));
  });

  it("builds adjoints only for values between the differentiated inputs and the output", () => {
    const { text } = run(
      (f) => differentiate(f, [f.body.params[0]!]),
      `
      fn f(%x: f64[], %y: f64[]) -> f64[] {
        %a: f64[] = mul %x %y
        %b: f64[] = mul %y %y
        %out: f64[] = add %a %b
        return %out
      }`.replace(/^ {2}/gm, ""),
    );
    // Nothing is computed for %b (a function of the data input y alone).
    expect(text).toBe(ir(`
    fn f_grad(%x: f64[], %y: f64[]) -> (f64[], f64[]) {
      %a: f64[] = mul %x %y
      %b: f64[] = mul %y %y
      %out: f64[] = add %a %b
      %0: f64[] = const {value=1}
      %dx: f64[] = mul %0 %y
      return %out, %dx
    }
    `));
  });

  it("sums the contributions of a fanned-out value", () => {
    const { out } = run(
      (f) => differentiate(f, f.body.params),
      `
      fn f(%x: f64[]) -> f64[] {
        %a: f64[] = mul %x %x
        %b: f64[] = sin %x
        %c: f64[] = mul %a %b
        %out: f64[] = add %c %x
        return %out
      }`.replace(/^ {2}/gm, ""),
    );
    // d/dx (x² sin x + x) = 2x sin x + x² cos x + 1, written out independently.
    for (const x of [-1.3, 0.2, 2.7]) {
      const [, dx] = evalFunc(out, [x]) as number[];
      expect(relErr(dx!, 2 * x * Math.sin(x) + x * x * Math.cos(x) + 1)).toBeLessThan(1e-14);
    }
  });

  it("routes the max gate to the larger input, a tie to the first", () => {
    const { out } = run(
      (f) => runPasses(differentiate(f, f.body.params), afterAD, { verifyEach: true }),
      `
      fn f(%x: f64[], %y: f64[]) -> f64[] {
        %m: f64[] = maximum %x %y
        return %m
      }`.replace(/^ {2}/gm, ""),
    );
    expect(evalFunc(out, [3, 1]).slice(1)).toEqual([1, 0]);
    expect(evalFunc(out, [1, 3]).slice(1)).toEqual([0, 1]);
    expect(evalFunc(out, [2, 2]).slice(1)).toEqual([1, 0]);
  });

  it("reverses only the branch taken, so the other cannot leak NaN", () => {
    const { out } = run(
      (f) => runPasses(differentiate(f, f.body.params), afterAD, { verifyEach: true }),
      `
      fn f(%x: f64[]) -> f64[] {
        %zero: f64[] = const {value=0}
        %c: bool[] = gt %x %zero
        %r: f64[] = if %c {
          %s: f64[] = sqrt %x
          %l: f64[] = log %x
          %t: f64[] = mul %s %l
          yield %t
        } else {
          %n: f64[] = neg %x
          yield %n
        }
        return %r
      }`.replace(/^ {2}/gm, ""),
    );
    expect(evalFunc(out, [-1])).toEqual([1, -1]);
    // d/dx sqrt(x) log(x) = (log x + 2) / (2 sqrt x).
    const [, dx] = evalFunc(out, [2]) as number[];
    expect(relErr(dx!, (Math.log(2) + 2) / (2 * Math.sqrt(2)))).toBeLessThan(1e-14);
  });

  it("gives a zero gradient to an input the output does not depend on", () => {
    const { out } = run(
      (f) => runPasses(differentiate(f, f.body.params), afterAD),
      `
      fn f(%x: f64[], %y: f64[]) -> f64[] {
        %out: f64[] = exp %x
        return %out
      }`.replace(/^ {2}/gm, ""),
    );
    expect(evalFunc(out, [0.5, 3])).toEqual([Math.exp(0.5), Math.exp(0.5), 0]);
  });

  it("matches finite differences on a function with broadcasting and a reduction", () => {
    const fn = parseFunc(ir(`
    fn f(%w: f64[3], %b: f64[], %x: f64[2,3]) -> f64[] {
      %h: f64[2,3] = mul %x %w
      %s: f64[2,3] = add %h %b
      %t: f64[2,3] = tanh %s
      %q: f64[2,3] = mul %t %t
      %out: f64[] = sum %q {keepdims=false}
      return %out
    }
    `));
    const grad = compileStages(fn, [0, 1], { verifyEach: true }).opt;
    const next = rng(5);
    const w = Float64Array.from({ length: 3 }, () => uniform(next, -1, 1));
    const x = Float64Array.from({ length: 6 }, () => uniform(next, -1, 1));
    const b = uniform(next, -1, 1);
    const value = (wv: Float64Array, bv: number): number => evalFunc(fn, [{ shape: [3], data: wv }, bv, { shape: [2, 3], data: x }])[0] as number;
    const [, dw, db] = evalFunc(grad, [{ shape: [3], data: w }, b, { shape: [2, 3], data: x }]) as [Val, Val, Val];
    flat(dw).forEach((g, i) => {
      const fd = centralDifference((t) => value(w.map((v, k) => (k === i ? t : v)), b), w[i]!);
      expect(relErr(g, fd), `dw[${i}]`).toBeLessThan(1e-7);
    });
    expect(relErr(db as number, centralDifference((t) => value(w, t), b))).toBeLessThan(1e-7);
  });
});

describe("verify", () => {
  it("rejects a use before its definition", () => {
    // The parser refuses such text, so the nodes are swapped after parsing.
    const fn = parseFunc("fn f(%x: f64[]) -> f64[] {\n  %b: f64[] = neg %x\n  %a: f64[] = add %x %b\n  return %a\n}\n");
    const swapped: Func = { ...fn, body: { ...fn.body, nodes: [...fn.body.nodes].reverse() } };
    expect(() => verify(swapped)).toThrow(/before its definition/);
  });

  it.each([
    ["a type the shape rule disagrees with", "fn f(%x: f64[3]) -> f64[] {\n  %a: f64[] = neg %x\n  return %a\n}\n", /shape rule gives f64\[3\]/],
    ["a branch value used outside its if", "fn f(%x: f64[]) -> f64[] {\n  %c: bool[] = gt %x %x\n  %r: f64[] = if %c {\n    %a: f64[] = neg %x\n    yield %a\n  } else {\n    yield %x\n  }\n  %o: f64[] = add %r %a\n  return %o\n}\n", /outside its scope/],
    ["branches yielding different types", "fn f(%x: f64[], %v: f64[2]) -> f64[] {\n  %c: bool[] = gt %x %x\n  %r: f64[] = if %c {\n    yield %x\n  } else {\n    yield %v\n  }\n  return %r\n}\n", /if branch yields f64\[2\]/],
    ["a non-boolean condition", "fn f(%x: f64[]) -> f64[] {\n  %r: f64[] = if %x {\n    yield %x\n  } else {\n    yield %x\n  }\n  return %r\n}\n", /boolean scalar condition/],
    ["an unknown op", "fn f(%x: f64[]) -> f64[] {\n  %a: f64[] = frobnicate %x\n  return %a\n}\n", /unknown op frobnicate/],
  ])("rejects %s", (_what, text, message) => {
    expect(() => verify(parseFunc(text))).toThrow(message);
  });
});
