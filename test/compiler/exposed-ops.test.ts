// Every Math function and arithmetic operator the registry exposes, compiled and on the tape,
// with gradients against central finite differences of the plain JavaScript. The list of what
// to check is the registry's own (ops/exposure.ts), so a new entry is checked here with no edit.

import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { arithmeticOperators, mathOps } from "../../compiler/ops/index.js";
import { compile } from "../../compiler/program.js";
import { Var, apply, backward } from "../../runtime/tape.js";
import { importGenerated } from "../helpers/generated.js";
import { centralDifference, relErr } from "../helpers/numeric.js";

// Positive (log, sqrt), away from integers and half-integers (floor, round, …), and x/0.8 not
// whole (%).
const POINTS = [0.37, 1.23, 2.71];
const OTHER = 0.8;

interface Case {
  readonly id: string;
  /** The expression of x it checks. */
  readonly js: string;
  /** The operator, for operator cases. */
  readonly op?: string;
}

const mathCases: Case[] = [...mathOps()].map(([name, def]) => ({
  id: `Math_${name}`,
  js: def.arity === 1 && !def.variadic ? `Math.${name}(x)` : `Math.${name}(x, ${OTHER})`,
}));
const operatorCases: Case[] = [...arithmeticOperators().keys()].map((op, k) => ({ id: `op_${k}`, js: `(x ${op} ${OTHER})`, op }));
const cases: Case[] = [...mathCases, ...operatorCases];

/** The model of a case: its expression times x, so the gradient is never just the op's. */
const model = (js: string): ((x: number) => number) => new Function("x", `return ${js} * x;`) as (x: number) => number;

let compiled: Record<string, unknown>;

beforeAll(async () => {
  const source = [
    'import { grad } from "gradc";',
    ...cases.flatMap((c) => [`export function m_${c.id}(x: number): number { return ${c.js} * x; }`, `export const d_${c.id} = grad(m_${c.id});`]),
  ].join("\n");
  const dir = mkdtempSync(join(tmpdir(), "gradc-exposed-"));
  writeFileSync(join(dir, "model.ts"), source);
  const result = compile(["model.ts"], { cwd: dir, emit: "js" });
  expect(result.diagnostics.map((d) => d.message)).toEqual([]);
  compiled = await importGenerated(result.modules[0]!.code, "exposed-ops");
}, 60_000);

describe("compiled gradients of every exposed Math function and operator", () => {
  it.each(cases.map((c) => [c.js, c] as const))("%s", (_label, c) => {
    const df = compiled[`d_${c.id}`] as (x: number) => number;
    const f = model(c.js);
    for (const x of POINTS) expect(relErr(df(x), centralDifference(f, x)), `at ${x}`).toBeLessThan(1e-6);
  });
});

describe("the same ops on the tape", () => {
  it.each(cases.map((c) => [c.js, c] as const))("%s", (_label, c) => {
    const def = c.op !== undefined ? arithmeticOperators().get(c.op)! : mathOps().get(c.id.slice(5))!;
    const f = model(c.js);
    for (const x of POINTS) {
      const v = new Var(x);
      const y = apply(def, def.arity === 1 ? [v] : [v, OTHER]);
      const loss = apply(arithmeticOperators().get("*")!, [y, v]);
      expect(loss).toBeInstanceOf(Var);
      backward(loss as Var);
      const g = v.grad === null ? 0 : (v.grad as number);
      expect(relErr(g, centralDifference(f, x)), `at ${x}`).toBeLessThan(1e-6);
    }
  });
});
