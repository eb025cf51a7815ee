// Loops that stay loops: compiled gradients against the tape (same source, interpreted) and
// central finite differences; generated code size independent of the trip count; a
// checkpointed loop gives the same gradients with less storage.
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { beforeAll, describe, expect, test } from "vitest";
import { compile } from "../../compiler/index.js";

const TMP = join(__dirname, "..", ".tmp", "loops");

const model = (steps: number, checkpoint = false) => `
import { valueAndGrad } from "gradc";

export function pendulum(k: number, L: number, theta0: number, omega0: number, target: number): number {
  const g = 9.81;
  const dt = 0.01;
  let theta = theta0;
  let omega = omega0;
  let loss = 0;
  ${checkpoint ? "// @gradc checkpoint" : ""}
  for (let t = 0; t < ${steps}; t++) {
    omega = omega + dt * (-(g / L) * Math.sin(theta) - k * omega);
    theta = theta + dt * omega;
    const d = theta - target;
    loss = loss + d * d;
  }
  return loss;
}
export const gPendulum = valueAndGrad(pendulum, { argnums: [0, 1, 2, 3] });

export function branchy(x: number, y: number): number {
  let s = 0;
  let p = x;
  for (let i = 0; i < 40; i++) {
    if (p > 0.5) {
      p = Math.sqrt(p) * y;
    } else {
      p = p * p + 0.3 * y;
    }
    s = s + (i < 20 ? p : -p * x);
  }
  return s;
}
export const gBranchy = valueAndGrad(branchy, { argnums: [0, 1] });

export function nested(a: number, b: number): number {
  let acc = 0;
  for (let i = 0; i < 30; i++) {
    let inner = a;
    for (let j = 0; j < 20; j++) {
      inner = Math.tanh(inner * b + 0.1 * i);
    }
    acc = acc + inner * inner;
  }
  return acc;
}
export const gNested = valueAndGrad(nested, { argnums: [0, 1] });

export function down(x: number): number {
  let v = x;
  for (let i = 60; i > 0; i -= 3) {
    v = v + Math.sin(v * i * 0.01);
  }
  return v;
}
export const gDown = valueAndGrad(down);
`;

type Fn = (...args: number[]) => [number, number[] | number];

async function load(name: string, source: string): Promise<{ compiled: Record<string, Fn>; interpreted: Record<string, Fn>; code: string }> {
  mkdirSync(TMP, { recursive: true });
  const src = join(TMP, `${name}.ts`);
  writeFileSync(src, source);
  const result = compile([src], { emit: "js", verify: true });
  expect(result.diagnostics).toEqual([]);
  const out = join(TMP, `${name}.compiled.mjs`);
  writeFileSync(out, result.modules[0]!.code);
  return {
    compiled: (await import(pathToFileURL(out).href)) as Record<string, Fn>,
    interpreted: (await import(src)) as Record<string, Fn>,
    code: result.modules[0]!.code,
  };
}

const flat = (g: number[] | number): number[] => (Array.isArray(g) ? g : [g]);

function finiteDifferences(f: Fn, args: number[], argnums: number[]): number[] {
  return argnums.map((n) => {
    const eps = 1e-6;
    const up = [...args];
    const down = [...args];
    up[n]! += eps;
    down[n]! -= eps;
    return (f(...up)[0] - f(...down)[0]) / (2 * eps);
  });
}

let mods: Awaited<ReturnType<typeof load>>;
beforeAll(async () => {
  mods = await load("models", model(1000));
});

const CASES: [string, number[], number[]][] = [
  ["gPendulum", [0.3, 1.2, 0.8, 0.1, 0.2], [0, 1, 2, 3]],
  ["gBranchy", [0.9, 0.7], [0, 1]],
  ["gNested", [0.4, 0.9], [0, 1]],
  ["gDown", [0.5], [0]],
];

