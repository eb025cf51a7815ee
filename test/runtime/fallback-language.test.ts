// The fallback's language is the compiler's: each construct below is refused uncompiled with the
// code the compiler gives it (the same message table), and the constructs the compiler gains in
// this round (while, break, %, Math.floor) run, with gradients worked by hand.

import { describe, expect, it } from "vitest";
import { MESSAGES } from "../../compiler/diagnostics/messages.js";
import { GradcError, type Tensor, grad, sum, tensor } from "../../runtime/index.js";
import { refusalCode } from "../../runtime/refusal.js";

/** The code and message of what `run` throws. */
function refusedWith(run: () => unknown): { code: string | undefined; message: string } {
  try {
    run();
  } catch (e) {
    expect(e).toBeInstanceOf(GradcError);
    return { code: refusalCode(e), message: (e as Error).message };
  }
  throw new Error("expected a refusal, but it ran");
}

function helperTwice(a: number): number {
  return a * 2;
}

function assignsConst(x: number): number {
  const k = 1;
  if (x > 100) {
    // @ts-expect-error assigning a const is the mistake under test
    k = 2;
  }
  return x * k;
}

const cases: [string, () => unknown, string][] = [
  ["for-in", () => grad((x: { a: number }) => { let s = 0; for (const k in x) s = s + 1; return s; })({ a: 1 }), "GRADC1002"],
  ["return in a loop", () => grad((x: number) => { for (let i = 0; i < 3; i++) { return x; } return x; })(1), "GRADC1018"],
  ["a parameter's field assigned", () => grad((p: { a: number }) => { p.a = 2; return p.a; })({ a: 1 }), "GRADC1004"],
  ["a const assigned, in a branch not taken", () => grad(assignsConst)(1), "GRADC1001"],
  ["??", () => grad((x: number) => (x ?? 1) * 2)(1), "GRADC1013"],
  ["a bitwise operator", () => grad((x: number) => x | 1)(1), "GRADC1013"],
  ["a global outside the language", () => grad((x: number) => Date.now() * x)(1), "GRADC1003"],
  ["tensor() inside the model", () => grad((x: Tensor<[2]>) => sum(x) + sum(tensor([1, 2])))(tensor([1, 2])), "GRADC1028"],
  ["a missing field", () => grad((p: { a: number }) => (p as unknown as { b: number }).b * p.a)({ a: 1 }), "GRADC1020"],
  ["an index out of range", () => grad((p: [number, number]) => p[0] + (p as unknown as number[])[2]!)([1, 2]), "GRADC2006"],
  ["an index computed from a differentiated input", () => grad((p: [number, number], x: number) => p[0] + p[x as 0], { argnums: [0, 1] })([1, 2], 1), "GRADC1014"],
  ["a number as a condition", () => grad((x: number) => (x ? x : 0))(1), "GRADC2005"],
  ["recursion, even on a path not taken", () => { const f = (x: number): number => (x > 100 ? f(x - 1) : x); return grad(f, { scope: { f } })(1); }, "GRADC1010"],
  ["a helper called with too few arguments", () => grad((x: number) => x * (helperTwice as (...a: number[]) => number)(), { scope: { helperTwice } })(1), "GRADC1019"],
  ["Math outside the language", () => grad((x: number) => Math.random() * x)(1), "GRADC1015"],
  ["a method of an array", () => grad((p: [number, number]) => p.reduce((a, b) => a + b, 0))([1, 2]), "GRADC1029"],
  ["a tensor operand of *", () => grad((x: Tensor<[2]>) => sum((x as unknown as number) * 2 as unknown as Tensor<[2]>))(tensor([1, 2])), "GRADC1027"],
  ["a tensor result", () => grad(((x: Tensor<[2]>) => x) as unknown as (x: Tensor<[2]>) => number)(tensor([1, 2])), "GRADC1005"],
  ["an unknown option", () => grad((x: number) => x, { argnum: 1 } as never)(1), "GRADC1025"],
  ["a label on a block", () => grad((x: number) => { let y = x; done: { y = y * 2; } return y; })(1), "GRADC1016"],
  ["a jump to an outer labelled loop, in a branch not taken", () => grad((x: number) => { let y = x; outer: for (let i = 0; i < 2; i++) { for (let j = 0; j < 2; j++) { if (x > 100) continue outer; y = y * x; } } return y; })(1), "GRADC1016"],
  ["a while loop whose body assigns nothing from before it", () => grad((x: number) => { const y = x; while (y > 0) { const z = y * 2; } return y; })(1), "GRADC1034"],
  ["a do loop whose variables hold no numbers", () => grad((x: number) => { let h = (): number => x; do { h = () => x * 2; } while (x > 0); return h(); })(1), "GRADC1034"],
  ["an assignment in a while condition", () => grad((x: number) => { let i = 0; while ((i = i + 1) < 3) { x = x * 2; } return x; })(1), "GRADC1001"],
  // switch (compiler/frontend/switch.ts): GRADC1050, before anything runs or where the compiler decides by value.
  // @ts-expect-error falling through is the mistake under test
  ["a case falling through into the next", () => grad((x: number, k: number) => { let y = x; switch (k) { case 0: y = y * 2; case 1: y = y + 1; break; } return y; })(1, 5), "GRADC1050"],
  ["a break before the end of its case, in a case not taken", () => grad((x: number, k: number) => { let y = x; switch (k) { case 0: if (x > 1) break; y = y * 2; break; default: y = -y; } return y; })(1, 5), "GRADC1050"],
  ["a case label computed from a parameter", () => grad((x: number, k: number) => { switch (k) { case x: return x; } return 2 * x; })(1, 5), "GRADC1050"],
  ["a case label from a parameter not differentiated, through a variable", () => grad((x: number, k: number) => { const m = k + 1; switch (k) { case 0: return x; case m: return 2 * x; } return 3 * x; })(1, 5), "GRADC1050"],
  ["a case label computed from a differentiated value, in a helper", () => { const pick = (a: number, b: number): number => { switch (b) { case a: return a; default: return b; } }; return grad((x: number) => pick(x, 2), { scope: { pick } })(1); }, "GRADC1050"],
  ["a switch on a tensor", () => grad((x: Tensor<[2]>) => { switch (x as unknown as number) { case 1: return sum(x); } return 0; })(tensor([1, 2])), "GRADC1050"],
  ["a switch on an array", () => grad((p: [number, number]) => { switch (p as unknown as number) { case 1: return p[0]; } return p[1]; })([1, 2]), "GRADC1050"],
  ["a label not a boolean on a switch on a boolean", () => grad((x: number) => { switch (x > 0) { case 1 as unknown as boolean: return x; } return -x; })(1), "GRADC1050"],
  ["run-time labels on a run-time boolean discriminant", () => grad((x: number, y: number) => { switch (x > 0) { case y > 0: return x; } return -x; })(1, 1), "GRADC1050"],
];

