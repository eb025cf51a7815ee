// The fixtures with tensor parameters (fixtures.test.ts checks the number-only ones): each
// compiled binding's value against the model run eagerly, its gradients against the same
// binding uncompiled (the tape) and, for every f64 entry, against central differences of the
// model. f32 entries are compared with the tape only (differences in f32 are too coarse).
// Each case runs on both backends: JavaScript only (what expected.js holds), and WebAssembly
// with every matrix product as a kernel (the size threshold lowered to 1), whose results must
// also agree with the JavaScript backend's within 1e-5 (f32) and 1e-12 (f64) relative.

import { readFileSync } from "node:fs";
import { join } from "node:path";
import { beforeAll, describe, expect, it, vi } from "vitest";
import type { Tree } from "../../compiler/ir/signature.js";
import { FIXTURES, type FixtureResult, TRANSFORM_CASES, compileFixtures, fixtureNames, isErrorCase } from "../helpers/fixtures.js";
import { importGenerated } from "../helpers/generated.js";
import { centralDifference, relErr, rng, uniform } from "../helpers/numeric.js";

vi.mock("gradc", () => import("../../runtime/index.js"));

const names = fixtureNames().filter((n) => !isErrorCase(n) && !TRANSFORM_CASES.includes(n) && readFileSync(join(FIXTURES, n, "input.ts"), "utf8").includes("Tensor<"));
let results: Map<string, FixtureResult>;
let onWasm: Map<string, FixtureResult>;

beforeAll(() => {
  results = compileFixtures(names);
  onWasm = compileFixtures(names, { backend: "wasm", wasmMinWork: 1 });
});

type Data = Float64Array | Float32Array;

/** An argument of the tree's type; symbolic dimensions are 20. */
function argument(tree: Tree, next: () => number): unknown {
  if (tree.kind === "leaf") {
    const { shape, dtype } = tree.type;
    if (shape.length === 0) return uniform(next, -2, 2);
    const dims = shape.map((d) => (typeof d === "number" ? d : 20));
    const n = dims.reduce((a, b) => a * b, 1);
    // Labels and indices: 0 and 1 only, so they are in range of any axis and repeat.
    if (dtype === "i32") return { shape: dims, data: Int32Array.from({ length: n }, () => (next() < 0.5 ? 0 : 1)) };
    const data = dtype === "f32" ? new Float32Array(n) : new Float64Array(n);
    for (let i = 0; i < n; i++) data[i] = uniform(next, -1, 1);
    return { shape: dims, data };
  }
  if (tree.kind === "array") return tree.items.map((t) => argument(t, next));
  return Object.fromEntries(tree.fields.map((f) => [f.key, argument(f.tree, next)]));
}

interface Entry {
  /** Reads the entry of a value of the tree's structure. */
  get(v: unknown): number;
  /** A copy of a value of the tree's structure with the entry set. */
  set(v: unknown, x: number): unknown;
  f32: boolean;
  where: string;
}

/** Every scalar entry of a tree: number leaves and each element of a tensor leaf. */
function entries(tree: Tree, where = ""): Entry[] {
  if (tree.kind === "leaf") {
    const f32 = tree.type.dtype === "f32";
    if (tree.type.shape.length === 0) return [{ get: (v) => v as number, set: (_v, x) => x, f32, where }];
    const sample = argument(tree, () => 0.5) as { data: Data };
    return Array.from(sample.data, (_x, i) => ({
      get: (v: unknown) => (v as { data: Data }).data[i]!,
      set: (v: unknown, x: number) => {
        const t = v as { shape: number[]; data: Data };
        const data = t.data.slice();
        data[i] = x;
        return { shape: t.shape, data };
      },
      f32,
      where: `${where}[${i}]`,
    }));
  }
  const parts: [string | number, Tree][] = tree.kind === "array" ? tree.items.map((t, i) => [i, t]) : tree.fields.map((f) => [f.key, f.tree]);
  return parts.flatMap(([key, t]) =>
    entries(t, `${where}.${key}`).map((e) => ({
      ...e,
      get: (v: unknown) => e.get((v as Record<string | number, unknown>)[key]),
      set: (v: unknown, x: number) => {
        const copy = (Array.isArray(v) ? [...v] : { ...(v as object) }) as Record<string | number, unknown>;
        copy[key] = e.set(copy[key], x);
        return copy;
      },
    })),
  );
}

