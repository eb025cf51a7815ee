// hasAux and reuse: compiled results against the tape (the same source, interpreted) and
// finite differences; reused results keep their identity across calls and hold exactly what a
// fresh-result compile returns; the generated code of a reusing function allocates nothing;
// the optimizers take reused results as they are; the declared types follow the options.
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { beforeAll, describe, expect, test } from "vitest";
import { compile } from "../../compiler/index.js";
import { GradcError, adam, grad, randn, sgd, tensor, valueAndGrad, type Tensor } from "../../runtime/index.js";
import { centralDifference, relErr } from "../helpers/numeric.js";

const TMP = join(__dirname, "..", ".tmp", "aux-reuse");

const MODELS = `
import { grad, jvp, matmul, mul, sigmoid, square, sub, sum, tanh, valueAndGrad, type Tensor } from "gradc";

export function layer(p: { W: Tensor<[3, 2]>; b: Tensor<[3, 1]> }, x: Tensor<[2, 1]>, y: Tensor<[3, 1]>) {
  const h = sigmoid(matmul(p.W, x));
  const e = sub(h, y);
  return [sum(square(e)), { h, e, n: sum(h), k: [2, x] }] as const;
}

export function dot<B extends number>(a: Tensor<[B]>, b: Tensor<[B]>): number {
  return sum(mul(a, b));
}

export function act(x: Tensor<[3]>, w: Tensor<[3]>): Tensor<[3]> {
  return tanh(mul(x, w));
}

export function scalar(w: [number, number], x: number) {
  const z = w[0] * x + w[1];
  return [Math.tanh(z) * z, { z, t: [Math.tanh(z)] }] as const;
}
`;

/** The bindings, each as the user would write them; compiled once with and once without reuse. */
const BINDINGS = (reuse: boolean): string => {
  const r = reuse ? ", reuse: true" : "";
  return `
export const vgLayer = valueAndGrad(layer, { hasAux: true${r} });
export const gLayer = grad(layer, { argnums: [0, 1], hasAux: true${r} });
export const gDot = grad(dot, { argnums: [0, 1]${r ? r.replace(/^, /, ", ") : ""} });
export const vgScalar = valueAndGrad(scalar, { argnums: [0, 1], hasAux: true${r} });
export const gScalar = grad(scalar, { hasAux: true${r} });
export const jAct = jvp(act, { argnums: [0, 1]${r} });
`;
};

type Fn = (...args: unknown[]) => unknown;
let reused: Record<string, Fn>;
let fresh: Record<string, Fn>;
let tape: Record<string, Fn>;
let reusedCode: string;
let declarations: string;

async function build(name: string, reuse: boolean): Promise<{ exports: Record<string, Fn>; code: string; dts: string; src: string }> {
  const src = join(TMP, `${name}.ts`);
  writeFileSync(src, MODELS + BINDINGS(reuse));
  const result = compile([src], { emit: "js", verify: true });
  expect(result.diagnostics).toEqual([]);
  const mod = result.modules[0]!;
  const out = join(TMP, `${name}.compiled.mjs`);
  writeFileSync(out, mod.code);
  return { exports: (await import(pathToFileURL(out).href)) as Record<string, Fn>, code: mod.code, dts: mod.declarations!.text, src };
}

beforeAll(async () => {
  mkdirSync(TMP, { recursive: true });
  const r = await build("reused", true);
  const f = await build("fresh", false);
  reused = r.exports;
  reusedCode = r.code;
  declarations = f.dts;
  fresh = f.exports;
  tape = (await import(r.src)) as Record<string, Fn>;
});

const t = (shape: number[], seed: number): Tensor => randn(shape, seed) as Tensor;
const layerArgs = (seed: number): unknown[] => [{ W: t([3, 2], seed), b: t([3, 1], seed + 1) }, t([2, 1], seed + 2), t([3, 1], seed + 3)];

/** Numbers in a pytree, in order (tensors flattened). */
function numbers(tree: unknown, out: number[] = []): number[] {
  if (typeof tree === "number") out.push(tree);
  else if (tree && typeof tree === "object" && "data" in tree) out.push(...Array.from((tree as Tensor).data));
  else if (Array.isArray(tree)) tree.forEach((x) => numbers(x, out));
  else if (tree && typeof tree === "object") Object.values(tree).forEach((x) => numbers(x, out));
  return out;
}

/** A deep copy, so a reused result can be compared after the next call overwrote it. */
const snapshot = (tree: unknown): unknown => JSON.parse(JSON.stringify(tree, (_k, v: unknown) => (ArrayBuffer.isView(v) ? Array.from(v as Float64Array) : v)));

function expectClose(a: unknown, b: unknown, tol: number): void {
  const xs = numbers(a);
  const ys = numbers(b);
  expect(xs.length).toBe(ys.length);
  xs.forEach((x, i) => expect(Math.abs(x - ys[i]!)).toBeLessThanOrEqual(tol * Math.max(1, Math.abs(ys[i]!))));
}

