// `while`, `do`, `break` and `continue`: compiled gradients equal the tape's (the same source,
// interpreted by the uncompiled fallback) and central finite differences; the trip count is
// decided at run time and the histories grow as needed.
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { beforeAll, describe, expect, test } from "vitest";
import { compile } from "../../compiler/index.js";

const TMP = join(__dirname, "..", ".tmp", "while");

const SOURCE = `
import { jvp, mul, sum, tanh, valueAndGrad, type Tensor } from "gradc";

// Newton's iteration for sqrt(1 + a²), until converged: the trip count depends on a and x0.
export function newton(a: number, x0: number, w: number): number {
  const c = 1 + a * a;
  let x = 1 + x0 * x0 + c;
  while (Math.abs(x * x - c) > 1e-13 * c) {
    x = x - (x * x - c) / (2 * x);
  }
  return w * x;
}
export const gNewton = valueAndGrad(newton, { argnums: [0, 1, 2] });
export const tNewton = jvp(newton, { argnums: [0] });

// Fixed-point iteration x = cos(p·x) run until the step is small (converges for |p| < 1).
export function fixedPoint(p: number, x0: number): number {
  let x = x0;
  let step = 1;
  let n = 0;
  while (step > 1e-14 && n < 500) {
    const next = Math.cos(p * x);
    step = Math.abs(next - x);
    x = next;
    n = n + 1;
  }
  return x * x;
}
export const gFixedPoint = valueAndGrad(fixedPoint, { argnums: [0, 1] });

export function doLoop(x: number, s: number): number {
  let step = s;
  let y = x;
  do {
    y = y + step * Math.tanh(y);
    step = step * 0.6;
  } while (Math.abs(step) > 1e-3);
  return y * y;
}
export const gDoLoop = valueAndGrad(doLoop, { argnums: [0, 1] });

export function whileBreak(x: number, c: number): number {
  let y = x;
  let n = 0;
  while (true) {
    n = n + 1;
    if (n > 40) break;
    y = y * c + 0.1;
    if (y < 0.5) continue;
    y = y - 0.01 * y * y;
    if (Math.abs(y) > 3) break;
  }
  return y;
}
export const gWhileBreak = valueAndGrad(whileBreak, { argnums: [0, 1] });

export function forBreak(x: number, r: number): number {
  let acc = x;
  let s = 0;
  for (let i = 0; i < 100; i++) {
    if (acc > 10) break;
    acc = acc * (1 + r);
    if (acc < 2) continue;
    s = s + acc * r;
  }
  return acc + s;
}
export const gForBreak = valueAndGrad(forBreak, { argnums: [0, 1] });

export function shortLoop(w: [number, number, number, number], x: number): number {
  let acc = 0;
  for (let i = 0; i < 4; i++) {
    const t = w[i]! * x;
    if (t < 0) continue;
    acc = acc + t * t;
    if (acc > 2) break;
  }
  return acc;
}
export const gShortLoop = valueAndGrad(shortLoop, { argnums: [0, 1] });

// A while loop inside a rolled for loop, and a break out of the inner of two loops.
export function nested(a: number, b: number): number {
  let total = 0;
  for (let i = 0; i < 20; i++) {
    let x = a + 0.1 * i;
    let k = 0;
    while (x > 0.2 && k < 30) {
      x = x * b;
      k = k + 1;
    }
    for (let j = 0; j < 30; j++) {
      if (x > 1) break;
      x = x + 0.05 * a;
    }
    total = total + x * x;
  }
  return total;
}
export const gNested = valueAndGrad(nested, { argnums: [0, 1] });

// A tensor carried by a while loop (its history grows row by row).
export function shrink(v0: Tensor<[3]>, g: number): number {
  let v = v0;
  let n = 0;
  while (sum(mul(v, v)) > 0.05 && n < 60) {
    v = mul(tanh(v), g);
    n = n + 1;
  }
  return sum(mul(v, v0));
}
export const gShrink = valueAndGrad(shrink, { argnums: [0, 1] });
`;

type Fn = (...args: unknown[]) => [number, unknown];
let compiled: Record<string, Fn>;
let interpreted: Record<string, Fn>;
let code: string;

beforeAll(async () => {
  mkdirSync(TMP, { recursive: true });
  const src = join(TMP, "models.ts");
  writeFileSync(src, SOURCE);
  const result = compile([src], { emit: "js", verify: true });
  expect(result.diagnostics).toEqual([]);
  code = result.modules[0]!.code;
  const out = join(TMP, "models.compiled.mjs");
  writeFileSync(out, code);
  compiled = (await import(pathToFileURL(out).href)) as Record<string, Fn>;
  interpreted = (await import(src)) as Record<string, Fn>;
}, 120_000);

const numbers = (g: unknown): number[] =>
  typeof g === "number" ? [g] : Array.isArray(g) ? g.flatMap(numbers) : Array.from((g as { data: Float64Array }).data);

/** Central differences of f's value in each entry of each differentiated argument (numbers or tensors). */
function finiteDifferences(f: Fn, args: unknown[], argnums: number[], eps = 1e-6): number[] {
  const value = (xs: unknown[]): number => f(...xs)[0];
  return argnums.flatMap((n) => {
    const a = args[n];
    if (typeof a === "number") {
      const up = [...args];
      const down = [...args];
      up[n] = a + eps;
      down[n] = a - eps;
      return [(value(up) - value(down)) / (2 * eps)];
    }
    if (Array.isArray(a))
      return a.map((x: number, i) => {
        const at = (d: number): unknown[] => Object.assign([...args], { [n]: a.map((y: number, j) => (j === i ? x + d : y)) });
        return (value(at(eps)) - value(at(-eps))) / (2 * eps);
      });
    const t = a as { shape: number[]; data: Float64Array };
    return Array.from(t.data, (_x, i) => {
      const at = (d: number): unknown[] => {
        const data = t.data.slice();
        data[i] = data[i]! + d;
        const xs = [...args];
        xs[n] = { shape: t.shape, data };
        return xs;
      };
      return (value(at(eps)) - value(at(-eps))) / (2 * eps);
    });
  });
}

