// The `while` region at the IR level: its text form round-trips, the verifier checks it, and
// reverse mode through it (histories that grow with the trip count, a counted backward loop
// over the recorded trips) gives the gradients of central finite differences, through the
// reference interpreter and after every optimization pass.

import { describe, expect, it } from "vitest";
import { parseFunc } from "../../compiler/ir/parse.js";
import { printFunc } from "../../compiler/ir/print.js";
import { verify } from "../../compiler/passes/verify.js";
import { differentiate } from "../../compiler/passes/ad.js";
import { forwardDerivative } from "../../compiler/passes/jvp.js";
import { afterAD, runPasses } from "../../compiler/passes/pipeline.js";
import { dce } from "../../compiler/passes/dce.js";
import { licm } from "../../compiler/passes/licm.js";
import { evalFunc } from "../helpers/ir-eval.js";

const ir = (text: string): string => text.replace(/^\n/, "").replace(/^ {4}/gm, "");

// Newton's iteration for sqrt(a), from x0, until |x² − a| ≤ tol: x ← x − (x² − a) / 2x.
const NEWTON = ir(`
    fn newton(%a: f64[], %x0: f64[]) -> f64[] {
      %tol: f64[] = const {value=1e-12}
      %x: f64[] = while %x0 {trips="#x"} {
        params %xc: f64[]
        %sq: f64[] = mul %xc %xc
        %r: f64[] = sub %sq %a
        %ar: f64[] = abs %r
        %c: bool[] = gt %ar %tol
        yield %c
      } do {
        params %k: f64[], %xb: f64[]
        %sq.1: f64[] = mul %xb %xb
        %r.1: f64[] = sub %sq.1 %a
        %two: f64[] = const {value=2}
        %d: f64[] = mul %two %xb
        %q: f64[] = div %r.1 %d
        %xn: f64[] = sub %xb %q
        yield %xn
      }
      %y: f64[] = mul %x %a
      return %y
    }
`);

const num = (v: unknown): number => v as number;