describe("the fallback refuses what the compiler refuses, with its code and text", () => {
  it.each(cases)("%s", (_what, run, code) => {
    const { code: got, message } = refusedWith(run);
    expect(got).toBe(code);
    // The message is the compiler's: its text (up to the first argument) follows the code.
    const fixed = MESSAGES[code as keyof typeof MESSAGES].split("{")[0]!;
    expect(message.startsWith(`${code}: ${fixed}`)).toBe(true);
  });
});

describe("what the compiler gains this round runs uncompiled", () => {
  it("while with break and continue, % and Math.floor, with gradients by hand", () => {
    function f(x: number): number {
      let y = x;
      let i = 0;
      while (i < 10) {
        i = i + 1;
        if (i % 2 === 0) continue;
        if (i > 5) break;
        y = y * x; // i = 1, 3, 5: y = x⁴
      }
      return y + Math.floor(x) * x + (x % 1); // d/dx: 4x³ + floor(x) + 1
    }
    expect(grad(f)(1.5)).toBeCloseTo(4 * 1.5 ** 3 + 1 + 1, 12);
  });

  it("labelled loops, with jumps to the innermost one (labelled or plain), with gradients by hand", () => {
    function f(x: number): number {
      let y = 1;
      outer: for (let i = 0; i < 3; i++) {
        inner: for (let j = 0; j < 3; j++) {
          if (j === 1) continue inner;
          if (j === 2) break inner;
          y = y * x; // j = 0 only: y = x³ after the outer loop
        }
        if (i === 5) break outer;
      }
      let k = 0;
      loop: while (k < 10) {
        k = k + 1;
        if (k > 2) break loop;
        y = y * x; // k = 1, 2: y = x⁵
      }
      return y; // d/dx: 5x⁴
    }
    expect(grad(f)(1.5)).toBeCloseTo(5 * 1.5 ** 4, 12);
  });
});

