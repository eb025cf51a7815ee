// The examples compile, and train with the compiled gradients: the seed MLP's loss falls,
// Iris reaches at least 95% training accuracy, the f32 MNIST net classifies real held-out digits;
// the MNIST loader's splits are disjoint and deterministic.
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { describe, expect, test } from "vitest";
import { compile } from "../../compiler/index.js";
import type { CompileOptions } from "../../compiler/program.js";
import { tensor } from "../../runtime/index.js";

const TMP = join(__dirname, "..", ".tmp", "examples");

async function compiled(name: string, kernels: Pick<CompileOptions, "backend" | "wasmMinWork"> = {}): Promise<Record<string, never>> {
  mkdirSync(TMP, { recursive: true });
  const result = compile([join(__dirname, "..", "..", "examples", `${name}.ts`)], { emit: "js", verify: true, ...kernels });
  expect(result.diagnostics).toEqual([]);
  if (kernels.backend === "js") expect(result.modules[0]!.code).not.toContain("$gradc_wasm");
  if (kernels.wasmMinWork === 1) expect(result.modules[0]!.code).toContain("$gradc_mm_");
  const out = join(TMP, `${name}.${kernels.backend ?? "default"}.grad.mjs`);
  writeFileSync(out, result.modules[0]!.code);
  return (await import(pathToFileURL(out).href)) as Record<string, never>;
}

