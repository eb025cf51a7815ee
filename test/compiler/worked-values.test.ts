// The worked values of the two circuits, through the compiler: examples/fxyz.ts and examples/neuron.ts are
// compiled, the generated JavaScript is written out and imported like any module, and its
// numbers are compared with the worked values and with closed forms computed here.

import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { formatDiagnostic } from "../../compiler/diagnostics/diagnostic.js";
import { compile } from "../../compiler/program.js";
import { ROOT } from "../helpers/fixtures.js";
import { importGenerated } from "../helpers/generated.js";

type Fn = (...args: unknown[]) => unknown;
let fxyz: Record<string, unknown>;
let neuron: Record<string, unknown>;

beforeAll(async () => {
  const r = compile([join(ROOT, "examples/fxyz.ts"), join(ROOT, "examples/neuron.ts")], { emit: "js", verify: true, cwd: ROOT });
  expect(r.diagnostics.map(formatDiagnostic)).toEqual([]);
  const code = (file: string) => r.modules.find((m) => m.sourceFile.endsWith(file))!.code;
  fxyz = await importGenerated(code("examples/fxyz.ts"), "fxyz");
  neuron = await importGenerated(code("examples/neuron.ts"), "neuron");
});

describe("f(x, y, z) = (x + y) * z at (-2, 5, -4)", () => {
  it("grad gives exactly df/dx = -4, df/dy = -4, df/dz = 3", () => {
    const [dx, dy, dz] = (fxyz["dfxyz"] as Fn)(-2, 5, -4) as number[];
    expect(dx).toBe(-4);
    expect(dy).toBe(-4);
    expect(dz).toBe(3);
  });

  it("valueAndGrad gives exactly f = -12 and the same gradients", () => {
    const [f, grads] = (fxyz["fxyzValueAndGrad"] as Fn)(-2, 5, -4) as [number, number[]];
    expect(f).toBe(-12);
    expect(grads).toEqual([-4, -4, 3]);
  });
});

describe("the sigmoid neuron at w = (2, -3, -3), x = (-1, -2)", () => {
  const w = [2, -3, -3] as const;
  const x = [-1, -2] as const;
  // The closed form, written out independently of the compiler: f = σ(d), σ' = σ(1 - σ).
  const d = w[0] * x[0] + w[1] * x[1] + w[2];
  const sigma = 1 / (1 + Math.exp(-d));
  const local = sigma * (1 - sigma);
  const expected = { f: sigma, dw: [x[0] * local, x[1] * local, local], dx: [w[0] * local, w[1] * local] };

  it("matches the closed form within 1e-12", () => {
    const [f, [dw, dx]] = (neuron["neuronGrad"] as Fn)([...w], [...x]) as [number, [number[], number[]]];
    expect(Math.abs(f - expected.f)).toBeLessThanOrEqual(1e-12);
    expect(dw).toHaveLength(3);
    expect(dx).toHaveLength(2);
    dw.forEach((g, i) => expect(Math.abs(g - expected.dw[i]!), `dw[${i}]`).toBeLessThanOrEqual(1e-12));
    dx.forEach((g, i) => expect(Math.abs(g - expected.dx[i]!), `dx[${i}]`).toBeLessThanOrEqual(1e-12));
  });

  it("shows the worked example's rounded numbers: f ≈ 0.73, dw ≈ (-0.20, -0.39, 0.20), dx ≈ (0.39, -0.59)", () => {
    const [f, [dw, dx]] = (neuron["neuronGrad"] as Fn)([...w], [...x]) as [number, [number[], number[]]];
    const round2 = (v: number) => Math.round(v * 100) / 100;
    expect(round2(f)).toBe(0.73);
    // The intermediate 1 + e^-1 ≈ 1.37 is the denominator at d = 1.
    expect(d).toBe(1);
    expect(round2(1 + Math.exp(-d))).toBe(1.37);
    expect(dw.map(round2)).toEqual([-0.2, -0.39, 0.2]);
    expect(dx.map(round2)).toEqual([0.39, -0.59]);
  });
});

describe("generated code validates its arguments with a GradcError", () => {
  const fails = (fn: () => unknown): Error => {
    try {
      fn();
    } catch (e) {
      return e as Error;
    }
    throw new Error("expected a throw");
  };

  it("a string where a number is expected names the function and the argument", async () => {
    const { GradcError } = await import("../../runtime/error.js");
    const e = fails(() => (fxyz["dfxyz"] as Fn)("-2", 5, -4));
    expect(e).toBeInstanceOf(GradcError);
    expect(e.name).toBe("GradcError");
    expect(e.message).toContain("dfxyz");
    expect(e.message).toMatch(/argument x\b/);
    expect(e.message).toContain("string");
  });

  it("a missing tuple element names the function and the element", () => {
    const e = fails(() => (neuron["neuronGrad"] as Fn)([2, -3], [-1, -2]));
    expect(e.name).toBe("GradcError");
    expect(e.message).toContain("neuronGrad");
    expect(e.message).toContain("w[2]");
  });

  it("a missing structured argument is reported, not a TypeError", () => {
    const e = fails(() => (neuron["neuronGrad"] as Fn)(undefined, [-1, -2]));
    expect(e.name).toBe("GradcError");
    expect(e.message).toContain("w[0]");
  });
});