describe("switch uncompiled: the compiler's refusals, with its texts, and what it accepts runs", () => {
  it("words each refusal as the compiler does", () => {
    // @ts-expect-error falling through is the mistake under test
    const fallThrough = refusedWith(() => grad((x: number, k: number) => { let y = x; switch (k) { case 0: y = y * 2; case 1: y = y + 1; break; } return y; })(1, 5));
    expect(fallThrough.message).toMatch(/^GRADC1050: This switch statement is not supported: case 0 falls through into the next case\. End it with break or return/);
    const early = refusedWith(() => grad((x: number, k: number) => { let y = x; switch (k) { case 0: { if (x > 1) break; y = y * 2; break; } default: y = -y; } return y; })(1, 5));
    expect(early.message).toMatch(/^GRADC1050: This switch statement is not supported: a break before the end of its case\. Put the rest of the case in an else branch/);
    const label = refusedWith(() => grad((x: number, k: number) => { switch (k) { case x: return x; } return 2 * x; })(1, 5));
    expect(label.message).toMatch(/^GRADC1050: This switch statement is not supported: a case label must be a number known at compile time\. Use number literals or constants/);
    const onTensor = refusedWith(() => grad((x: Tensor<[2]>) => { switch (x as unknown as number) { case 1: return sum(x); } return 0; })(tensor([1, 2])));
    expect(onTensor.message).toMatch(/^GRADC1050: This switch statement is not supported: the value switched on is a tensor of shape \[2\]\. Switch on a number/);
  });

  it("runs labels known at compile time: literals, negated literals, module constants, local constants, shapes", () => {
    const CUBIC = 3;
    function f(x: Tensor<[2]>, k: number): number {
      const two = 2;
      const s = sum(x);
      switch (k) {
        case -1:
          return s;
        case two:
          return s * s;
        case CUBIC:
          return s * s * s;
        case x.shape[0] + 2: // 4
        case 2 * 3 - 1: // 5
          return 4 * s;
        default:
          return 0;
      }
    }
    const x = tensor([0.5, 1]); // s = 1.5
    const dx = (k: number): number[] => Array.from((grad(f, { scope: { CUBIC } })(x, k) as Tensor<[2]>).data as Float64Array);
    expect(dx(-1)).toEqual([1, 1]);
    expect(dx(2)).toEqual([3, 3]); // 2s
    expect(dx(3)[0]).toBeCloseTo(3 * 1.5 ** 2, 12); // 3s²
    expect(dx(4)).toEqual([4, 4]);
    expect(dx(5)).toEqual([4, 4]);
    expect(dx(7)).toEqual([0, 0]);
  });

  it("switch (true) over conditions, and a switch on a constant that folds past a run-time label", () => {
    function clamp(x: number, lo: number): number {
      switch (true) {
        case x < lo:
          return lo + 0.01 * (x - lo);
        default:
          return x;
      }
    }
    expect(grad(clamp)(-1, 0)).toBeCloseTo(0.01, 12);
    expect(grad(clamp)(2, 0)).toBeCloseTo(1, 12);
    function folded(x: number): number {
      switch (2) {
        case 2:
          return x * x; // the compiler lowers only this case: the label below is never tested
        case x:
          return x;
      }
      return x;
    }
    expect(grad(folded)(3)).toBeCloseTo(6, 12);
  });
});