describe("examples train with compiled gradients", () => {
  test("seed MLP: per-sample SGD lowers the loss", async () => {
    const { lossGrad } = await compiled("mlp", { backend: "js" });
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

  test("MNIST MLP on real digits: a short run classifies held-out digits far above chance", async () => {
    const { lossGrad } = await compiled("mnist-mlp", { backend: "js" });
    const { main } = await import("../../examples/mnist-mlp.js");
    const lines: string[] = [];
    // 2000 training digits, 2 epochs (62 steps), no augmentation; chance is 10%.
    const acc = main(lossGrad, { train: 2000, test: 1000, epochs: 2, shift: 0, log: (l) => lines.push(l) });
    expect(acc).toBeGreaterThan(0.75);
    expect(lines[0]).toMatch(/^MNIST: 2000 training digits, 1000 held out/);
    expect(lines.slice(1).map((l) => l.replace(/ {2}\(.*$/, "").replace(/[\d.]+/g, "#"))).toEqual([
      "epoch  #  train loss #  held-out accuracy #%",
      "epoch  #  train loss #  held-out accuracy #%",
    ]);
  });

  test("MNIST CNN on real digits: a short run classifies held-out digits far above chance", async () => {
    const { lossGrad } = await compiled("mnist-cnn", { backend: "js" });
    const { main } = await import("../../examples/mnist-cnn.js");
    const lines: string[] = [];
    // 1280 training digits, 1 epoch (20 steps), no augmentation; chance is 10%.
    const acc = main(lossGrad, { train: 1280, test: 500, epochs: 1, shift: 0, log: (l) => lines.push(l) });
    expect(acc).toBeGreaterThan(0.6);
    expect(lines[0]).toMatch(/^MNIST: 1280 training digits, 500 held out/);
    expect(lines.slice(1).map((l) => l.replace(/ {2}\(.*$/, "").replace(/[\d.]+/g, "#"))).toEqual([
      "epoch  #  train loss #  held-out accuracy #%",
    ]);
  });

  test("attention: one self-attention layer learns to reverse token sequences", async () => {
    const { lossGrad } = await compiled("attention", { backend: "js" });
    const mod = await import("../../examples/attention.js");
    // The compiled gradient equals the tape's on one batch.
    type Step = (...a: unknown[]) => [number, Record<string, { data: Float32Array }>];
    const net = mod.initAttention(2);
    const tokens = new Int32Array(mod.BATCH * mod.LENGTH);
    const targets = new Int32Array(mod.BATCH * mod.LENGTH);
    mod.fillBatch(tokens, targets, mod.seeded(3));
    expect(Array.from(targets.subarray(0, 8))).toEqual(Array.from(tokens.subarray(0, 8)).reverse());
    const x = tensor(tokens, [mod.BATCH, mod.LENGTH], "i32");
    const y = tensor(targets, [mod.BATCH * mod.LENGTH], "i32");
    const [v1, g1] = (lossGrad as unknown as Step)(net, x, y);
    const [v2, g2] = (mod.lossGrad as unknown as Step)(net, x, y);
    expect(Math.abs(v1 - v2)).toBeLessThanOrEqual(1e-5 * Math.abs(v2));
    for (const key of ["E", "P", "Wq", "Wk", "Wv", "Wo", "bo"]) {
      const [a, b] = [g1[key]!.data, g2[key]!.data];
      const scale = Math.max(...Array.from(b, Math.abs));
      expect(scale).toBeGreaterThan(0);
      for (let i = 0; i < b.length; i++) expect(Math.abs(a[i]! - b[i]!)).toBeLessThanOrEqual(1e-4 * scale);
    }
    // Chance is 10% per token; a short run gets far above it.
    const lines: string[] = [];
    const acc = mod.main(lossGrad, { epochs: 3, steps: 20, log: (l) => lines.push(l) });
    expect(acc).toBeGreaterThan(0.9);
    expect(lines).toHaveLength(3);
    expect(lines[2]).toMatch(/^epoch {2}3 {2}train loss [\d.]+ {2}token accuracy [\d.]+% {2}\(/);
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

describe("MNIST loader (examples/data/mnist.ts)", () => {
  test("real digits: disjoint, deterministic splits with labels 0–9 and standardized pixels", async () => {
    const { AVAILABLE, loadMnist, oneHot, accuracy } = await import("../../examples/data/mnist.js");
    const all = loadMnist({ train: 9000, test: 1000, normalize: false });
    expect(AVAILABLE).toBe(10_000);
    expect(all.train.images.length).toBe(9000 * 784);
    expect(all.test.labels.length).toBe(1000);
    // Every class is present in both splits, and raw pixels are in [0, 1] with ink in every image.
    for (const split of [all.train, all.test]) {
      const counts = new Array(10).fill(0);
      for (const l of split.labels) counts[l]++;
      expect(Math.min(...counts)).toBeGreaterThan(split.count / 20);
      let lo = Infinity, hi = -Infinity;
      for (const v of split.images) (lo = Math.min(lo, v)), (hi = Math.max(hi, v));
      expect([lo, hi]).toEqual([0, 1]);
      for (let i = 0; i < split.count; i++) expect(split.images.subarray(i * 784, (i + 1) * 784).some((v) => v > 0.5)).toBe(true);
    }
    // No image of the held-out split is in the training split.
    const key = (px: Float32Array, i: number) => px.subarray(i * 784, (i + 1) * 784).join();
    const seen = new Set(Array.from({ length: all.train.count }, (_, i) => key(all.train.images, i)));
    expect(Array.from({ length: all.test.count }, (_, i) => key(all.test.images, i)).filter((k) => seen.has(k))).toEqual([]);
    // The same seed gives the same split; standardizing uses the training split's statistics.
    const a = loadMnist({ train: 500, test: 100 });
    const b = loadMnist({ train: 500, test: 100 });
    expect(a.train.labels).toEqual(b.train.labels);
    expect(a.test.images).toEqual(b.test.images);
    expect(loadMnist({ train: 500, test: 100, seed: 2 }).train.labels).not.toEqual(a.train.labels);
    let s = 0, s2 = 0;
    for (const v of a.train.images) (s += v), (s2 += v * v);
    const n = a.train.images.length;
    expect(Math.abs(s / n)).toBeLessThan(1e-4);
    expect(Math.abs(s2 / n - 1)).toBeLessThan(1e-3);
    expect(() => loadMnist({ train: 9000, test: 2000 })).toThrow(/at most 10000/);
    expect(Array.from(oneHot([2, 0], 3))).toEqual([0, 0, 1, 1, 0, 0]);
    // Ties go to the first class: the last row counts as a 0.
    expect(accuracy([0, 5, 9, 1, 3, 3], [1, 0, 1], 2)).toBeCloseTo(2 / 3, 12);
  });
});

// The same training runs with the products as WebAssembly kernels (every one: threshold 1),
// and the kernels' gradients equal the JavaScript backend's within f32 rounding.
describe("examples train on the WebAssembly backend", () => {
  const wasm = { backend: "wasm", wasmMinWork: 1 } as const;
  test("seed MLP: per-sample SGD lowers the loss", async () => {
    const { lossGrad } = await compiled("mlp", wasm);
    const { main } = await import("../../examples/mlp.js");
    expect(main(lossGrad, 30)).toBeLessThan(main(lossGrad, 1) * 0.5);
  });

  test("MNIST MLP: held-out accuracy far above chance, gradients equal to the JavaScript backend's", async () => {
    const { lossGrad } = await compiled("mnist-mlp", wasm);
    type Step = (...a: unknown[]) => [number, Record<string, { data: Float32Array }>];
    const onJs = (await compiled("mnist-mlp", { backend: "js" })).lossGrad as unknown as Step;
    const { main, initMlp } = await import("../../examples/mnist-mlp.js");
    const acc = main(lossGrad, { train: 2000, test: 1000, epochs: 2, shift: 0, log: () => {} });
    expect(acc).toBeGreaterThan(0.75);
    const net = initMlp(3);
    const x = { shape: [64, 784], data: Float32Array.from({ length: 64 * 784 }, (_v, i) => ((i * 7919) % 1000) / 1000) };
    const y = { shape: [64], data: Int32Array.from({ length: 64 }, (_v, i) => i % 10) };
    const [v1, g1] = (lossGrad as unknown as Step)(net, x, y);
    const [v2, g2] = onJs(net, x, y);
    expect(Math.abs(v1 - v2)).toBeLessThanOrEqual(1e-5 * Math.abs(v2));
    for (const key of ["W1", "b1", "W2", "b2"]) {
      const [a, b] = [g1[key]!.data, g2[key]!.data];
      const scale = Math.max(...Array.from(b, Math.abs));
      a.forEach((d, i) => expect(Math.abs(d - b[i]!) / scale, `${key}[${i}]`).toBeLessThan(1e-5));
    }
  });
});
