// switch statements compiled: at points in every case (and in none), the compiled gradient
// equals the tape's (the same source run uncompiled) and central differences of the model.
// The models are the switch-* fixtures, so the reviewed IR and the checked numbers are of
// one program. Discriminants are not differentiated by finite differences: a step off an
// integer leaves the case.

import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { beforeAll, describe, expect, it, vi } from "vitest";
import { compile } from "../../compiler/program.js";
import { FIXTURES } from "../helpers/fixtures.js";
import { centralDifference, relErr } from "../helpers/numeric.js";

vi.mock("gradc", () => import("../../runtime/index.js"));

const TMP = join(__dirname, "..", ".tmp", "switch");
type Fn = (...args: unknown[]) => unknown;
type Mod = Record<string, Fn>;

async function load(fixture: string): Promise<{ compiled: Mod; interpreted: Mod }> {
  const src = join(FIXTURES, fixture, "input.ts");
  const result = compile([src], { emit: "js", verify: true });
  expect(result.diagnostics).toEqual([]);
  mkdirSync(TMP, { recursive: true });
  const out = join(TMP, `${fixture}.compiled.mjs`);
  writeFileSync(out, result.modules[0]!.code.replace(/from "gradc"/g, `from ${JSON.stringify(pathToFileURL(join(__dirname, "../../runtime/index.ts")).href)}`));
  return { compiled: (await import(pathToFileURL(out).href)) as Mod, interpreted: (await import(src)) as Mod };
}

const mods: Record<string, { compiled: Mod; interpreted: Mod }> = {};
beforeAll(async () => {
  for (const f of ["switch-cases", "switch-return", "switch-const", "switch-tensor", "switch-in-loop", "for-of-numbers"]) mods[f] = await load(f);
}, 120_000);

const asList = (g: unknown): number[] => (Array.isArray(g) ? (g as number[]) : [g as number]);

/** Compiled gradient = tape gradient, and ≈ central differences in the arguments `smooth`. */
function check(fixture: string, binding: string, model: string, args: number[], smooth: number[], withValue = false): void {
  const { compiled, interpreted } = mods[fixture]!;
  const c = compiled[binding]!(...args);
  const t = interpreted[binding]!(...args);
  const [cv, cg] = withValue ? (c as [number, unknown]) : [undefined, c];
  const [tv, tg] = withValue ? (t as [number, unknown]) : [undefined, t];
  if (withValue) {
    expect(cv).toBeCloseTo(interpreted[model]!(...args) as number, 12);
    expect(relErr(cv!, tv!)).toBeLessThan(1e-12);
  }
  asList(cg).forEach((d, i) => expect(relErr(d, asList(tg)[i]!), `∂/∂arg${i} vs tape at ${args}`).toBeLessThan(1e-12));
  for (const i of smooth) {
    const fd = centralDifference((v) => interpreted[model]!(...args.map((a, j) => (j === i ? v : a))) as number, args[i]!);
    expect(relErr(asList(cg)[i]!, fd, 1e-3), `∂/∂arg${i} vs finite differences at ${args}`).toBeLessThan(1e-6);
  }
}

