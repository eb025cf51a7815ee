// Reverse over reverse through while loops (fixture grad-of-grad-while): grad(grad(f)), a third
// derivative, a gradient penalty and a tensor carry, with trip counts that depend on the data
// (Newton until converged, growth until a threshold, break and continue). Compiled = tape
// (the same bindings uncompiled) = second finite differences of plain JavaScript copies of the
// models, which also count their trips so that every difference is taken where the trip
// counts do not change (the function is smooth there).

import { join } from "node:path";
import { beforeAll, describe, expect, it, vi } from "vitest";
import { FIXTURES, compileFixtures } from "../helpers/fixtures.js";
import { importGenerated } from "../helpers/generated.js";
import { relErr } from "../helpers/numeric.js";

vi.mock("gradc", () => import("../../runtime/index.js"));

type Fn = (...args: any[]) => any; // eslint-disable-line @typescript-eslint/no-explicit-any
type T = { shape: number[]; data: Float64Array };
/** A model's value and the trip counts of its while loops. */
type Traced = [number, number[]];

const CASE = "grad-of-grad-while";
let gen: Record<string, Fn>;
let tape: Record<string, Fn>;
let code: string;

beforeAll(async () => {
  const r = compileFixtures([CASE]).get(CASE)!;
  expect(r.diagnostics.map((d) => d.message)).toEqual([]);
  code = r.module!.code;
  gen = (await importGenerated(code, CASE)) as Record<string, Fn>;
  tape = (await import(/* @vite-ignore */ join(FIXTURES, CASE, "input.ts"))) as Record<string, Fn>;
}, 120_000);

const close = (a: number, b: number, tol: number, what: string) => expect(relErr(a, b), `${what}: ${a} vs ${b}`).toBeLessThan(tol);

// The models of input.ts in plain JavaScript, counting trips.
const newton = (a: number): Traced => {
  const c = 1 + a * a;
  let x = 1 + c;
  let n = 0;
  for (; Math.abs(x * x - c) > 1e-14 * c; n++) x = x - (x * x - c) / (2 * x);
  return [x * a, [n]];
};
const steps = (x: number): Traced => {
  let y = x;
  let step = 0.5;
  let first = 0;
  do {
    y = y + step * Math.tanh(y * x);
    step = step * 0.7;
    first++;
  } while (step > 0.01);
  let n = 0;
  let path = 0;
  for (;;) {
    n = n + 1;
    if (n > 40) break;
    y = y * 1.1 + 0.1 * Math.sin(x * y);
    if (y < 1) continue;
    path++;
    y = y - 0.02 * y * y;
    if (y > 3) break;
  }
  return [y * x, [first, n, path]];
};
const nested = (x: number): Traced => {
  let s = 0;
  const trips: number[] = [];
  for (let i = 0; i < 20; i++) {
    let y = x + 0.05 * i;
    let n = -1;
    if (y > 0.5) {
      n = 0;
      while (y < 3 && n < 50) {
        y = y * 1.2 + 0.1 * Math.sin(x * y);
        n = n + 1;
      }
    }
    trips.push(n);
    s = s + y * y;
  }
  return [s, trips];
};
const shrink = (v0: number[], g: number): Traced => {
  let v = v0;
  let n = 0;
  while (v.reduce((a, b) => a + b * b, 0) > 0.05 && n < 60) {
    v = v.map((e) => Math.tanh(e) * g);
    n = n + 1;
  }
  return [v.reduce((a, e, i) => a + e * v0[i]!, 0) * g, [n]];
};

/**
 * f's second derivative by second differences at x, after checking that the trip counts are
 * the same at every point the differences read.
 */
function second(f: (x: number) => Traced, x: number, h = 1e-4): { d1: number; d2: number; trips: number[] } {
  const at = [-h, 0, h].map((d) => f(x + d));
  for (const p of at) expect(p[1], `trip counts around ${x}`).toEqual(at[1]![1]);
  const [m, c, p] = at.map((v) => v[0]);
  return { d1: (p! - m!) / (2 * h), d2: (p! - 2 * c! + m!) / (h * h), trips: at[1]![1] };
}

