// Programs the frontend used to ignore or refuse, now compiled (issue "no silent wrong
// answers"): every export form of a grad binding, type aliases, a namespace import, zeros and
// ones, reshape with -1, loops over symbolic dimensions with offsets, for-of over tuples. Each
// fixture's generated code is run and checked against the runtime tape (the same source,
// uncompiled) and against central finite differences of the plain model.

import { join } from "node:path";
import { beforeAll, describe, expect, it, vi } from "vitest";
import type { Tree } from "../../compiler/ir/signature.js";
import { type CompiledModule, compile } from "../../compiler/program.js";
import { FIXTURES } from "../helpers/fixtures.js";
import { importGenerated } from "../helpers/generated.js";
import { centralDifference, relErr, rng, uniform } from "../helpers/numeric.js";

// The fixtures import "gradc": the runtime's source here, which the tape fallback runs.
vi.mock("gradc", () => import("../../runtime/index.js"));

type Fn = (...args: unknown[]) => unknown;

/** Symbolic dimension values to try, per fixture (one call per entry). */
const CASES: Record<string, Record<string, number>[]> = {
  "export-default": [{}],
  "export-later": [{}],
  "namespace-import": [{}],
  "type-alias": [{ B: 4 }, { B: 1 }],
  "zeros-ones": [{ N: 2 }, { N: 5 }],
  "reshape-infer": [{ B: 3 }, { B: 1 }],
  "loop-symbolic-offset": [{ N: 6 }, { N: 2 }, { N: 1 }],
  "for-of-tuple": [{}],
};

/** An argument of the tree's structure: numbers and tensors with entries drawn from `next`. */
function build(tree: Tree, dims: Record<string, number>, next: () => number): unknown {
  if (tree.kind === "leaf") {
    const shape = tree.type.shape.map((d) => (typeof d === "number" ? d : dims[d]!));
    if (shape.length === 0) return uniform(next, -1.5, 1.5);
    const n = shape.reduce((a, b) => a * b, 1);
    const data = tree.type.dtype === "f32" ? new Float32Array(n) : new Float64Array(n);
    for (let i = 0; i < n; i++) data[i] = uniform(next, -1.5, 1.5);
    return { shape, data };
  }
  if (tree.kind === "array") return tree.items.map((t) => build(t, dims, next));
  return Object.fromEntries(tree.fields.map((f) => [f.key, build(f.tree, dims, next)]));
}

/** Every scalar of a value (numbers, tensor entries), in order, as readable and writable cells. */
function cells(holder: Record<string | number, unknown>, key: string | number): { get(): number; set(x: number): void }[] {
  const v = holder[key];
  if (typeof v === "number") return [{ get: () => holder[key] as number, set: (x) => (holder[key] = x) }];
  if (v && typeof v === "object" && "data" in v) {
    const data = (v as { data: Float64Array }).data;
    return Array.from(data, (_x, i) => ({ get: () => data[i]!, set: (x: number) => (data[i] = x) }));
  }
  if (Array.isArray(v)) return v.flatMap((_x, i) => cells(v as unknown as Record<number, unknown>, i));
  return Object.keys(v as object).flatMap((k) => cells(v as Record<string, unknown>, k));
}

const scalars = (v: unknown): number[] => {
  const box = { v };
  return cells(box, "v").map((c) => c.get());
};

const compiled = new Map<string, { module: CompiledModule; generated: Record<string, Fn>; source: Record<string, Fn> }>();

beforeAll(async () => {
  for (const name of Object.keys(CASES)) {
    const dir = join(FIXTURES, name);
    const result = compile(["input.ts"], { cwd: dir, emit: "js", verify: true });
    expect(result.diagnostics).toEqual([]);
    const module = result.modules[0]!;
    const generated = (await importGenerated(module.code, name)) as Record<string, Fn>;
    const source = (await import(/* @vite-ignore */ join(dir, "input.ts"))) as Record<string, Fn>;
    compiled.set(name, { module, generated, source });
  }
});

describe.each(Object.keys(CASES))("%s", (name) => {
  it("compiles every binding, and its gradients equal the tape's and finite differences", () => {
    const { module, generated, source } = compiled.get(name)!;
    expect(module.functions.length).toBeGreaterThan(0);
    for (const fn of module.functions) {
      const { spec } = fn;
      const compiledFn = generated[spec.exportName];
      const tapeFn = source[spec.exportName];
      const model = source[spec.modelName];
      expect(typeof compiledFn, `${spec.exportName} is exported by the generated module`).toBe("function");
      expect(typeof tapeFn).toBe("function");
      expect(typeof model).toBe("function");
      CASES[name]!.forEach((dims, trial) => {
        const next = rng(1000 * trial + name.length);
        const args = spec.params.map((p) => build(p.tree, dims, next));
        const out = compiledFn!(...args);
        const tape = tapeFn!(...args);
        // Same structure and numbers as the tape.
        const a = scalars(out);
        const b = scalars(tape);
        expect(a.length).toBe(b.length);
        a.forEach((x, i) => expect(relErr(x, b[i]!), `${spec.exportName} ${JSON.stringify(dims)} entry ${i}: ${x} vs tape ${b[i]}`).toBeLessThan(1e-10));
        // Each gradient entry against a central difference of the plain model.
        const grads = spec.mode === "valueAndGrad" ? (out as [number, unknown])[1] : out;
        if (spec.mode === "valueAndGrad") expect(relErr((out as [number])[0], model!(...args) as number)).toBeLessThan(1e-12);
        const perArg = spec.argnumsIsArray ? (grads as unknown[]) : [grads];
        spec.argnums.forEach((k, n) => {
          const g = scalars(perArg[n]);
          const xs = cells(args as unknown as Record<number, unknown>, k);
          expect(g.length).toBe(xs.length);
          xs.forEach((cell, i) => {
            const x0 = cell.get();
            const fd = centralDifference((x) => {
              cell.set(x);
              const v = model!(...args) as number;
              cell.set(x0);
              return v;
            }, x0);
            expect(relErr(g[i]!, fd, 1), `${spec.exportName} d/d${spec.params[k]!.name}[${i}] ${JSON.stringify(dims)}: ${g[i]} vs ${fd}`).toBeLessThan(1e-6);
          });
        });
      });
    }
  });
});

describe("export forms", () => {
  it("export default grad(...) is the generated module's default export", () => {
    const { module, generated } = compiled.get("export-default")!;
    expect(module.functions.map((f) => f.exportName)).toEqual(["default"]);
    expect(typeof generated["default"]).toBe("function");
    expect(generated["default"]!(2, 3)).toEqual([36, 8]);
  });

  it("bindings exported later keep the names they are exported under", () => {
    const { module, generated } = compiled.get("export-later")!;
    expect(module.functions.map((f) => f.exportName).sort()).toEqual(["dloss", "lossAndGrads"]);
    expect(Object.keys(generated).sort()).toEqual(["dloss", "lossAndGrads"]);
  });
});
