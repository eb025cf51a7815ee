// The fixtures with tensor parameters (fixtures.test.ts checks the number-only ones): each
// compiled binding's value against the model run eagerly, its gradients against the same
// binding uncompiled (the tape) and, for every f64 entry, against central differences of the
// model. f32 entries are compared with the tape only (differences in f32 are too coarse).

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

beforeAll(() => {
  results = compileFixtures(names);
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

describe("tensor fixtures: compiled against the model, the tape and central differences", () => {
  it.each(names)("%s", async (name) => {
    const r = results.get(name)!;
    expect(r.diagnostics).toEqual([]);
    const generated = await importGenerated(r.module!.code, name);
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
