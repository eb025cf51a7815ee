// `gradc graph` and the evaluator under it: forward values and gradients of every node of a
// function's IR at concrete inputs, checked against the worked examples (the two circuits of
// the README), against finite differences, and as drawn (DOT and SVG).

import { readFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { type GraphFunction, GraphError, drawGraph, evaluateWithGradients, leafInputs, loadGraphFunction } from "../../compiler/graph/index.js";
import type { Val } from "../../compiler/ops/values.js";
import { NEURON, gradc, removeTempProjects, tempProject } from "../cli/helpers.js";

afterAll(removeTempProjects);

function load(dir: string, file: string, name: string): GraphFunction {
  const g = loadGraphFunction(join(dir, file), name, { cwd: dir });
  if ("diagnostics" in g) throw new Error(g.diagnostics.map((d) => d.message).join("\n"));
  return g;
}

/** Value and gradient (one entry per IR leaf, flattened) of a loaded function at `input`. */
function run(g: GraphFunction, input: unknown): { value: number; grads: number[][] } {
  const { values, labels } = leafInputs(g.params, input);
  const ev = evaluateWithGradients(g.fn, values, labels);
  const flat = (v: Val | undefined): number[] => (v === undefined ? [] : typeof v === "object" ? Array.from(v.data, Number) : [Number(v)]);
  return { value: ev.values.get(ev.output) as number, grads: g.fn.body.params.map((p) => flat(ev.adjoints.get(p) ?? 0)) };
}

/** Central finite differences of the function's value along each scalar input. */
function finiteDifferences(g: GraphFunction, args: number[], eps = 1e-6): number[] {
  return args.map((_, i) => {
    const at = (d: number): number => run(g, args.map((a, j) => (j === i ? a + d : a))).value;
    return (at(eps) - at(-eps)) / (2 * eps);
  });
}

/** The text of every <text> element of an SVG, entities decoded. */
function svgTexts(svg: string): string[] {
  return [...svg.matchAll(/<text[^>]*>([^<]*)<\/text>/g)].map((m) =>
    m[1]!.replace(/&#45;/g, "-").replace(/&lt;/g, "<").replace(/&gt;/g, ">").replace(/&amp;/g, "&"),
  );
}

/** Edges of the DOT text: from, to, and the value / gradient lines of the label. */
function dotEdges(dot: string): { from: string; to: string; value: string; grad: string | undefined }[] {
  return [...dot.matchAll(/^ {2}(\w+) -> (\w+) \[label=<(.*)>/gm)].map((m) => {
    const lines = [...m[3]!.matchAll(/<font color="[^"]+">([^<]*)<\/font>/g)].map((f) => f[1]!);
    return { from: m[1]!, to: m[2]!, value: lines[0]!, grad: lines[1] };
  });
}

function dotNodes(dot: string): Map<string, string> {
  return new Map([...dot.matchAll(/^ {2}(n\d+) \[label="([^"]*)"/gm)].map((m) => [m[2]!, m[1]!]));
}

describe("gradc graph (the bin)", { timeout: 300_000 }, () => {
  const inputs = { "at.json": JSON.stringify([[2, -3, -3], [-1, -2]]), "named.json": JSON.stringify({ x: [-1, -2], w: [2, -3, -3] }) };

  it("draws the seed's neuron as SVG with its forward values and gradients", () => {
    const dir = tempProject({ "model.ts": NEURON, ...inputs });
    const r = gradc(["graph", "model.ts", "--fn", "neuron", "--at", "at.json", "-o", "graph.svg"], dir);
    expect(r).toEqual({ status: 0, stdout: "", stderr: "" });
    const svg = readFileSync(join(dir, "graph.svg"), "utf8");
    expect(svg).toMatch(/<svg[\s>]/);
    const texts = svgTexts(svg);
    // Gates as the lecture draws them, the constant folded in.
    for (const gate of ["*", "+", "*-1", "exp", "+1", "1/x"]) expect(texts).toContain(gate);
    // Forward: -2 and 6 into the sum, 4, 1, -1, e^-1 ≈ 0.37, 1 + e^-1 ≈ 1.37, f ≈ 0.73.
    for (const v of ["-2.00", "6.00", "4.00", "1.00", "-1.00", "0.37", "1.37", "0.73"]) expect(texts).toContain(v);
    // Backward: 1 at the output, -0.53, -0.20, 0.20 along the chain, then dw and dx.
    for (const g of ["-0.53", "-0.20", "0.20", "-0.39", "0.39", "-0.59"]) expect(texts).toContain(g);
  });

  it("prints DOT without -o; --fn may name the grad binding and --at may key arguments by name", () => {
    const dir = tempProject({ "model.ts": NEURON, ...inputs });
    const byModel = gradc(["graph", "model.ts", "--fn", "neuron", "--at", "at.json"], dir);
    const byBinding = gradc(["graph", "model.ts", "--fn", "neuronGrad", "--at", "named.json"], dir);
    expect(byModel.status).toBe(0);
    expect(byBinding).toEqual(byModel);
    const dot = byModel.stdout;
    expect(dot).toMatch(/^digraph "neuron" \{\n {2}rankdir=LR;/);
    const nodes = dotNodes(dot);
    const into = (gate: string) => dotEdges(dot).filter((e) => e.to === nodes.get(gate));
    // The chain from the output back to the sum, edge by edge: value above, gradient below.
    expect(dotEdges(dot).find((e) => e.to === "out")).toMatchObject({ value: "0.73", grad: "1.00" });
    expect(into("1/x")).toEqual([expect.objectContaining({ value: "1.37", grad: "-0.53" })]);
    expect(into("+1")).toEqual([expect.objectContaining({ value: "0.37", grad: "-0.53" })]);
    expect(into("exp")).toEqual([expect.objectContaining({ value: "-1.00", grad: "-0.20" })]);
    expect(into("*-1")).toEqual([expect.objectContaining({ value: "1.00", grad: "0.20" })]);
    // Inputs on the left, each with its value and total gradient.
    const input = (name: string) => new RegExp(`\\[shape=plaintext, style="", label=<<b>${name.replace(/[[\]]/g, "\\$&")}</b><br/><font color="[^"]+">([^<]+)</font><br/><font color="[^"]+">([^<]+)</font>>`);
    expect(dot.match(input("w[0]"))?.slice(1)).toEqual(["2.00", "-0.20"]);
    expect(dot.match(input("w[1]"))?.slice(1)).toEqual(["-3.00", "-0.39"]);
    expect(dot.match(input("w[2]"))?.slice(1)).toEqual(["-3.00", "0.20"]);
    expect(dot.match(input("x[0]"))?.slice(1)).toEqual(["-1.00", "0.39"]);
    expect(dot.match(input("x[1]"))?.slice(1)).toEqual(["-2.00", "-0.59"]);
    expect(dot).toMatch(/\{ rank=source; in0; in1; in2; in3; in4; \}/);
  });

  it("exits 2 for an unknown --fn or unusable inputs, and 1 with diagnostics for code gradc rejects", () => {
    const dir = tempProject({
      "model.ts": NEURON,
      "bad.ts": `export function f(x: number): number {\n  for (const k in { a: 1 }) x = x / 2;\n  return x;\n}\n`,
      "short.json": "[[2, -3], [-1, -2]]",
      "broken.json": "[[2, -3, -3],",
      ...inputs,
    });
    const unknown = gradc(["graph", "model.ts", "--fn", "nope", "--at", "at.json"], dir);
    expect(unknown.status).toBe(2);
    expect(unknown.stderr.split("\n")[0]).toBe("gradc: model.ts has no function or grad binding named 'nope'; it has 'neuron', 'neuronGrad'");
    const short = gradc(["graph", "model.ts", "--fn", "neuron", "--at", "short.json"], dir);
    expect(short.status).toBe(2);
    expect(short.stderr.split("\n")[0]).toBe("gradc: missing a value for w[2]");
    expect(gradc(["graph", "model.ts", "--fn", "neuron", "--at", "broken.json"], dir).status).toBe(2);
    expect(gradc(["graph", "model.ts", "--fn", "neuron"], dir).status).toBe(2);
    const bad = gradc(["graph", "bad.ts", "--fn", "f", "--at", "at.json"], dir);
    expect(bad.status).toBe(1);
    expect(bad.stdout).toMatch(/^bad\.ts\(2,3\): error GRADC1002: /);
  });
});

describe("the graph evaluator", () => {
  it("reproduces f(x, y, z) = (x + y) * z at (-2, 5, -4): f = -12, gradients -4, -4, 3", () => {
    const dir = tempProject({
      "fxyz.ts": `export function fxyz(x: number, y: number, z: number): number {\n  const q = x + y;\n  return q * z;\n}\n`,
    });
    const r = run(load(dir, "fxyz.ts", "fxyz"), { x: -2, y: 5, z: -4 });
    expect(r.value).toBe(-12);
    expect(r.grads).toEqual([[-4], [-4], [3]]);
  });

  it("sums fan-out, routes max to its argmax, and follows only the branch taken (finite differences)", () => {
    const dir = tempProject({
      "branchy.ts": `export function branchy(a: number, b: number, c: number): number {
  const s = a * b + a;
  const m = Math.max(s, c);
  const r = s > 1 ? m * s : Math.exp(m) - c;
  return r * a;
}
`,
    });
    const g = load(dir, "branchy.ts", "branchy");
    for (const args of [
      [1.5, 0.7, -0.3], // s > 1, max picks s
      [1.5, 0.7, 4.0], // s > 1, max picks c
      [0.2, 0.5, 0.1], // s <= 1: the else branch
    ]) {
      const r = run(g, args);
      const a = args[0]!;
      const b = args[1]!;
      const c = args[2]!;
      const s = a * b + a;
      const m = Math.max(s, c);
      expect(r.value).toBeCloseTo((s > 1 ? m * s : Math.exp(m) - c) * a, 12);
      const fd = finiteDifferences(g, args);
      r.grads.forEach((gr, i) => expect(gr[0]).toBeCloseTo(fd[i]!, 5));
    }
  });

  it("draws a while loop as the trips it ran, with break (finite differences)", () => {
    const dir = tempProject({
      "newton.ts": `export function root(a: number): number {
  let x = 1 + a * a;
  let n = 0;
  while (Math.abs(x * x - a * a - 1) > 1e-12) {
    x = x - (x * x - a * a - 1) / (2 * x);
    n = n + 1;
    if (n > 50) break;
  }
  return x;
}
`,
    });
    const g = load(dir, "newton.ts", "root");
    const r = run(g, [0.75]);
    expect(r.value).toBeCloseTo(1.25, 12);
    // d sqrt(1 + a²)/da = a / sqrt(1 + a²) = 0.6
    expect(r.grads[0]![0]).toBeCloseTo(0.6, 10);
    expect(r.grads[0]![0]).toBeCloseTo(finiteDifferences(g, [0.75])[0]!, 5);
  });

  it("unrolls loops, constant and symbolic trip counts alike (finite differences)", () => {
    const dir = tempProject({
      "loops.ts": `import { at, type Tensor } from "gradc";

export function decay(x: number, r: number): number {
  let v = x;
  for (let i = 0; i < 40; i++) {
    v = Math.tanh(v * r) + 0.1 * x;
  }
  return v;
}

export function recur<T extends number>(w: number, xs: Tensor<[T]>): number {
  let h = 0;
  for (let i = 0; i < xs.shape[0]; i++) {
    h = Math.tanh(w * h + at(xs, i));
  }
  return h * h;
}
`,
    });
    const decay = load(dir, "loops.ts", "decay");
    let v = 0.3;
    for (let i = 0; i < 40; i++) v = Math.tanh(v * 1.2) + 0.1 * 0.3;
    const r = run(decay, [0.3, 1.2]);
    expect(r.value).toBeCloseTo(v, 12);
    const fd = finiteDifferences(decay, [0.3, 1.2]);
    r.grads.forEach((g, i) => expect(g[0]).toBeCloseTo(fd[i]!, 6));

    const recur = load(dir, "loops.ts", "recur");
    const xs = [1, -2, 0.5, 0.25];
    const value = (w: number, xs: number[]): number => {
      let h = 0;
      for (const x of xs) h = Math.tanh(w * h + x);
      return h * h;
    };
    const rr = run(recur, { w: 0.5, xs });
    expect(rr.value).toBeCloseTo(value(0.5, xs), 12);
    const eps = 1e-6;
    expect(rr.grads[0]![0]).toBeCloseTo((value(0.5 + eps, xs) - value(0.5 - eps, xs)) / (2 * eps), 6);
    rr.grads[1]!.forEach((g, i) => {
      const at = (d: number) => value(0.5, xs.map((x, j) => (j === i ? x + d : x)));
      expect(g).toBeCloseTo((at(eps) - at(-eps)) / (2 * eps), 6);
    });
    // One trip per element, each reading its own slice.
    const dot = drawGraph(recur, { w: 0.5, xs }).dot;
    expect(dot.match(/label="tanh"/g)).toHaveLength(4);
    for (const i of [0, 1, 2, 3]) expect(dot).toContain(`label="[${i}]"`);
  });

  it("draws customVjp calls as one gate: the forward block's value, the user's backward rule (hand-worked, finite differences)", () => {
    const dir = tempProject({
      "custom.ts": `import { customVjp } from "gradc";

export const softplus = customVjp(
  (x: number) => (x > 0 ? x + Math.log(1 + Math.exp(-x)) : Math.log(1 + Math.exp(x))),
  (x: number, _out: number, g: number) => [g / (1 + Math.exp(-x))],
);

// A straight-through estimator: the forward rounds to ±1, the backward passes g through.
export const ste = customVjp(
  (x: number) => (x > 0 ? 1 : -1),
  (_x: number, _out: number, g: number) => [g],
);

export function model(a: number, b: number): number {
  return softplus(a * b) + ste(a) * b;
}

export function looped(a: number): number {
  let v = a;
  for (let i = 0; i < 3; i++) v = softplus(v) * 0.5;
  return v;
}
`,
    });
    const sigmoid = (x: number): number => 1 / (1 + Math.exp(-x));
    const softplus = (x: number): number => Math.log(1 + Math.exp(x));
    const g = load(dir, "custom.ts", "model");
    for (const [a, b] of [
      [0.7, -1.3],
      [-0.4, 2.1],
    ] as const) {
      const r = run(g, [a, b]);
      const s = a > 0 ? 1 : -1;
      expect(r.value).toBeCloseTo(softplus(a * b) + s * b, 12);
      // The straight-through estimator's gradient is the user's rule, not the (zero) derivative of sign.
      expect(r.grads[0]![0]).toBeCloseTo(b * sigmoid(a * b) + b, 12);
      expect(r.grads[1]![0]).toBeCloseTo(a * sigmoid(a * b) + s, 12);
    }
    const { dot } = drawGraph(g, [0.7, -1.3]);
    expect(dot.match(/label="customVjp"/g)).toHaveLength(2);
    // Nothing of the bodies is drawn: no exp or log gate, and the sign's comparison is hidden.
    expect(dot).not.toMatch(/label="(exp|log|> 0)"/);
    // The edge into the softplus gate carries a*b = -0.91 and gets back sigmoid(-0.91) ≈ 0.29.
    const edges = dotEdges(dot);
    const nodes = [...dot.matchAll(/^ {2}(n\d+) \[label="customVjp"/gm)].map((m) => m[1]!);
    expect(edges.find((e) => nodes.includes(e.to) && e.value === "-0.91")?.grad).toBe("0.29");

    // Inside an unrolled loop: one gate per trip, gradients matching finite differences.
    const looped = load(dir, "custom.ts", "looped");
    let v = 0.3;
    for (let i = 0; i < 3; i++) v = softplus(v) * 0.5;
    const r = run(looped, [0.3]);
    expect(r.value).toBeCloseTo(v, 12);
    expect(r.grads[0]![0]).toBeCloseTo(finiteDifferences(looped, [0.3])[0]!, 6);
    expect(drawGraph(looped, [0.3]).dot.match(/label="customVjp"/g)).toHaveLength(3);
  });

  it("undoes broadcasting in tensor gradients and reads symbolic dimensions from the arguments", () => {
    const dir = tempProject({
      "tensors.ts": `import { type Tensor, mean, mul, sum, tanh } from "gradc";

export function loss<B extends number>(w: Tensor<[3]>, x: Tensor<[B, 3]>): number {
  return mean(tanh(mul(w, x))) + sum(w);
}
`,
    });
    const g = load(dir, "tensors.ts", "loss");
    const w = [0.5, -1, 2];
    const x = [
      [1, 2, 3],
      [-1, 0.5, 0.25],
    ];
    const r = run(g, { w, x });
    // By hand: d/dw_j = Σ_i x_ij (1 - tanh²(w_j x_ij)) / (B·3) + 1, and d/dx_ij likewise.
    const n = x.length * 3;
    const t = (i: number, j: number) => Math.tanh(w[j]! * x[i]![j]!);
    expect(r.value).toBeCloseTo(x.flatMap((row, i) => row.map((_, j) => t(i, j))).reduce((p, q) => p + q) / n + 1.5, 12);
    expect(r.grads[0]).toHaveLength(3);
    r.grads[0]!.forEach((gw, j) => expect(gw).toBeCloseTo(x.reduce((acc, row, i) => acc + row[j]! * (1 - t(i, j) ** 2), 0) / n + 1, 12));
    expect(r.grads[1]).toHaveLength(6);
    r.grads[1]!.forEach((gx, k) => {
      const [i, j] = [Math.floor(k / 3), k % 3];
      expect(gx).toBeCloseTo((w[j]! * (1 - t(i, j) ** 2)) / n, 12);
    });
    const dot = drawGraph(g, { w, x }).dot;
    expect(dot).toContain("[2×3]");
  });

  it("rejects inputs whose shapes disagree with the parameter types, naming the argument", () => {
    const dir = tempProject({
      "tensors.ts": `import { type Tensor, sum, mul } from "gradc";\n\nexport function f<B extends number>(a: Tensor<[B, 2]>, b: Tensor<[B, 2]>): number {\n  return sum(mul(a, b));\n}\n`,
    });
    const g = load(dir, "tensors.ts", "f");
    const attempt = (input: unknown) => () => drawGraph(g, input);
    expect(attempt({ a: [[1, 2]], b: [[1, 2, 3]] })).toThrowError(new GraphError("b must have shape [B, 2], got a tensor of shape [1, 3]"));
    expect(attempt({ a: [[1, 2]], b: [[1, 2], [3, 4]] })).toThrowError(new GraphError("b: dimension B is 1 elsewhere but 2 here (shape [B, 2])"));
    expect(attempt({ a: [[1, 2]], c: 1 })).toThrowError(/no parameter named 'c'/);
    expect(attempt([[[1, 2]], [[1], [2, 3]]])).toThrowError(/ragged/);
  });
});