describe("hasAux", () => {
  test.each(["vgLayer", "gLayer", "vgScalar", "gScalar"])("%s: compiled = tape (value, aux and gradients, same structure)", (name) => {
    const args = name.includes("Layer") ? layerArgs(1) : [[0.7, -0.3], 1.3];
    const got = fresh[name]!(...args);
    const want = tape[name]!(...args);
    expect(snapshot(got)).toEqual(JSON.parse(JSON.stringify(snapshot(want)))); // structure and keys
    expectClose(got, want, 1e-12);
  });

  test("valueAndGrad: [[loss, aux], grads], with gradients against finite differences of the loss", () => {
    const args = layerArgs(5) as [{ W: Tensor; b: Tensor }, Tensor, Tensor];
    const [[loss, aux], g] = fresh.vgLayer!(...args) as [[number, { h: Tensor; e: Tensor; n: number; k: [number, Tensor] }], { W: Tensor; b: Tensor }];
    const h = aux.h.data;
    expect(aux.n).toBeCloseTo(h[0]! + h[1]! + h[2]!, 14);
    expect(aux.k[0]).toBe(2);
    expect(Array.from(aux.k[1].data)).toEqual(Array.from(args[1].data));
    expect(aux.k[1].data).not.toBe(args[1].data); // aux never aliases an argument
    expect(loss).toBeCloseTo(numbers(aux.e).reduce((s, e) => s + e * e, 0), 14);
    const lossAt = (W: Tensor): number => (tape.layer!({ W, b: args[0].b }, args[1], args[2]) as [number, unknown])[0];
    for (let i = 0; i < 6; i++) {
      const fd = centralDifference((v) => {
        const W = tensor(Array.from(args[0].W.data), [3, 2]);
        W.data[i] = v;
        return lossAt(W);
      }, args[0].W.data[i]!);
      expect(relErr(g.W.data[i]!, fd)).toBeLessThan(1e-6);
    }
  });

  test("grad: [grads, aux]; the bias gets no gradient since the model does not use it", () => {
    const [[gp, gx], aux] = fresh.gLayer!(...layerArgs(2)) as [[{ W: Tensor; b: Tensor }, Tensor], { h: Tensor }];
    expect(gp.W.shape).toEqual([3, 2]);
    expect(Array.from(gp.b.data)).toEqual([0, 0, 0]);
    expect(gx.shape).toEqual([2, 1]);
    expect(aux.h.shape).toEqual([3, 1]);
  });

  test("the tape refuses a result that is not a pair, and aux that is not numbers and tensors", () => {
    const single = (x: number): number => x * x;
    expect(() => valueAndGrad(single as unknown as (x: number) => [number, number], { hasAux: true })(2)).toThrow(GradcError);
    expect(() => valueAndGrad(single as unknown as (x: number) => [number, number], { hasAux: true })(2)).toThrow(/^GRADC1041: With hasAux, 'single' must return a pair \[loss, aux\] .*, but this returns a number/);
    const flag = (x: number) => [x * x, { big: x > 1 }] as const;
    expect(() => grad(flag as unknown as (x: number) => [number, number], { hasAux: true })(2)).toThrow(/aux\.big is a boolean/);
    expect(() => valueAndGrad(single, { reuse: "yes" as unknown as boolean })(2)).toThrow(/reuse: expected true or false/);
  });
});

