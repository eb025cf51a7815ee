// at(x, i) in compiled code: an index that is not an integer in range throws a GradcError with
// the eager op's message (never a read past the end, a NaN value or zero gradients); an index
// the compiler can prove in range (a loop counter over the axis) costs nothing; and in-range
// results agree with the tape and with finite differences.

import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { BAD_INDEX_HELPER } from "../../compiler/codegen/indexcheck.js";
import { gradcErrorBinding } from "../../runtime/error-source.js";
import { indexProblem } from "../../compiler/ops/index-check.js";
import { GradcError, at, tensor } from "../../runtime/index.js";
import { importGenerated } from "../helpers/generated.js";
import { centralDifference } from "../helpers/numeric.js";
import { type Compiled, compileFiles, load, tensorOf } from "./helpers.js";

const SOURCE = `import { at, grad, valueAndGrad, sum, type Tensor } from "gradc";

// The dimension is symbolic and the trip count constant: the frontend cannot tell at compile
// time that i + 1 leaves the axis, so the check is at run time.
export function shifted<T extends number>(x: Tensor<[T]>): number {
  let s = 0;
  for (let i = 0; i < 20; i++) s = s + at(x, i + 1) * at(x, i);
  return s;
}
export const gShifted = valueAndGrad(shifted);

export function halves<T extends number>(x: Tensor<[T]>): number {
  let s = 0;
  for (let i = 0; i < x.shape[0]; i++) s = s * 0.5 + at(x, i / 2);
  return s;
}
export const gHalves = grad(halves);

export function inRange<T extends number>(w: number, xs: Tensor<[T, 2]>): number {
  let h = 0;
  for (let i = 0; i < xs.shape[0]; i++) h = Math.tanh(w * h + sum(at(xs, i)));
  let s = 0;
  for (let i = 0; i < 20; i++) s = s + w * i;
  return h * h + s;
}
export const gInRange = valueAndGrad(inRange, { argnums: [0, 1] });

export function unused<T extends number>(x: Tensor<[T]>): number {
  let s = 0;
  for (let i = 0; i < 20; i++) {
    const ahead = at(x, i + 1);
    s = s + at(x, i);
  }
  return s;
}
export const gUnused = grad(unused);

export function offset(x: Tensor<[24]>, off: number): number {
  let s = 0;
  for (let t = 0; t < 20; t++) {
    const d = 0.5 - at(x, t + off);
    s = s + d * d;
  }
  return s;
}
export const gOffset = valueAndGrad(offset);

export function invariant<T extends number>(xs: Tensor<[T]>, y: Tensor<[3]>, c: number): number {
  let s = 0;
  for (let i = 0; i < xs.shape[0]; i++) s = s + at(y, c) * at(xs, i);
  return s + sum(y);
}
export const gInvariant = valueAndGrad(invariant, { argnums: [0, 1] });
`;

// Unrolled, its indices are constants: the frontend may refuse the one out of range.
const SMALL = `import { at, valueAndGrad, type Tensor } from "gradc";

export function small(x: Tensor<[5]>): number {
  let s = 0;
  for (let i = 0; i < 6; i++) s = s + at(x, i) * at(x, i);
  return s;
}
export const gSmall = valueAndGrad(small);

export function constant(x: Tensor<[5]>): number {
  return at(x, 7) * 2 + at(x, -1);
}
export const gConstant = valueAndGrad(constant);
`;

type Fn = (...args: unknown[]) => unknown;
let compiled: Compiled;
let m: Record<string, Fn>;
let tape: Record<string, Fn>;

beforeAll(async () => {
  compiled = compileFiles("index-checks", { "model.ts": SOURCE });
  m = (await load(compiled, "model.ts")) as Record<string, Fn>;
  // The same source uncompiled: gradc's tape (the fallback).
  tape = (await import(/* @vite-ignore */ join(compiled.dir, "model.ts"))) as Record<string, Fn>;
});

