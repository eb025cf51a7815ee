// The examples compile, and train with the compiled gradients: the seed MLP's loss falls,
// Iris reaches at least 95% training accuracy, the f32 MNIST-shaped net's loss falls.
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { describe, expect, test } from "vitest";
import { compile } from "../../compiler/index.js";

const TMP = join(__dirname, "..", ".tmp", "examples");

async function compiled(name: string): Promise<Record<string, never>> {
  mkdirSync(TMP, { recursive: true });
  const result = compile([join(__dirname, "..", "..", "examples", `${name}.ts`)], { emit: "js", verify: true });
  expect(result.diagnostics).toEqual([]);
  const out = join(TMP, `${name}.grad.mjs`);
  writeFileSync(out, result.modules[0]!.code);
  return (await import(pathToFileURL(out).href)) as Record<string, never>;
}

describe("examples train with compiled gradients", () => {
  test("seed MLP: per-sample SGD lowers the loss", async () => {
    const { lossGrad } = await compiled("mlp");
    const { main } = await import("../../examples/mlp.js");
    const first = main(lossGrad, 1);
    const later = main(lossGrad, 30);
    expect(later).toBeLessThan(first * 0.5);
  });

  test("Iris: at least 95% training accuracy", async () => {
    const { lossGrad } = await compiled("iris");
    const { main } = await import("../../examples/iris.js");
    expect(main(lossGrad)).toBeGreaterThanOrEqual(0.95);
  });

  test("MNIST-shaped f32 net: Adam lowers the loss", async () => {
    const { lossGrad } = await compiled("mnist-mlp");
    const { main } = await import("../../examples/mnist-mlp.js");
    const first = main(lossGrad, 1);
    const later = main(lossGrad, 40);
    expect(later).toBeLessThan(first * 0.5);
  });

  test("fxyz and neuron print the worked values", async () => {
    const fx = await compiled("fxyz");
    const ne = await compiled("neuron");
    const lines: string[] = [];
    const log = console.log;
    console.log = (s: string) => lines.push(s);
    try {
      (await import("../../examples/fxyz.js")).main(fx.fxyzValueAndGrad);
      (await import("../../examples/neuron.js")).main(ne.neuronGrad);
    } finally {
      console.log = log;
    }
    expect(lines).toEqual([
      "f(-2, 5, -4) = -12",
      "df/dx = -4, df/dy = -4, df/dz = 3",
      "f = 0.7311",
      "dw = (-0.20, -0.39, 0.20)",
      "dx = (0.39, -0.59)",
    ]);
  });
});

describe("pendulum", () => {
  test("fitting k recovers the true damping with compiled gradients", async () => {
    const { lossGrad } = await compiled("pendulum");
    const { main } = await import("../../examples/pendulum.js");
    expect(Math.abs(main(lossGrad) - 0.8)).toBeLessThan(0.01);
  });

  test("compiled gradient = tape gradient = finite differences", async () => {
    const { lossGrad } = await compiled("pendulum");
    const mod = await import("../../examples/pendulum.js");
    const target = mod.simulate(0.8, 1.5, 1.0);
    const [v1, g1] = (lossGrad as unknown as typeof mod.lossGrad)(0.3, 1.5, 1.0, target);
    const [v2, g2] = mod.lossGrad(0.3, 1.5, 1.0, target);
    expect(Math.abs(v1 - v2)).toBeLessThanOrEqual(1e-12 * Math.abs(v2));
    expect(Math.abs(g1 - g2)).toBeLessThanOrEqual(1e-9 * Math.abs(g2));
    const eps = 1e-6;
    const fd = (mod.trajectoryLoss(0.3 + eps, 1.5, 1.0, target) - mod.trajectoryLoss(0.3 - eps, 1.5, 1.0, target)) / (2 * eps);
    expect(g1).toBeCloseTo(fd, 6);
  });
});

describe("newton (Kepler's equation solved to convergence in a while loop)", () => {
  test("dE/de and dE/dM equal the implicit-function theorem's and finite differences", async () => {
    const { anomalyGrad } = await compiled("newton");
    const mod = await import("../../examples/newton.js");
    const g = anomalyGrad as unknown as typeof mod.anomalyGrad;
    for (const [e, M] of [[0.3, 1.0], [0.85, 0.4], [0.6, 4.0]] as const) {
      const [E, [dE_de, dE_dM]] = g(e, M);
      expect(Math.abs(E - e * Math.sin(E) - M)).toBeLessThan(1e-12);
      // Implicit differentiation of E − e·sin E − M = 0.
      expect(dE_de).toBeCloseTo(Math.sin(E) / (1 - e * Math.cos(E)), 10);
      expect(dE_dM).toBeCloseTo(1 / (1 - e * Math.cos(E)), 10);
      const eps = 1e-6;
      const fd = (mod.eccentricAnomaly(e + eps, M) - mod.eccentricAnomaly(e - eps, M)) / (2 * eps);
      expect(dE_de).toBeCloseTo(fd, 6);
      // The tape (the same source, uncompiled) gives the same numbers.
      const [E2, [t_de, t_dM]] = mod.anomalyGrad(e, M);
      expect(Math.abs(E - E2)).toBeLessThanOrEqual(1e-14);
      expect(Math.abs(dE_de - t_de)).toBeLessThanOrEqual(1e-10);
      expect(Math.abs(dE_dM - t_dM)).toBeLessThanOrEqual(1e-10);
    }
  });

  test("the orbit's loss gradient matches finite differences, and fitting recovers e = 0.6", async () => {
    const { lossGrad } = await compiled("newton");
    const mod = await import("../../examples/newton.js");
    const observed = mod.observe(0.6);
    const [, de] = (lossGrad as unknown as typeof mod.lossGrad)(0.35, observed);
    const eps = 1e-6;
    const fd = (mod.orbitLoss(0.35 + eps, observed) - mod.orbitLoss(0.35 - eps, observed)) / (2 * eps);
    expect(de).toBeCloseTo(fd, 7);
    const log = console.log;
    console.log = () => undefined;
    try {
      expect(Math.abs(mod.main(lossGrad as unknown as typeof mod.lossGrad) - 0.6)).toBeLessThan(1e-3);
    } finally {
      console.log = log;
    }
  });
});
