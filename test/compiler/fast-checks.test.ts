// Argument checks in two tiers: the compiled function tests one compact condition and, when it
// fails, its cold twin runs the checks one by one. What a caller sees is unchanged: a wrong
// argument throws a GradcError naming it (messages written out here), good arguments compute.

import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { compile } from "../../compiler/program.js";
import { importGenerated } from "../helpers/generated.js";

const SOURCE = `
import { grad, sum, mul, type Tensor } from "gradc";
export function f<B extends number>(w: [number, number], p: { a: number; v: Tensor<[B]> }, u: Tensor<[B]>): number {
  return w[0] * p.a + w[1] * sum(mul(p.v, u));
}
export const g = grad(f, { argnums: [0, 1] });
`;

type Fn = (...args: unknown[]) => unknown;
let g: Fn;
let code: string;

beforeAll(async () => {
  const dir = join(__dirname, "..", ".tmp", "fast-checks");
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, "model.ts"), SOURCE);
  const r = compile(["model.ts"], { cwd: dir, emit: "js", backend: "js" });
  expect(r.diagnostics).toEqual([]);
  code = r.modules[0]!.code;
  g = (await importGenerated(code, "fast-checks"))["g"] as Fn;
}, 120_000);

const vec = (...xs: number[]) => ({ shape: [xs.length], data: Float64Array.from(xs) });

describe("two-tier argument checks", () => {
  it("the compiled function tests one condition, its cold twin the checks one by one", () => {
    const body = code.slice(code.indexOf("export function g("), code.indexOf("\n}\n", code.indexOf("export function g(")));
    // One call from the scan for undeclared fields, one from the condition.
    expect(body.match(/\$gradc_g_args\(w, \w+, u\);/g)?.length).toBe(2);
    expect(body).not.toContain("$gradc_badArg");
    expect(code).toMatch(/function \$gradc_g_args\(w, \w+, u\) \{/);
  });

  it("good arguments compute; each bad one is named as before", () => {
    const [dw, dp] = g([2, 3], { a: 0.5, v: vec(1, 2) }, vec(3, 4)) as [number[], { a: number; v: { data: Float64Array } }];
    expect(dw).toEqual([0.5, 11]);
    expect(dp.a).toBe(2);
    expect(Array.from(dp.v.data)).toEqual([9, 12]);
    const bad: [unknown[], string][] = [
      [[[2, "3"], { a: 0.5, v: vec(1, 2) }, vec(3, 4)], 'g: argument w[1] must be a number, got string'],
      [[[2, 3, 4], { a: 0.5, v: vec(1, 2) }, vec(3, 4)], "g: argument w must be an array of 2, got an array of 3"],
      [[null, { a: 0.5, v: vec(1, 2) }, vec(3, 4)], "g: argument w[0] must be a number, got undefined"],
      [[[2, 3], { a: 0.5, v: vec(1, 2), b: 1 }, vec(3, 4)], 'g: argument p has a field "b" that its type does not declare (declared: "a", "v"); pass only the declared fields'],
      [[[2, 3], { a: 0.5, v: vec(1, 2) }, vec(3, 4, 5)], "g: argument u must be a f64 tensor of shape [B], got a f64 tensor of shape [3] with 3 entries"],
      [[[2, 3], { a: 0.5, v: { shape: [2], data: new Float32Array(2) } }, vec(3, 4)], "g: argument p.v must be a f64 tensor of shape [B], got a f32 tensor of shape [2] with 2 entries"],
    ];
    for (const [args, message] of bad) expect(() => g(...args)).toThrowError(message);
  });

  it("an argument that changes between the two tiers is still refused with a GradcError", () => {
    let reads = 0;
    const w = [2, 3];
    Object.defineProperty(w, 0, { get: () => (reads++ === 0 ? "2" : 2) });
    expect(() => g(w, { a: 0.5, v: vec(1, 2) }, vec(3, 4))).toThrowError("g: an argument changed while it was checked");
  });
});
