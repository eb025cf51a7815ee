// The parts of the benchmark harness that decide what the tables say: the error measure (a
// mismatch must never read as a match), aligning an engine's gradients to the inputs'
// structure, the shared input generator, and the synthetic sources of bench:compile.

import { describe, expect, it } from "vitest";
import { CASES, inputsFor, tolerance } from "../../bench/cases.js";
import { generate } from "../../bench/compile-scaling.js";
import { compareResults } from "../../bench/lib/compare.js";
import { Rng } from "../../bench/lib/prng.js";
import { alignTo, leaves, type Leaf } from "../../bench/lib/tree.js";

const t = (data: number[], shape = [data.length]) => ({ shape, data: Float64Array.from(data) });

describe("compareResults", () => {
  const ref = { value: 2, grads: [t([1, -4, 0.5]), 3] };

  it("is 0 for identical results and relative otherwise", () => {
    expect(compareResults(ref, ref).maxRelErr).toBe(0);
    const got = { value: 2, grads: [t([1, -4, 0.5]), 3.003] };
    const d = compareResults(ref, got);
    expect(d.maxRelErr).toBeCloseTo(1e-3, 12);
    expect(d.worst).toBe("grads[1]");
  });

  it("measures tensors normwise, so a tiny entry's rounding does not dominate", () => {
    const a = { value: 1, grads: [t([1000, 1e-12])] };
    const b = { value: 1, grads: [t([1000, 2e-12])] };
    expect(compareResults(a, b).maxRelErr).toBeLessThan(1e-14);
  });

  it("treats NaN, a wrong shape or a missing leaf as an infinite error", () => {
    expect(compareResults(ref, { value: 2, grads: [t([1, NaN, 0.5]), 3] }).maxRelErr).toBe(Infinity);
    expect(compareResults(ref, { value: NaN, grads: ref.grads }).maxRelErr).toBe(Infinity);
    expect(compareResults(ref, { value: 2, grads: [t([1, -4, 0.5], [3, 1]), 3] }).maxRelErr).toBe(Infinity);
    expect(compareResults(ref, { value: 2, grads: [t([1, -4, 0.5])] }).maxRelErr).toBe(Infinity);
  });
});

describe("alignTo", () => {
  it("follows the template's key order whatever order the engine returns", () => {
    const template = { W1: t([0, 0]), b1: 0 };
    const fromEngine = { b1: 5, W1: t([1, 2]), extra: 9 };
    const aligned = alignTo(template, fromEngine, (v) => v as Leaf);
    expect(leaves(aligned).map((l) => l.path)).toEqual(["W1", "b1"]);
    expect(() => alignTo(template, { W1: t([1, 2]) }, (v) => v as Leaf)).toThrow(/missing key 'b1'/);
  });
});

describe("inputs", () => {
  it("are the same on every call and differ between models", () => {
    for (const c of Object.values(CASES)) {
      const a = leaves(inputsFor(c)).map((l) => l.leaf);
      const b = leaves(inputsFor(c)).map((l) => l.leaf);
      expect(a).toEqual(b);
    }
    expect(inputsFor(CASES.fxyz)).not.toEqual(inputsFor(CASES.pendulum).slice(0, 3));
  });

  it("are float32 exactly for the f32 model", () => {
    for (const { leaf } of leaves(inputsFor(CASES["mlp-mnist"]))) {
      expect(typeof leaf === "number" ? "number" : leaf.data.constructor.name).toBe("Float32Array");
    }
    expect(tolerance("f32")).toBe(1e-4);
    expect(tolerance("f64")).toBe(1e-9);
  });

  it("come from a deterministic generator", () => {
    const a = new Rng(1), b = new Rng(1);
    const xs = Array.from({ length: 5 }, () => a.normal());
    expect(Array.from({ length: 5 }, () => b.normal())).toEqual(xs);
    expect(new Rng(2).normal()).not.toBe(xs[0]);
  });
});

describe("bench:compile sources", () => {
  it("have the requested number of forward operations, rounded up to a statement", () => {
    for (const kind of ["scalar", "tensor"] as const) {
      const src = generate(kind, 1000);
      const statements = src.split("\n").filter((l) => /^\s+const v\d+ =/.test(l)).length;
      const ops = 3 + 3 * (statements - 3); // v0..v2 are one op each, then three per statement
      expect(ops).toBeGreaterThanOrEqual(1000);
      expect(ops).toBeLessThan(1003);
      expect(src).toContain("export const lossAndGrad = valueAndGrad(chain, { argnums: [0, 1] });");
    }
  });
});

describe("models gradc cannot express yet", () => {
  it("show 'n/a (needs …)' in the time table rather than an error note", async () => {
    const { renderTables } = await import("../../bench/lib/report.js");
    const md = renderTables(
      [{ model: "cnn-mnist", description: "", dtype: "f32", tolerance: 1e-4, engines: [
        { engine: "hand", status: "ok", medianMs: 10, ratio: 1 },
        { engine: "gradc", status: "unavailable", reason: "needs conv2d, maxPool2d" },
        { engine: "tape", status: "error", reason: "boom" },
      ] }],
      ["hand", "gradc", "tape"],
    );
    expect(md).toContain("| cnn-mnist | 10.0 ms (1×) | n/a (needs conv2d, maxPool2d) | error [1] |");
    expect(md).toContain("1. cnn-mnist / tape: boom");
  });

  it("are probed against the runtime itself: exports, batch dimensions in matmul, transpose permutations", { timeout: 120_000 }, async () => {
    const { missingOps } = await import("../../bench/lib/needs.js");
    const rt = (await import("../../runtime/index.js")) as unknown as Record<string, (...a: unknown[]) => { shape: number[] }>;
    const works = (f: () => { shape: number[] }, shape: number[]) => {
      try {
        return f().shape.join() === shape.join();
      } catch {
        return false;
      }
    };
    const batched = works(() => rt.matmul!(rt.zeros!([2, 3, 4]), rt.zeros!([4, 5])), [2, 3, 5]);
    const perm = works(() => rt.transpose!(rt.zeros!([2, 3, 4]), [0, 2, 1]), [2, 4, 3]);
    const model = { ...CASES.attention, needs: ["softmax", "noSuchOp", "batched matmul", "transpose(x, perm)"] };
    expect(await missingOps(model)).toEqual(["noSuchOp", ...(batched ? [] : ["batched matmul"]), ...(perm ? [] : ["transpose(x, perm)"])]);
    expect(await missingOps(CASES["mlp-mnist"])).toEqual([]);
  });
});