/** The message eager at(x, i) throws for an axis of size n. */
function eagerMessage(n: number, i: number): string {
  try {
    at(tensor(new Float64Array(n), [n]), i);
  } catch (e) {
    expect(e).toBeInstanceOf(GradcError);
    return (e as Error).message;
  }
  throw new Error(`eager at(x, ${i}) did not throw for size ${n}`);
}

function thrown(f: () => unknown): Error {
  try {
    f();
  } catch (e) {
    return e as Error;
  }
  throw new Error("expected a GradcError, the call returned");
}

const ramp = (n: number): { shape: number[]; data: Float64Array | Float32Array } => tensorOf([n], Array.from({ length: n }, (_x, i) => 0.1 * (i + 1)));

describe("a computed index out of range or not an integer throws the eager op's GradcError", () => {
  it("the message names the op, the index and the bound, and is the eager one", () => {
    expect(eagerMessage(5, 7)).toBe("at: index 7 is out of range [0, 5)");
    expect(eagerMessage(5, 2.5)).toBe("at: index 2.5 is out of range [0, 5)");
  });

  it("the compiled helper formats exactly indexProblem's words", async () => {
    const mod = await importGenerated(
      `${gradcErrorBinding("$gradc_GradcError")}\n${BAD_INDEX_HELPER}\nexport const bad = $gradc_badIndex;\n`,
      "bad-index-helper",
    );
    for (const [i, n] of [[7, 5], [-1, 5], [5, 5], [2.5, 5], [NaN, 3], [-0.5, 1], [1e21, 4]] as const) {
      const e = thrown(() => (mod["bad"] as Fn)(i, n));
      expect(e.message).toBe(`at: ${indexProblem(i, n)}`);
      expect(e.message).toBe(eagerMessage(n, i));
    }
  });

  it("i + 1 past the end of a rolled loop (20 trips): the eager message, no value", () => {
    const e = thrown(() => m["gShifted"]!(ramp(20)));
    expect(e.name).toBe("GradcError");
    expect(e.message).toBe(eagerMessage(20, 20));
    // The uncompiled function fails the same way.
    expect(thrown(() => tape["gShifted"]!(ramp(20))).message).toBe(e.message);
  });

  it("i / 2 over a symbolic dimension: not an integer, in forward and in grad-only code", () => {
    const e = thrown(() => m["gHalves"]!(ramp(6)));
    expect(e.name).toBe("GradcError");
    expect(e.message).toBe(eagerMessage(6, 0.5));
    expect(thrown(() => tape["gHalves"]!(ramp(6))).message).toBe(e.message);
  });

  it("an at() whose value is unused still checks its index", () => {
    const e = thrown(() => m["gUnused"]!(ramp(20)));
    expect(e.message).toBe(eagerMessage(20, 20));
  });

  it("a loop-invariant at() is not hoisted out of a loop that runs no trip", () => {
    const y = tensorOf([3], [1, 2, 3]);
    // No trip: at(y, 7) is never evaluated, as in the eager function.
    const [value] = m["gInvariant"]!(ramp(0), y, 7) as [number, unknown];
    expect(value).toBe(6);
    expect(tape["gInvariant"]!(ramp(0), y, 7)).toEqual(m["gInvariant"]!(ramp(0), y, 7));
    expect(thrown(() => m["gInvariant"]!(ramp(2), y, 7)).message).toBe(eagerMessage(3, 7));
    expect(thrown(() => m["gInvariant"]!(ramp(2), y, -1)).message).toBe(eagerMessage(3, -1));
  });

  it("constant indices out of range (a 6-trip loop unrolled over 5 entries, at(x, 7), at(x, -1)): diagnosed, or the error at run time", async () => {
    // Each function on its own, so that a diagnostic for one does not hide the other.
    for (const [name, binding, index] of [["small", "gSmall", 5], ["constant", "gConstant", 7]] as const) {
      const start = SMALL.indexOf(`export function ${name}`);
      const text = SMALL.slice(0, SMALL.indexOf("\n\n") + 2) + SMALL.slice(start, SMALL.indexOf(");\n", start) + 3);
      const c = compileFiles(`index-checks-${name}`, { "model.ts": text });
      if (c.diagnostics.length > 0) {
        expect(c.diagnostics.join("\n")).toMatch(/model\.ts\(\d+,\d+\): error GRADC\d+: /);
        continue;
      }
      const mod = (await load(c, "model.ts")) as Record<string, Fn>;
      const e = thrown(() => mod[binding]!(ramp(5)));
      expect(e.name).toBe("GradcError");
      expect(e.message).toBe(eagerMessage(5, index));
    }
  });
});

