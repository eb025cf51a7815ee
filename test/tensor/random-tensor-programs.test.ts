// Property test over random tensor programs: elementwise DAGs over operands of shapes [3,4],
// [4], [3,1] and a number (so NumPy broadcasting is everywhere), reduced over an axis or all,
// sometimes through a matmul. Compiled code = the tape (same source, interpreted) within
// 1e-12, and ≈ central finite differences for sampled entries.
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import fc from "fast-check";
import { describe, expect, it, vi } from "vitest";
import { formatDiagnostic } from "../../compiler/diagnostics/diagnostic.js";
import { compile } from "../../compiler/program.js";
import { randn, type Tensor } from "../../runtime/index.js";
import { importGenerated } from "../helpers/generated.js";

vi.mock("gradc", () => import("../../runtime/index.js"));

type E =
  | { k: "leaf"; i: number }
  | { k: "un"; f: string; a: E }
  | { k: "bin"; f: string; a: E; b: E };

const UNARY = ["tanh", "sigmoid", "relu", "square", "expsin", "log1p2", "neg", "abs"];
const BINARY = ["add", "sub", "mul", "maximum", "minimum", "div1p2"];

const exprArb: fc.Arbitrary<E> = fc.letrec<{ e: E }>((tie) => ({
  e: fc.oneof(
    { maxDepth: 4, depthSize: "small" },
    fc.record({ k: fc.constant("leaf" as const), i: fc.nat(3) }),
    fc.record({ k: fc.constant("un" as const), f: fc.constantFrom(...UNARY), a: tie("e") }),
    fc.record({ k: fc.constant("bin" as const), f: fc.constantFrom(...BINARY), a: tie("e"), b: tie("e") }),
  ),
})).e;

interface Prog {
  e: E;
  reduce: "all" | "axis0" | "axis1" | "lse" | "matmul";
}
const progArb: fc.Arbitrary<Prog> = fc.record({ e: exprArb, reduce: fc.constantFrom<Prog["reduce"]>("all", "axis0", "axis1", "lse", "matmul") });

const LEAVES = ["a", "b", "c", "s"];

function render(p: Prog, name: string): string {
  const ex = (e: E): string => {
    if (e.k === "leaf") return LEAVES[e.i]!;
    const a = ex(e.a);
    if (e.k === "un") {
      if (e.f === "expsin") return `exp(tanh(${a}))`;
      if (e.f === "log1p2") return `log(add(square(${a}), 1))`;
      return `${e.f}(${a})`;
    }
    const b = ex(e.b);
    if (e.f === "div1p2") return `div(${a}, add(square(${b}), 1))`;
    return `${e.f}(${a}, ${b})`;
  };
  // Adding a keeps every program [3, 4]-shaped whatever its leaves broadcast to.
  const body = `add(a, ${ex(p.e)})`;
  const out = {
    all: `sum(${body})`,
    axis0: `sum(square(sum(${body}, 0)))`,
    axis1: `sum(tanh(sum(${body}, 1, true)))`,
    lse: `logSumExp(${body}, 1, false)`,
    matmul: `sum(square(matmul(${body}, w)))`,
  }[p.reduce];
  const total = p.reduce === "lse" ? `sum(${out})` : out;
  return `export function ${name}(a: Tensor<[3, 4]>, b: Tensor<[4]>, c: Tensor<[3, 1]>, s: number, w: Tensor<[4, 2]>): number {
  return ${total};
}
export const g${name} = valueAndGrad(${name}, { argnums: [0, 1, 2, 3, 4] });
`;
}

function leaves(tree: unknown, out: number[] = []): number[] {
  if (typeof tree === "number") out.push(tree);
  else if (tree && typeof tree === "object" && "data" in tree) out.push(...Array.from((tree as Tensor).data));
  else if (Array.isArray(tree)) tree.forEach((t) => leaves(t, out));
  return out;
}

const close = (x: number, y: number, rel: number): boolean => Math.abs(x - y) <= rel * Math.max(1, Math.abs(x), Math.abs(y));

// On the JavaScript backend, and on the WebAssembly one with every matrix product a kernel.
describe.each([
  ["js", { backend: "js" }],
  ["wasm", { backend: "wasm", wasmMinWork: 1 }],
] as const)("random tensor programs (%s backend): compiled = tape ≈ finite differences", (backend, kernels) => {
  it.each([2000, 2001])("batch with seed %i", async (seed) => {
    const programs = fc.sample(progArb, { seed, numRuns: 40 });
    const tmp = join(__dirname, "..", ".tmp");
    mkdirSync(tmp, { recursive: true });
    const file = join(tmp, `random-tensor-${seed}-${backend}.ts`);
    writeFileSync(
      file,
      [
        'import { abs, add, div, exp, log, logSumExp, matmul, maximum, minimum, mul, neg, relu, sigmoid, square, sub, sum, tanh, valueAndGrad, type Tensor } from "gradc";',
        ...programs.map((p, n) => render(p, `f${n}`)),
      ].join("\n"),
    );
    const result = compile([file], { emit: "js", verify: true, ...kernels });
    expect(result.diagnostics.map(formatDiagnostic)).toEqual([]);
    if (backend === "wasm" && programs.some((p) => render(p, "f").includes("matmul("))) expect(result.modules[0]!.code).toContain("$gradc_mm_f64(");
    const compiled = await importGenerated(result.modules[0]!.code, `random-tensor-${seed}-${backend}`);
    const tape = (await import(/* @vite-ignore */ file)) as Record<string, (...args: unknown[]) => [number, unknown]>;
    let fdChecked = 0;
    programs.forEach((_p, n) => {
      const args = () => [randn([3, 4], seed + n), randn([4], seed + n + 1), randn([3, 1], seed + n + 2), 0.7, randn([4, 2], seed + n + 3)];
      const f = compiled[`gf${n}`] as (...a: unknown[]) => [number, unknown];
      const [v1, g1] = f(...args());
      const [v2, g2] = tape[`gf${n}`]!(...args());
      expect(close(v1, v2, 1e-12), `f${n} value`).toBe(true);
      const d1 = leaves(g1);
      const d2 = leaves(g2);
      expect(d1.length).toBe(d2.length);
      d1.forEach((d, i) => expect(close(d, d2[i]!, 1e-12), `f${n} gradient entry ${i}: ${d} vs ${d2[i]}`).toBe(true));
      // Entry 5 of a against central differences, unless a kink (relu, max) lies within the step.
      const eps = 1e-6;
      const at = (x: number) => {
        const xs = args();
        (xs[0] as Tensor).data[5] = x;
        return f(...xs)[0];
      };
      const x0 = (args()[0] as Tensor).data[5]!;
      const fd = (at(x0 + eps) - at(x0 - eps)) / (2 * eps);
      const fdHalf = (at(x0 + eps / 2) - at(x0 - eps / 2)) / eps;
      if (Math.abs(fd - fdHalf) > 1e-6 * Math.max(1, Math.abs(fd))) return; // not smooth here
      expect(close(d1[5]!, fd, 1e-5), `f${n} d/da[5]: ${d1[5]} vs ${fd}`).toBe(true);
      fdChecked++;
    });
    expect(fdChecked).toBeGreaterThan(programs.length / 2);
  });
});
