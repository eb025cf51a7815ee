// Forward mode and second derivatives through the ops of convolutional and attention models
// (fixture jvp-models): compiled = tape = finite differences of the models themselves, run
// eagerly. The Hessian-vector product differentiates the convolution's and max pooling's
// adjoint ops, so it checks that their own VJPs (built from each other) are right.

import { join } from "node:path";
import { beforeAll, describe, expect, it, vi } from "vitest";
import { FIXTURES, compileFixtures } from "../helpers/fixtures.js";
import { importGenerated } from "../helpers/generated.js";
import { relErr, rng, uniform } from "../helpers/numeric.js";

vi.mock("gradc", () => import("../../runtime/index.js"));

type Fn = (...args: any[]) => any; // eslint-disable-line @typescript-eslint/no-explicit-any
type T = { shape: number[]; data: Float64Array };

let gen: Record<string, Fn>;
let tape: Record<string, Fn>;

beforeAll(async () => {
  const r = compileFixtures(["jvp-models"]).get("jvp-models")!;
  expect(r.diagnostics.map((d) => d.message)).toEqual([]);
  gen = (await importGenerated(r.module!.code, "jvp-models")) as Record<string, Fn>;
  tape = (await import(/* @vite-ignore */ join(FIXTURES, "jvp-models", "input.ts"))) as Record<string, Fn>;
}, 120_000);

const t = (shape: number[], next: () => number): T => ({
  shape,
  data: Float64Array.from({ length: shape.reduce((a, b) => a * b, 1) }, () => uniform(next, -1, 1)),
});
const axpy = (x: T, a: number, v: T): T => ({ shape: x.shape, data: x.data.map((xi, i) => xi + a * v.data[i]!) });
const flat = (v: number | T): number[] => (typeof v === "number" ? [v] : [...v.data]);
const directional = (g: (h: number) => number | T, h = 1e-6): number[] => {
  const [p, m] = [flat(g(h)), flat(g(-h))];
  return p.map((x, i) => (x - m[i]!) / (2 * h));
};
const closeAll = (a: ArrayLike<number>, b: ArrayLike<number>, tol: number, what: string): void => {
  expect(a.length, what).toBe(b.length);
  for (let i = 0; i < a.length; i++) expect(relErr(a[i]!, b[i]!), `${what}[${i}]: ${a[i]} vs ${b[i]}`).toBeLessThan(tol);
};

describe("jvp through convolution, pooling and attention", () => {
  it.each([
    ["features", "featuresJvp", [[1, 2, 6, 6], [3, 2, 3, 3]]],
    ["mix", "mixJvp", [[2, 3, 4], [2, 3, 4]]],
  ] as const)("%s: compiled = tape = finite differences", (model, binding, shapes) => {
    const next = rng(model.length);
    for (let trial = 0; trial < 3; trial++) {
      const primals = shapes.map((s) => t([...s], next));
      const tangents = shapes.map((s) => t([...s], next));
      const [value, tangent] = gen[binding]!(primals, tangents);
      const [value2, tangent2] = tape[binding]!(primals, tangents);
      const f = tape[model]!;
      closeAll(flat(value), flat(f(...primals)), 1e-12, "value");
      closeAll(flat(value2), flat(value), 1e-12, "tape value");
      closeAll(flat(tangent2), flat(tangent), 1e-10, "tape tangent");
      closeAll(flat(tangent), directional((h) => f(...primals.map((p, i) => axpy(p, h, tangents[i]!)))), 1e-6, "tangent vs differences");
    }
  });

  it("Hessian-vector product through conv2d (stride 2) and max pooling: compiled = tape = second differences", () => {
    const next = rng(7);
    const [x, w, v] = [t([1, 2, 6, 6], next), t([3, 2, 3, 3], next), t([3, 2, 3, 3], next)];
    const [hv] = gen["energyHvp"]!(x, w, v);
    const [hv2] = tape["energyHvp"]!(x, w, v);
    closeAll(flat(hv2), flat(hv), 1e-10, "tape H·v");
    // H·v = d/dh ∇_w energy(x, w + h v), the gradient itself by differences of the model.
    const gradAt = (wt: T): T => {
      const g = new Float64Array(wt.data.length);
      for (let i = 0; i < g.length; i++) {
        const e = new Float64Array(g.length);
        e[i] = 1;
        g[i] = directional((h) => tape["energy"]!(x, axpy(wt, h, { shape: wt.shape, data: e })), 1e-5)[0]!;
      }
      return { shape: wt.shape, data: g };
    };
    const fd = directional((h) => gradAt(axpy(w, h, v)), 1e-4);
    closeAll(flat(hv), fd, 1e-4, "H·v vs second differences");
  });
});