describe("loops stay loops and differentiate correctly", () => {
  test.each(CASES)("%s: compiled = tape ≈ finite differences", (name, args, argnums) => {
    const [v1, g1] = mods.compiled[name]!(...args);
    const [v2, g2] = mods.interpreted[name]!(...args);
    expect(Math.abs(v1 - v2)).toBeLessThanOrEqual(1e-12 * Math.max(1, Math.abs(v2)));
    flat(g1).forEach((d, i) => expect(Math.abs(d - flat(g2)[i]!)).toBeLessThanOrEqual(1e-9 * Math.max(1, Math.abs(flat(g2)[i]!))));
    const fd = finiteDifferences(mods.compiled[name]!, args, argnums);
    flat(g1).forEach((d, i) => expect(d).toBeCloseTo(fd[i]!, 4));
  });

  test("the generated code has a forward and a reverse loop, not copies of the body", () => {
    const fn = mods.code.slice(mods.code.indexOf("export function gPendulum"));
    const body = fn.slice(0, fn.indexOf("\n}\n"));
    expect(body.match(/for \(let k\w* = 0; k\w* < 1000; k\w*\+\+\)/g)).toHaveLength(1);
    expect(body.match(/for \(let k\w* = 1000 - 1; k\w* >= 0; k\w*--\)/g)).toHaveLength(1);
    expect(body.match(/Math\.sin/g)!.length).toBeLessThanOrEqual(2);
  });
});

describe("compile cost does not grow with the trip count", () => {
  test("1000 vs 100 000 steps: same code size, one loop each", async () => {
    const small = await load("steps1k", model(1000));
    const large = await load("steps100k", model(100_000));
    const size = (code: string) => code.replace(/steps1(00)?k/g, "F").replace(/1000(00)?/g, "N").length;
    expect(size(large.code)).toBe(size(small.code));
  });
});

describe("checkpointing", () => {
  test("same gradients, O(√n) recorded storage instead of O(n)", async () => {
    const plain = await load("plain", model(1000));
    const ckpt = await load("ckpt", model(1000, true));
    const args = [0.3, 1.2, 0.8, 0.1, 0.2];
    const [v1, g1] = plain.compiled.gPendulum!(...args);
    const [v2, g2] = ckpt.compiled.gPendulum!(...args);
    expect(Math.abs(v1 - v2)).toBeLessThanOrEqual(1e-12 * Math.abs(v1));
    flat(g1).forEach((d, i) => expect(Math.abs(d - flat(g2)[i]!)).toBeLessThanOrEqual(1e-10 * Math.max(1, Math.abs(d))));
    const storage = (code: string) =>
      [...code.matchAll(/new Float64Array\((\d+)\)/g)].reduce((n, m) => n + Number(m[1]), 0);
    expect(storage(plain.code)).toBeGreaterThanOrEqual(2000);
    expect(storage(ckpt.code)).toBeLessThan(storage(plain.code) / 5);
  });
});

describe("tensor carries", () => {
  test("an RNN over a symbolic sequence length: compiled = tape ≈ finite differences", async () => {
    const source = `
import { add, at, matmul, mul, sum, tanh, valueAndGrad, type Tensor } from "gradc";

export function rnn<T extends number>(W: Tensor<[4, 4]>, U: Tensor<[4, 3]>, xs: Tensor<[T, 3, 1]>): number {
  let h = matmul(U, at(xs, 0));
  for (let t = 0; t < xs.shape[0]; t++) {
    h = tanh(add(matmul(W, h), matmul(U, at(xs, t))));
  }
  return sum(mul(h, h));
}
export const gRnn = valueAndGrad(rnn, { argnums: [0, 1] });
`;
    const { compiled, interpreted } = await load("rnn", source);
    const { randn } = await import("../../runtime/index.js");
    const W = randn([4, 4], 1);
    const U = randn([4, 3], 2);
    for (const T of [20, 33]) {
      const xs = randn([T, 3, 1], 3 + T);
      const [v1, g1] = compiled.gRnn!(W as never, U as never, xs as never) as unknown as [number, { data: Float64Array }[]];
      const [v2, g2] = interpreted.gRnn!(W as never, U as never, xs as never) as unknown as [number, { data: Float64Array }[]];
      expect(Math.abs(v1 - v2)).toBeLessThanOrEqual(1e-12 * Math.max(1, Math.abs(v2)));
      g1.forEach((g, k) => g.data.forEach((d, i) => expect(Math.abs(d - g2[k]!.data[i]!)).toBeLessThanOrEqual(1e-10 * Math.max(1, Math.abs(d)))));
      // One entry of dW against central differences.
      const eps = 1e-6;
      const saved = W.data[5]!;
      W.data[5] = saved + eps;
      const up = compiled.gRnn!(W as never, U as never, xs as never)[0];
      W.data[5] = saved - eps;
      const down = compiled.gRnn!(W as never, U as never, xs as never)[0];
      W.data[5] = saved;
      expect(g1[0]!.data[5]).toBeCloseTo((up - down) / (2 * eps), 6);
    }
  });
});