describe("while in the IR", () => {
  it("prints and parses back to the same text, naming the trip count after the loop", () => {
    const fn = parseFunc(NEWTON);
    verify(fn);
    const text = printFunc(fn);
    expect(text).toContain('= while %x0 {trips="#x"} {');
    expect(text).toContain("} do {");
    expect(printFunc(parseFunc(text))).toBe(text);
  });

  it("runs until the condition fails", () => {
    const fn = parseFunc(NEWTON);
    const [y] = evalFunc(fn, [2, 1]);
    expect(num(y)).toBeCloseTo(2 * Math.SQRT2, 12);
  });

  it("differentiates in reverse through a data-dependent number of trips", () => {
    const fn = parseFunc(NEWTON);
    const g = differentiate(fn, fn.body.params);
    verify(g);
    const text = printFunc(g);
    expect(text).toMatch(/while %x0 \{record=\[0\], trips="#x"\}/);
    expect(text).toMatch(/loop .*\{reverse=true, trips="#x"\}/);
    expect(printFunc(parseFunc(text))).toBe(text);
    const opt = runPasses(g, afterAD);
    verify(opt);
    for (const [a, x0] of [[2, 1], [5, 3], [0.5, 2]] as const) {
      const f = (a: number, x0: number): number => num(evalFunc(fn, [a, x0])[0]);
      const [, da, dx0] = evalFunc(opt, [a, x0]).map(num);
      const h = 1e-6;
      // y = a·sqrt(a): dy/da = 1.5·sqrt(a). The start point only decides the trip count.
      expect(da).toBeCloseTo(1.5 * Math.sqrt(a), 6);
      expect(da).toBeCloseTo((f(a + h, x0) - f(a - h, x0)) / (2 * h), 5);
      expect(Math.abs(dx0!)).toBeLessThan(1e-6);
    }
  });

  it("pushes tangents through in forward mode, and over the reverse pass", () => {
    const fn = parseFunc(NEWTON);
    const t = forwardDerivative(fn, [fn.body.params[0]!]);
    verify(t);
    const [, ta] = evalFunc(t, [2, 1, 1]).map(num);
    expect(ta).toBeCloseTo(1.5 * Math.SQRT2, 6);
    const g = differentiate(fn, [fn.body.params[0]!]);
    const dyda = { ...g, body: { ...g.body, results: [g.body.results[1]!] } };
    const hv = forwardDerivative(dyda, [g.body.params[0]!]);
    verify(hv);
    const out = evalFunc(runPasses(hv, afterAD), [2, 1, 1]).map(num);
    // d²y/da² = 0.75 / sqrt(a), the tangent of the gradient (results: dy/da, its tangent).
    expect(out[0]).toBeCloseTo(1.5 * Math.SQRT2, 6);
    expect(out[1]).toBeCloseTo(0.75 / Math.SQRT2, 5);
  });

  it("refuses a history whose trip count no while loop defines", () => {
    const bad = ir(`
        fn f(%h: f64[#w]) -> f64[] {
          %z: f64[] = const {value=0}
          %s: f64[] = loop %z {trips="#w"} {
            params %k: f64[], %c: f64[]
            yield %c
          }
          return %s
        }
    `);
    expect(() => verify(parseFunc(bad))).toThrow(/trip count of no while loop/);
  });

  it("refuses a value shaped by a trip count outside the block of its while loop", () => {
    // The while runs inside the loop body; a zero history-shaped buffer before the loop cannot exist.
    const bad = ir(`
        fn f(%a: f64[]) -> f64[] {
          %z: f64[] = const {value=0}
          %zs: f64[#x] = broadcast_to %z {shape=[#x]}
          %s: f64[] = loop %z {trips=3} {
            params %k: f64[], %c: f64[]
            %x: f64[] = while %a {trips="#x"} {
              params %xc: f64[]
              %ten: f64[] = const {value=10}
              %b: bool[] = lt %xc %ten
              yield %b
            } do {
              params %j: f64[], %xb: f64[]
              %xn: f64[] = add %xb %a
              yield %xn
            }
            %cn: f64[] = add %c %x
            yield %cn
          }
          return %s
        }
    `);
    expect(() => verify(parseFunc(bad))).toThrow(/runs over #\w+, the trip count of no while loop before it in scope/);
  });

  it("reverse over reverse: the second derivative through a data-dependent number of trips", () => {
    const fn = parseFunc(NEWTON);
    // y = a·sqrt(a) once converged: d²y/da² = 0.75 / sqrt(a).
    const g = differentiate(fn, [fn.body.params[0]!]);
    const dyda = { ...g, body: { ...g.body, results: [g.body.results[1]!] } };
    const h = differentiate(dyda, [g.body.params[0]!]);
    verify(h);
    const text = printFunc(h);
    expect(printFunc(parseFunc(text))).toBe(text);
    const opt = runPasses(h, afterAD);
    verify(opt);
    for (const [a, x0] of [[2, 1], [5, 3], [0.5, 2]] as const) {
      const [, d2] = evalFunc(opt, [a, x0]).map(num);
      expect(d2).toBeCloseTo(0.75 / Math.sqrt(a), 6);
    }
  });
});

describe("passes over while", () => {
  const HOIST = ir(`
      fn f(%a: f64[], %x0: f64[], %v: f64[3]) -> f64[] {
        %x: f64[] = while %x0 {trips="#x"} {
          params %xc: f64[]
          %ten: f64[] = const {value=10}
          %c: bool[] = lt %xc %ten
          yield %c
        } do {
          params %k: f64[], %xb: f64[]
          %a2: f64[] = mul %a %a
          %i: f64[] = add %a2 %a
          %t: f64[] = take %v %i
          %s: f64[] = add %xb %a2
          %xn: f64[] = add %s %t
          yield %xn
        }
        return %x
      }
  `);

  it("LICM hoists invariants out of the body and the condition, but not an index that may throw", () => {
    const fn = parseFunc(HOIST);
    const out = licm(fn);
    verify(out);
    const text = printFunc(out);
    const loopAt = text.indexOf("= while");
    expect(text.indexOf("= mul %a %a")).toBeLessThan(loopAt);
    expect(text.indexOf("= const {value=10}")).toBeLessThan(loopAt);
    // The loop may run no trip: the `take` (index a² + a, unknown range) stays inside.
    expect(text.indexOf("= take %v")).toBeGreaterThan(loopAt);
  });

  it("LICM leaves in a loop what is shaped by the trip count of a while inside it", () => {
    const fn = parseFunc(
      ir(`
        fn f(%a: f64[]) -> f64[] {
          %z: f64[] = const {value=0}
          %s: f64[] = loop %z {trips=3} {
            params %k: f64[], %c: f64[]
            %x: f64[], %hx: f64[#x] = while %a {record=[0], trips="#x"} {
              params %xc: f64[]
              %ten: f64[] = const {value=10}
              %b: bool[] = lt %xc %ten
              yield %b
            } do {
              params %j: f64[], %xb: f64[]
              %xn: f64[] = add %xb %a
              yield %xn
            }
            %zs: f64[#x] = broadcast_to %z {shape=[#x]}
            %t: f64[#x] = add %zs %hx
            %u: f64[] = sum %t
            %cn: f64[] = add %c %u
            yield %cn
          }
          return %s
        }
      `),
    );
    const out = licm(fn);
    verify(out);
    const text = printFunc(out);
    expect(text.indexOf("broadcast_to")).toBeGreaterThan(text.indexOf("= while"));
  });

  it("DCE drops an unused while, and keeps one whose trip count the backward loop runs over", () => {
    const unused = parseFunc(NEWTON.replace("return %y", "return %a"));
    expect(printFunc(dce(unused))).not.toContain("while");
    // x ← x + a until x ≥ 10: the reverse trips need no history of x, only how many there were.
    const fn = parseFunc(
      ir(`
        fn f(%a: f64[], %x0: f64[]) -> f64[] {
          %x: f64[] = while %x0 {trips="#x"} {
            params %xc: f64[]
            %ten: f64[] = const {value=10}
            %c: bool[] = lt %xc %ten
            yield %c
          } do {
            params %k: f64[], %xb: f64[]
            %xn: f64[] = add %xb %a
            yield %xn
          }
          return %x
        }
      `),
    );
    const g = dce({ ...differentiate(fn, [fn.body.params[0]!]), name: "g" });
    const dropValue = dce({ ...g, body: { ...g.body, results: g.body.results.slice(1) } });
    verify(dropValue);
    const text = printFunc(dropValue);
    expect(text).toMatch(/= while %x0 \{trips="#x"\}/);
    expect(text).toMatch(/loop .*\{reverse=true, trips="#x"\}/);
    // da = the number of trips: 1 + 1 + … for a = 1.5 from 1 (1, 2.5, …, 10 after 6 trips).
    expect(num(evalFunc(dropValue, [1.5, 1])[0])).toBe(6);
  });
});