const vec = (...xs: number[]) => ({ shape: [xs.length], data: Float64Array.from(xs) });

const CASES: [string, unknown[], number[]][] = [
  ["gNewton", [0.7, 1.3, 2], [0, 1, 2]],
  ["gNewton", [-1.9, 0.1, 0.5], [0, 1, 2]],
  ["gFixedPoint", [0.6, 0.3], [0, 1]],
  ["gDoLoop", [0.4, 0.9], [0, 1]],
  ["gDoLoop", [-0.3, 0.0005], [0, 1]],
  ["gWhileBreak", [0.3, 1.1], [0, 1]],
  ["gWhileBreak", [0.9, 1.5], [0, 1]],
  ["gForBreak", [0.5, 0.07], [0, 1]],
  ["gForBreak", [0.5, 0.002], [0, 1]],
  ["gShortLoop", [[0.5, -0.2, 0.9, 0.4], 1.3], [0, 1]],
  ["gShortLoop", [[0.1, 0.2, -0.3, 0.4], 0.7], [0, 1]],
  ["gNested", [0.9, 0.8], [0, 1]],
  ["gShrink", [vec(0.9, -0.7, 0.4), 0.9], [0, 1]],
];

describe("while, do, break and continue: compiled = tape ≈ finite differences", () => {
  test.each(CASES)("%s at %j", (name, args, argnums) => {
    const [v1, g1] = compiled[name]!(...args);
    const [v2, g2] = interpreted[name]!(...args);
    expect(Math.abs(v1 - v2)).toBeLessThanOrEqual(1e-12 * Math.max(1, Math.abs(v2)));
    const [c, t] = [numbers(g1), numbers(g2)];
    expect(c.length).toBe(t.length);
    c.forEach((d, i) => expect(Math.abs(d - t[i]!)).toBeLessThanOrEqual(1e-9 * Math.max(1, Math.abs(t[i]!))));
    const fd = finiteDifferences(compiled[name]!, args, argnums);
    expect(fd.length).toBe(c.length);
    c.forEach((d, i) => expect(Math.abs(d - fd[i]!)).toBeLessThanOrEqual(1e-5 * Math.max(1, Math.abs(d))));
  });

  test("Newton's gradient is the implicit-function-theorem value, whatever the start", () => {
    // x* = sqrt(1 + a²): d(w·x*)/da = w·a / x*, d/dw = x*, d/dx0 = 0.
    for (const x0 of [0.1, 1, 5]) {
      const [, g] = compiled.gNewton!(0.7, x0, 2);
      const [da, dx0, dw] = numbers(g);
      const xs = Math.sqrt(1 + 0.49);
      expect(da).toBeCloseTo((2 * 0.7) / xs, 10);
      expect(dw).toBeCloseTo(xs, 12);
      expect(Math.abs(dx0!)).toBeLessThan(1e-10);
    }
  });

  test("forward mode through a while loop", () => {
    const [value, tangent] = compiled.tNewton!([0.7, 1.3, 2], [1]) as unknown as [number, number];
    expect(value).toBeCloseTo(2 * Math.sqrt(1.49), 12);
    expect(tangent).toBeCloseTo((2 * 0.7) / Math.sqrt(1.49), 10);
  });

  test("the histories are module-level buffers that double as they grow, and stay loops", () => {
    const fn = code.slice(code.indexOf("export function gNewton"));
    const body = fn.slice(0, fn.indexOf("\n}\n"));
    expect(body).toMatch(/for \(; ; k\w*\+\+\) \{/);
    expect(body).toMatch(/for \(let k\w* = k\w* - 1; k\w* >= 0; k\w*--\)/);
    expect(code).toMatch(/let \$gradc_gNewton_h0 = new Float64Array\(0\);/);
    expect(body).toMatch(/const \$gradc_gNewton_h0_n = Math\.max\(2 \* \$gradc_gNewton_h0\.length, k\w* \+ 1, 16\);/);
    expect(body).toMatch(/new Float64Array\(\$gradc_gNewton_h0_n\)/);
    // A longer run after a shorter one: the grown buffer keeps the values of this run.
    const [, short] = compiled.gWhileBreak!(0.3, 1.01);
    const [, long] = compiled.gWhileBreak!(0.3, 1.1);
    const [, again] = compiled.gWhileBreak!(0.3, 1.01);
    expect(numbers(again)).toEqual(numbers(short));
    expect(numbers(long)).toEqual(numbers(interpreted.gWhileBreak!(0.3, 1.1)[1]));
  });
});

describe("reverse over reverse", () => {
  // Its values are checked in test/transforms/grad-of-grad-while.test.ts.
  test("grad(grad(f)) through a while loop compiles (it was refused as GRADC1031)", async () => {
    const { compileSource } = await import("../transforms/compile-source.js");
    const diagnostics = compileSource(`import { grad } from "gradc";
export function f(x: number): number {
  let y = x;
  let n = 0;
  while (y < 10 && n < 100) {
    y = Math.sin(y) + 1.5 * y + x;
    n = n + 1;
  }
  return y;
}
export const d2 = grad(grad(f));
`);
    expect(diagnostics).toEqual([]);
  });
});