describe("switch: compiled = tape ≈ finite differences", () => {
  it.each([0, 1, 2, 3, 4, -1])("switch-cases, k = %d (each case, grouped cases, the default)", (k) => {
    for (const x of [0.7, -0.4]) check("switch-cases", "dpiecewise", "piecewise", [x, k], [0], true);
  });

  it.each([0, 1, 2, 7])("switch-return, kind = %d (cases that return, and the statements after)", (kind) => {
    for (const x of [0.3, -1.1]) check("switch-return", "dactivation", "activation", [x, kind], [0]);
  });

  it.each([
    [-2, -1, 1],
    [0.25, -1, 1],
    [3, -1, 1],
  ])("switch (true) at x = %d: the first condition that holds", (x, lo, hi) => {
    check("switch-return", "dclamp", "clamp", [x, lo, hi], [0, 1, 2]);
  });

  it("a switch on a compile-time constant keeps only the case taken", async () => {
    // The tape reads module constants only when given them (scope).
    const { grad } = await import("../../runtime/index.js");
    const { compiled, interpreted } = mods["switch-const"]!;
    const tape = grad(interpreted["configured"] as (x: number) => number, { scope: { MODE: 2, CUBIC: 2 } });
    for (const x of [0.5, -1.3]) {
      const d = compiled["dconfigured"]!(x) as number;
      expect(relErr(d, tape(x) as number)).toBeLessThan(1e-12);
      expect(relErr(d, centralDifference((v) => interpreted["configured"]!(v) as number, x), 1e-3)).toBeLessThan(1e-6);
    }
    // By hand: MODE = 2 takes s = x³ and then s + sin x, so the derivative is 3x² + cos x.
    expect(mods["switch-const"]!.compiled["dconfigured"]!(2)).toBeCloseTo(12 + Math.cos(2), 12);
  });

  it.each([0, 1, 2])("switch-in-loop, k = %d: break ends the case, continue and break outer the loop", (k) => {
    // x = 1.5 with k = 1 leaves the loop by break outer on the second trip (y = 2.25 > 2).
    // The tape does not run labelled statements, so the reference is central differences of
    // the model run as plain JavaScript.
    const { compiled, interpreted } = mods["switch-in-loop"]!;
    for (const x of [0.4, 1.5, -0.7]) {
      const d = compiled["dstepper"]!(x, k) as number;
      const fd = centralDifference((v) => interpreted["stepper"]!(v, k) as number, x);
      expect(relErr(d, fd, 1e-3), `at x = ${x}`).toBeLessThan(1e-6);
    }
  });

  it.each([0, 1, 2])("switch-tensor, mode = %d: every entry of the tensor gradient", (mode) => {
    const { compiled, interpreted } = mods["switch-tensor"]!;
    const w = { shape: [3], data: new Float64Array([0.3, -0.8, 1.1]) };
    const cg = (compiled["dloss"]!(w, mode) as { data: Float64Array }).data;
    const tg = (interpreted["dloss"]!(w, mode) as { data: Float64Array }).data;
    for (let i = 0; i < 3; i++) {
      expect(relErr(cg[i]!, tg[i]!)).toBeLessThan(1e-12);
      const fd = centralDifference((v) => {
        const data = w.data.slice();
        data[i] = v;
        return interpreted["loss"]!({ shape: [3], data }, mode) as number;
      }, w.data[i]!);
      expect(relErr(cg[i]!, fd, 1e-3)).toBeLessThan(1e-6);
    }
  });
});

describe("for…of over fixed-length tuples", () => {
  it("numbers, destructured pairs, an array literal and a let loop variable: compiled = tape ≈ finite differences", () => {
    const { compiled, interpreted } = mods["for-of-numbers"]!;
    const x = 0.6;
    const coeffs: [number, number, number] = [1.5, -0.5, 2];
    const pairs: [[number, number], [number, number]] = [[0.3, 1.2], [-0.7, 2.5]];
    const [cx, cc, cp] = compiled["dpoly"]!(x, coeffs, pairs) as [number, number[], number[][]];
    const [tx, tc, tp] = interpreted["dpoly"]!(x, coeffs, pairs) as [number, number[], number[][]];
    expect(relErr(cx, tx)).toBeLessThan(1e-12);
    cc.forEach((d, i) => expect(relErr(d, tc[i]!)).toBeLessThan(1e-12));
    cp.flat().forEach((d, i) => expect(relErr(d, tp.flat()[i]!)).toBeLessThan(1e-12));
    const poly = interpreted["poly"]!;
    expect(relErr(cx, centralDifference((v) => poly(v, coeffs, pairs) as number, x), 1e-3)).toBeLessThan(1e-6);
    cc.forEach((d, i) => {
      const fd = centralDifference((v) => poly(x, coeffs.map((c, j) => (j === i ? v : c)), pairs) as number, coeffs[i]!);
      expect(relErr(d, fd, 1e-3)).toBeLessThan(1e-6);
    });
    // By hand at the first pair's b: ∂/∂b of a·sin(b·x) is a·x·cos(b·x).
    expect(cp[0]![1]).toBeCloseTo(0.3 * x * Math.cos(1.2 * x), 10);
  });
});