describe.each(["js", "wasm"])("tensor fixtures (%s backend): compiled against the model, the tape and central differences", (backend) => {
  it.each(names)("%s", async (name) => {
    const r = (backend === "js" ? results : onWasm).get(name)!;
    expect(r.diagnostics).toEqual([]);
    const generated = await importGenerated(r.module!.code, `${name}-${backend}`);
    const source = (await import(/* @vite-ignore */ join(r.dir, "input.ts"))) as Record<string, (...a: unknown[]) => unknown>;
    for (const fn of r.module!.functions) {
      const { spec } = fn;
      const raw = source[spec.modelName] as (...a: unknown[]) => unknown;
      // With hasAux the model returns [loss, aux]: the loss is what is differentiated.
      const model = spec.aux ? (...a: unknown[]) => (raw(...a) as [number, unknown])[0] : (raw as (...a: unknown[]) => number);
      const compiled = generated[spec.exportName] as (...a: unknown[]) => unknown;
      const onTape = source[spec.exportName]!;
      const next = rng(name.length * 100 + spec.exportName.length);
      const args = spec.params.map((p) => argument(p.tree, next));
      const f32 = r.module!.code.includes("Float32Array(");
      const out = compiled(...args);
      const taped = onTape(...args);
      // [value, grads], grads; with hasAux [[value, aux], grads], [grads, aux].
      const grads = (g: unknown): unknown[] => {
        const gs = spec.mode === "valueAndGrad" ? (g as [unknown, unknown])[1] : spec.aux ? (g as [unknown, unknown])[0] : g;
        return spec.argnumsIsArray ? (gs as unknown[]) : [gs];
      };
      if (spec.mode === "valueAndGrad") {
        const valueOf = (o: unknown): number => (spec.aux ? (o as [[number, unknown]])[0][0] : (o as [number])[0]);
        const value = valueOf(out);
        expect(relErr(value, model(...args))).toBeLessThan(f32 ? 1e-6 : 1e-12);
        expect(relErr(value, valueOf(taped))).toBeLessThan(f32 ? 1e-6 : 1e-12);
      }
      spec.argnums.forEach((k, n) => {
        const [mine, theirs] = [grads(out)[n], grads(taped)[n]];
        for (const e of entries(spec.params[k]!.tree)) {
          const where = `${spec.exportName} d/d${spec.params[k]!.name}${e.where}`;
          const g = e.get(mine);
          expect(relErr(g, e.get(theirs)), `${where} vs the tape`).toBeLessThan(e.f32 || f32 ? 1e-5 : 1e-10);
          if (e.f32) continue;
          const fd = centralDifference((x) => {
            const moved = [...args];
            moved[k] = e.set(args[k], x);
            return model(...moved);
          }, e.get(args[k]));
          expect(relErr(g, fd), `${where}: ${g} vs ${fd}`).toBeLessThan(f32 ? 1e-3 : 1e-6);
        }
      });
    }
  });
});

/** Every number of a result (a pytree of numbers and tensors), in order, with its dtype. */
function numbersOf(v: unknown, out: { x: number; f32: boolean; leaf: number }[] = []): { x: number; f32: boolean; leaf: number }[] {
  const leaf = out.length === 0 ? 0 : out[out.length - 1]!.leaf + 1;
  if (typeof v === "number") out.push({ x: v, f32: false, leaf });
  else if (Array.isArray(v)) v.forEach((item) => numbersOf(item, out));
  else if (v !== null && typeof v === "object" && "data" in v && "shape" in v) {
    const data = (v as { data: Data }).data;
    data.forEach((x) => out.push({ x, f32: data instanceof Float32Array, leaf }));
  } else if (v !== null && typeof v === "object") Object.values(v).forEach((item) => numbersOf(item, out));
  return out;
}

describe("tensor fixtures: the WebAssembly backend agrees with the JavaScript backend", () => {
  it("at least one case runs a matrix product as a WebAssembly kernel", () => {
    expect(names.filter((n) => onWasm.get(n)!.module!.code.includes("$gradc_mm_")).length).toBeGreaterThan(0);
  });
  it.each(names)("%s", async (name) => {
    const [js, wasm] = [results.get(name)!, onWasm.get(name)!];
    const a = await importGenerated(js.module!.code, `${name}-js-vs`);
    const b = await importGenerated(wasm.module!.code, `${name}-wasm-vs`);
    for (const fn of js.module!.functions) {
      const next = rng(name.length * 100 + fn.spec.exportName.length);
      const args = fn.spec.params.map((p) => argument(p.tree, next));
      const x = numbersOf((a[fn.spec.exportName] as (...a: unknown[]) => unknown)(...args));
      const y = numbersOf((b[fn.spec.exportName] as (...a: unknown[]) => unknown)(...args));
      expect(y.length).toBe(x.length);
      // Relative to the largest magnitude in the same tensor: a sum of products rounded in
      // another order differs by a few units of its largest terms, not of a small element.
      const scale = new Map<number, number>();
      x.forEach((e) => scale.set(e.leaf, Math.max(scale.get(e.leaf) ?? 1e-30, Math.abs(e.x))));
      x.forEach((e, i) => expect(Math.abs(e.x - y[i]!.x) / scale.get(e.leaf)!, `${fn.spec.exportName}[${i}]`).toBeLessThan(e.f32 ? 1e-5 : 1e-12));
    }
  });
});