describe("at(x, t + off) in a loop: one test before the loop, the per-trip check only when it fails", () => {
  it("checks the whole range before the loop", () => {
    const code = compiled.modules.get("model.ts")!.code;
    const body = code.slice(code.indexOf("export function gOffset"), code.indexOf("\n}\n", code.indexOf("export function gOffset")));
    expect(body).toMatch(/const inRange\w* = \(off >>> 0\) === off && off \+ 20 <= 24;/);
    expect(body).toMatch(/if \(!inRange\w* && /);
  });

  it("in range: the tape's value and gradient; out of range or fractional: the eager error at the first bad trip", () => {
    const x = ramp(24);
    for (const off of [0, 2, 4]) {
      const [v, dx] = m["gOffset"]!(x, off) as [number, { data: Float64Array }];
      const [tv, tdx] = tape["gOffset"]!(x, off) as [number, { data: Float64Array }];
      expect(v).toBeCloseTo(tv, 12);
      Array.from(dx.data).forEach((g, i) => expect(g).toBeCloseTo(tdx.data[i]!, 12));
    }
    for (const off of [5, -1, 0.5, NaN]) {
      const e = thrown(() => m["gOffset"]!(x, off));
      expect(e.message).toBe(thrown(() => tape["gOffset"]!(x, off)).message);
      expect(e.message).toBe(eagerMessage(24, off < 0 || Number.isNaN(off) || off === 0.5 ? off : 24));
    }
  });
});

describe("an index known to be in range is not checked, and the results are right", () => {
  it("loop counters over the axis (static, symbolic, and the backward pass's histories) emit no check", () => {
    const code = compiled.modules.get("model.ts")!.code;
    const body = code.slice(code.indexOf("export function gInRange"), code.indexOf("\n}\n", code.indexOf("export function gInRange")));
    expect(body).toMatch(/xs_d\[/);
    expect(body).not.toMatch(/\$gradc_badIndex/);
  });

  it("value and gradients agree with the tape and with central differences", () => {
    const xs = tensorOf([7, 2], Array.from({ length: 14 }, (_x, i) => Math.sin(i + 1) * 0.5));
    const [v, [dw, dxs]] = m["gInRange"]!(0.7, xs) as [number, [number, { data: Float64Array }]];
    const [tv, [tdw, tdxs]] = tape["gInRange"]!(0.7, xs) as [number, [number, { data: Float64Array }]];
    expect(v).toBeCloseTo(tv, 12);
    expect(dw).toBeCloseTo(tdw, 12);
    Array.from(dxs.data).forEach((g, i) => expect(g).toBeCloseTo(tdxs.data[i]!, 12));
    const f = (w: number, x: typeof xs): number => (m["gInRange"]!(w, x) as [number])[0];
    expect(dw).toBeCloseTo(centralDifference((w) => f(w, xs), 0.7), 6);
    for (const i of [0, 5, 13]) {
      const fd = centralDifference((t) => {
        const data = Float64Array.from(xs.data);
        data[i] = t;
        return f(0.7, { shape: [7, 2], data });
      }, xs.data[i]!);
      expect(dxs.data[i]).toBeCloseTo(fd, 6);
    }
  });
});