describe("grad(grad(f)) through while loops: compiled = tape = second differences", () => {
  it("Newton iterations until converged: f = a·sqrt(1 + a²), f'' and f''' worked by hand", () => {
    const seen = new Set<number>();
    for (const a of [0.05, 0.7, -1.9, 3.5, 20]) {
      seen.add(newton(a)[1][0]!);
      const s = Math.sqrt(1 + a * a);
      const d2 = gen["d2Newton"]!(a) as number;
      close(d2, (3 * a + 2 * a ** 3) / s ** 3, 1e-9, `f''(${a})`);
      close(d2, second(newton, a, 1e-4).d2, 1e-5, `f''(${a}) vs second difference`);
      close(tape["d2Newton"]!(a), d2, 1e-10, `tape f''(${a})`);
      const d3 = gen["d3Newton"]!(a) as number;
      close(d3, 3 / s ** 5, 1e-8, `f'''(${a})`);
      close(tape["d3Newton"]!(a), d3, 1e-10, `tape f'''(${a})`);
    }
    // The trip count depends on the data.
    expect(seen.size).toBeGreaterThan(2);
  });

  it("do/while, then while (true) with break and continue", () => {
    const seen = new Set<string>();
    for (const x of [0.3, 0.55, 0.8, 1.3]) {
      const ref = second(steps, x);
      seen.add(ref.trips.join());
      const c = gen["d2Steps"]!(x) as number;
      close(c, ref.d2, 1e-5, `steps''(${x})`);
      close(tape["d2Steps"]!(x), c, 1e-10, `tape steps''(${x})`);
    }
    expect(seen.size).toBeGreaterThan(2);
  });

  it("a while loop in a branch inside a rolled loop (some trips take the other branch)", () => {
    for (const x of [0.32, 0.62, 1.1]) {
      const ref = second(nested, x);
      expect(ref.trips.some((n) => n > 0)).toBe(true);
      const c = gen["d2Nested"]!(x) as number;
      close(c, ref.d2, 1e-5, `nested''(${x})`);
      close(tape["d2Nested"]!(x), c, 1e-10, `tape nested''(${x})`);
    }
    expect(nested(0.32)[1]).toContain(-1);
  });

  it("a tensor carry: d/dv0 and d/dg of ∂shrink/∂g", () => {
    const h = 1e-4;
    for (const [v0, g] of [
      [[0.9, -0.7, 0.4], 0.9],
      [[0.3, 0.5, -0.2], 1.05],
    ] as [number[], number][]) {
      const f = (v: number[], gg: number): number => {
        // Every point read has the trip count of the centre.
        const [value, trips] = shrink(v, gg);
        expect(trips).toEqual(shrink(v0, g)[1]);
        return value;
      };
      const shift = (j: number, d: number) => v0.map((e, i) => (i === j ? e + d : e));
      const dvg = v0.map((_e, j) => (f(shift(j, h), g + h) - f(shift(j, h), g - h) - f(shift(j, -h), g + h) + f(shift(j, -h), g - h)) / (4 * h * h));
      const dgg = (f(v0, g + h) - 2 * f(v0, g) + f(v0, g - h)) / (h * h);
      const arg: T = { shape: [3], data: Float64Array.from(v0) };
      const [cv, cg] = gen["d2Shrink"]!(arg, g) as [T, number];
      const [tv, tg] = tape["d2Shrink"]!(arg, g) as [T, number];
      dvg.forEach((d, j) => close(cv.data[j]!, d, 1e-5, `d²/dv0[${j}]dg`));
      close(cg, dgg, 1e-5, "d²/dg²");
      cv.data.forEach((d, j) => close(tv.data[j]!, d, 1e-10, `tape d²/dv0[${j}]dg`));
      close(tg, cg, 1e-10, "tape d²/dg²");
    }
  });

  it("a gradient penalty through a while loop: (f + 0.1·f'²)' = f' + 0.2·f'·f''", () => {
    for (const x of [0.3, 0.8, 1.3]) {
      const { d1, d2 } = second(steps, x);
      const [v, g] = gen["dPenalized"]!(x) as [number, number];
      close(v, steps(x)[0] + 0.1 * d1 * d1, 1e-7, `penalized(${x})`);
      close(g, d1 + 0.2 * d1 * d2, 1e-5, `penalized'(${x})`);
      const [tv, tg] = tape["dPenalized"]!(x) as [number, number];
      close(tv, v, 1e-12, "tape value");
      close(tg, g, 1e-10, "tape gradient");
    }
  });

  it("the loops stay loops, and storage sized by a trip count follows each run's count", () => {
    const fn = code.slice(code.indexOf("export function d2Steps"));
    const body = fn.slice(0, fn.indexOf("\n}\n"));
    expect(body).toMatch(/for \(; ; k\w*\+\+\) \{/);
    expect(body).toMatch(/for \(let k\w* = k\w* - 1; k\w* >= 0; k\w*--\)/);
    expect(body).toMatch(/for \(let k\w* = 0; k\w* < k\w*; k\w*\+\+\)/);
    // Long, short, long again: each call agrees with the tape.
    for (const a of [40, 0.05, 40, 0.7]) close(gen["d2Newton"]!(a), tape["d2Newton"]!(a), 1e-10, `d2Newton(${a})`);
    expect(newton(40)[1][0]).not.toBe(newton(0.05)[1][0]);
  });
});
