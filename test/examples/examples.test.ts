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