describe("reuse", () => {
  const cases: [string, (seed: number) => unknown[]][] = [
    ["vgLayer", layerArgs],
    ["gLayer", layerArgs],
    ["gDot", (s) => [t([5], s), t([5], s + 1)]],
    ["vgScalar", (s) => [[0.1 * s, -0.2], 0.3 + s]],
    ["gScalar", (s) => [[0.1 * s, 0.4], -0.3 * s]],
    ["jAct", (s) => [[t([3], s), t([3], s + 1)], [t([3], s + 2), t([3], s + 3)]]],
  ];

  test.each(cases)("%s: the same objects every call, holding what a fresh-result compile returns", (name, args) => {
    const first = reused[name]!(...args(1));
    const firstValues = snapshot(first);
    expect(firstValues).toEqual(snapshot(fresh[name]!(...args(1))));
    const second = reused[name]!(...args(7));
    expect(second).toBe(first);
    expect(snapshot(second)).toEqual(snapshot(fresh[name]!(...args(7))));
    expect(snapshot(second)).not.toEqual(firstValues); // overwritten in place
    // Every container, tensor object and typed array is the one of the first call.
    const parts = (tree: unknown, out: unknown[] = []): unknown[] => {
      if (tree && typeof tree === "object") {
        out.push(tree);
        Object.values(tree).forEach((x) => parts(x, out));
      }
      return out;
    };
    const before = parts(first);
    const again = parts(reused[name]!(...args(3)));
    expect(again).toHaveLength(before.length);
    again.forEach((p, i) => expect(p).toBe(before[i]));
  });

  test("the same tensor objects across calls of one symbolic size; new buffers only when it changes", () => {
    const [a1] = reused.gDot!(t([4], 1), t([4], 2)) as [Tensor, Tensor];
    const data4 = a1.data;
    const [a2] = reused.gDot!(t([4], 3), t([4], 4)) as [Tensor, Tensor];
    expect(a2).toBe(a1);
    expect(a2.data).toBe(data4);
    const b6 = t([6], 5);
    const [a3, b3] = reused.gDot!(t([6], 6), b6) as [Tensor, Tensor];
    expect(a3).toBe(a1);
    expect(a3.shape).toEqual([6]);
    expect(Array.from(a3.data)).toEqual(Array.from(b6.data));
    expect(b3.shape).toEqual([6]);
  });

  test("the generated body of a reusing function allocates nothing", () => {
    for (const name of ["vgLayer", "gLayer", "gDot", "vgScalar", "gScalar", "jAct"]) {
      const start = reusedCode.indexOf(`export function ${name}(`);
      const body = reusedCode.slice(start, reusedCode.indexOf("\n}\n", start));
      const lines = body.split("\n").filter((l) => !/^\s*(if \(|\/\/)/.test(l));
      // Only reallocation when a symbolic dimension changed creates objects (inside an `if`).
      const realloc = /^\s*\$gradc_\w+ = new Float64Array\(|^\s*\$gradc_\w+\.shape = \[/;
      // Array and object literals, typed arrays, copies.
      const allocation = /\bnew\b|\.slice\(|\.map\(|=\s*\[|return \[|[(,]\s*\[|\{\s*[\w$"'[]+\s*:/;
      const allocating = lines.filter((l) => allocation.test(l) && !realloc.test(l));
      expect(allocating, `${name} allocates`).toEqual([]);
      expect(body).toMatch(/return \$gradc_\w+;/);
    }
  });

  test("containers written with numbers each call carry a hidden marker, invisible to every ordinary view", () => {
    const mark = Symbol.for("gradc.reused");
    const marked = (x: unknown): boolean => Object.getOwnPropertySymbols(x).includes(mark);
    const out = reused.vgScalar!([0.1, -0.2], 0.3) as [[number, { z: number; t: [number] }], [[number, number], number]];
    const [[loss, aux], g] = out;
    // [value, aux] and the gradients [dw, dx] hold a number beside a container; aux holds z;
    // aux.t and dw hold only numbers.
    for (const c of [out[0], aux, aux.t, g, g[0]]) {
      expect(marked(c)).toBe(true);
      expect(Object.getOwnPropertyDescriptor(c, mark)).toEqual({ value: true, writable: false, enumerable: false, configurable: false });
    }
    // The outer pair holds two containers and no number: nothing is written into it.
    expect(marked(out)).toBe(false);
    expect(Object.keys(out[0])).toEqual(["0", "1"]);
    expect(JSON.parse(JSON.stringify(out))).toEqual(snapshot(fresh.vgScalar!([0.1, -0.2], 0.3)));
    expect({ ...aux }).toEqual({ z: aux.z, t: aux.t });
    expect([...g]).toEqual([g[0], g[1]]);
    expect(typeof loss).toBe("number");
  });

  test("the tape accepts reuse and returns the same values (fresh objects)", () => {
    const args = layerArgs(4);
    const vg = valueAndGrad(tape.layer as unknown as (...a: unknown[]) => readonly [number, unknown], { hasAux: true, reuse: true });
    expectClose(vg(...args), reused.vgLayer!(...args), 1e-12);
  });

  test("sgd and adam take reused results as they are: same parameters as with fresh results", () => {
    const start = () => ({ W: t([3, 2], 11), b: t([3, 1], 12) });
    const x = t([2, 1], 13);
    const y = t([3, 1], 14);
    const a = start();
    const b = start();
    const optA = adam({ lr: 0.05 });
    const optB = adam({ lr: 0.05 });
    for (let step = 0; step < 5; step++) {
      const [, ga] = reused.vgLayer!(a, x, y) as [unknown, { W: Tensor; b: Tensor }];
      sgd(a, ga, 0.1);
      optA.step(a, ga);
      const [, gb] = fresh.vgLayer!(b, x, y) as [unknown, { W: Tensor; b: Tensor }];
      sgd(b, gb, 0.1);
      optB.step(b, gb);
    }
    expect(Array.from(a.W.data)).toEqual(Array.from(b.W.data));
    expect(Array.from(a.b.data)).toEqual(Array.from(b.b.data));
  });
});

test("declarations say what each option returns", () => {
  expect(declarations).toContain(
    "export declare function vgLayer(p: { W: Tensor<[3, 2]>; b: Tensor<[3, 1]> }, x: Tensor<[2, 1]>, y: Tensor<[3, 1]>): [[number, { h: Tensor<[3, 1]>; e: Tensor<[3, 1]>; n: number; k: [number, Tensor<[2, 1]>] }], { W: Tensor<[3, 2]>; b: Tensor<[3, 1]> }];",
  );
  expect(declarations).toContain("export declare function gScalar(w: [number, number], x: number): [[number, number], { z: number; t: [number] }];");
});
