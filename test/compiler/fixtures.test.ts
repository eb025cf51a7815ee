// The generic fixture runner: every test/fixtures/<case>/input.ts is compiled (verifier after
// every pass) and its frontend IR, optimized IR, generated module or diagnostics are compared
// with the reviewed files beside it. Refresh them with
//   UPDATE_FIXTURES=1 npx vitest run test/compiler/fixtures.test.ts
// and review the diff. Beyond the snapshots, each successful case's generated code is run and
// its gradients checked against central finite differences of the model itself.

import { existsSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { beforeAll, describe, expect, it, vi } from "vitest";
import { formatDiagnostic } from "../../compiler/diagnostics/diagnostic.js";
import { leavesOf } from "../../compiler/ir/signature.js";
import { parseFunc } from "../../compiler/ir/parse.js";
import { printFunc } from "../../compiler/ir/print.js";
import { verify } from "../../compiler/passes/verify.js";
import { compile } from "../../compiler/program.js";
import {
  EXPECTED_FILES,
  FIXTURES,
  type FixtureResult,
  compileFixtures,
  fixtureNames,
  isErrorCase,
  render,
  TRANSFORM_CASES,
} from "../helpers/fixtures.js";
import { importGenerated } from "../helpers/generated.js";
import { centralDifference, relErr, rng, uniform } from "../helpers/numeric.js";
import { type Pytree, build, leaves, withLeaf } from "../helpers/pytree.js";

// Fixture inputs import "gradc": the runtime's source here, so the test needs no built dist/.
vi.mock("gradc", () => import("../../runtime/index.js"));

const UPDATE = process.env["UPDATE_FIXTURES"] === "1";
const REFRESH = "run UPDATE_FIXTURES=1 npx vitest run test/compiler/fixtures.test.ts and review the diff";

const names = fixtureNames();
const okNames = names.filter((n) => !isErrorCase(n));
let results: Map<string, FixtureResult>;

beforeAll(() => {
  results = compileFixtures(names);
});

const result = (name: string): FixtureResult => results.get(name)!;

describe("fixture snapshots", () => {
  it("has the cases the core compiler must show", () => {
    for (const c of ["fxyz", "neuron", "pytree-object", "let-reassign", "ternary", "if-else", "early-return", "math-max",
      "fan-out", "inline-helper", "for-loop", "destructuring", "argnums", "grad-vs-value-and-grad"])
      expect(names).toContain(c);
  });

  it.each(names)("%s", (name) => {
    const r = result(name);
    if (isErrorCase(name)) {
      expect(r.diagnostics.length, "an error-* case must produce diagnostics").toBeGreaterThan(0);
      expect(r.module, "a file with diagnostics must produce no module").toBeUndefined();
    } else {
      expect(r.diagnostics.map(formatDiagnostic)).toEqual([]);
    }
    const files = render(r);
    for (const file of EXPECTED_FILES) {
      const path = join(r.dir, file);
      const text = files[file];
      if (UPDATE) {
        if (text === undefined) rmSync(path, { force: true });
        else writeFileSync(path, text);
        continue;
      }
      if (text === undefined) {
        expect(existsSync(path), `${name}/${file} should not exist: ${REFRESH}`).toBe(false);
        continue;
      }
      expect(existsSync(path), `${name}/${file} is missing: ${REFRESH}`).toBe(true);
      expect(text, `${name}/${file} differs: ${REFRESH} if the change is intended`).toBe(readFileSync(path, "utf8"));
    }
  });
});

describe("the shared-project runner is compile()", () => {
  it.each(["fxyz", "inline-helper", "error-while-loop"])("%s: same module and diagnostics as compile([input.ts], { cwd })", (name) => {
    const dir = join(FIXTURES, name);
    const direct = compile(["input.ts"], { emit: "js", verify: true, cwd: dir, backend: "js" });
    const shared = result(name);
    expect(direct.diagnostics.map(formatDiagnostic)).toEqual(shared.diagnostics.map(formatDiagnostic));
    expect(direct.modules[0]?.code).toBe(shared.module?.code);
  });
});

describe("IR text round trip", () => {
  it.each(okNames)("%s: parseFunc(printFunc(f)) prints the same and verifies, for every stage", (name) => {
    for (const fn of result(name).module!.functions) {
      for (const stage of [fn.stages.ir, fn.stages.grad, fn.stages.opt]) {
        const text = printFunc(stage);
        const parsed = parseFunc(text);
        expect(() => verify(parsed)).not.toThrow();
        expect(printFunc(parsed)).toBe(text);
      }
    }
  });
});

/** The body of an exported generated function, without the argument checks and comments. */
function bodyStatements(code: string, exportName: string): string[] {
  const start = code.indexOf(`export function ${exportName}(`);
  expect(start).toBeGreaterThanOrEqual(0);
  const end = code.indexOf("\n}\n", start);
  return code
    .slice(code.indexOf("{\n", start) + 2, end)
    .split("\n")
    .map((l) => l.trim())
    .filter((l) => l !== "" && !l.startsWith("//") && !l.startsWith("if (typeof "));
}

describe("fxyz: the generated body is what a person would write", () => {
  it("is exactly `const q = x + y;` then `return [z, z, q];`", () => {
    const code = result("fxyz").module!.code;
    const body = bodyStatements(code, "dfxyz");
    expect(body).toEqual(["const q = x + y;", "return [z, z, q];"]);
    // The same, spelled out as properties of the gates.
    const text = body.join("\n");
    expect(text).not.toMatch(/\*\s*1(?![\d.])/); // no multiplication by one (the add gate passes g through)
    expect(text).not.toMatch(/=\s*0(?![\d.])/); // no zero-initialized accumulators
    expect(text).not.toMatch(/\blet\b|\bnew\b/); // no mutable state, no allocation
    const literals = body.filter((l) => /[[{]/.test(l));
    expect(literals).toEqual(["return [z, z, q];"]); // no arrays or objects but the returned gradients
  });
});

/** Runs a successful case's generated code at random points against the model's own finite differences. */
// Tensor fixtures are checked against the tape and finite differences in test/tensor and
// test/loops, which build tensor arguments; this check builds number leaves.
// Fixtures of jvp, nested transformations and custom rules are checked in test/transforms.
const scalarNames = okNames.filter(
  (n) => !readFileSync(join(FIXTURES, n, "input.ts"), "utf8").includes("Tensor<") && !TRANSFORM_CASES.includes(n),
);

describe("fixture gradients against central finite differences of the model", () => {
  it.each(scalarNames)("%s", async (name) => {
    const r = result(name);
    const generated = await importGenerated(r.module!.code, name);
    const source = (await import(/* @vite-ignore */ join(r.dir, "input.ts"))) as Record<string, unknown>;
    for (const fn of r.module!.functions) {
      const { spec } = fn;
      const raw = source[spec.modelName] as (...args: unknown[]) => unknown;
      // With hasAux the model returns [loss, aux]: the loss is what is differentiated.
      const model = spec.aux ? (...a: unknown[]) => (raw(...a) as [number, unknown])[0] : (raw as (...args: unknown[]) => number);
      const compiled = generated[spec.exportName] as (...args: unknown[]) => unknown;
      expect(typeof raw, `model ${spec.modelName} is exported by ${name}/input.ts`).toBe("function");
      const next = rng(name.length * 1000 + spec.exportName.length);
      for (let trial = 0; trial < 5; trial++) {
        const args = spec.params.map((p) => build(p.tree, () => uniform(next, -2, 2)));
        const out = compiled(...args);
        // [value, grads], grads; with hasAux [[value, aux], grads], [grads, aux].
        const head = spec.mode === "valueAndGrad" ? (out as [unknown, unknown])[0] : undefined;
        const grads = spec.mode === "valueAndGrad" ? (out as [unknown, unknown])[1] : spec.aux ? (out as [unknown, unknown])[0] : out;
        if (spec.aux) {
          const aux = spec.mode === "valueAndGrad" ? (head as [number, unknown])[1] : (out as [unknown, unknown])[1];
          expect(aux, `${spec.exportName}: aux as the model computes it`).toEqual((raw(...args) as [number, unknown])[1]);
        }
        if (spec.mode === "valueAndGrad") {
          const value = spec.aux ? (head as [number, unknown])[0] : (head as number);
          expect(relErr(value, model(...args))).toBeLessThanOrEqual(1e-12);
        }
        const perArg = spec.argnumsIsArray ? (grads as unknown[]) : [grads];
        expect(perArg).toHaveLength(spec.argnums.length);
        spec.argnums.forEach((k, n) => {
          const tree = spec.params[k]!.tree;
          // The gradient has its argument's structure (same arrays, same keys).
          const skeleton = (v: unknown) => JSON.stringify(v, (_key, x: unknown) => (typeof x === "number" ? 0 : x));
          expect(skeleton(perArg[n])).toBe(skeleton(args[k]));
          for (const leaf of leaves(tree, perArg[n])) {
            const x0 = leaves(tree, args[k]).find((l) => l.path.join() === leaf.path.join())!.value as number;
            const along = (x: number) => {
              const moved = [...args];
              moved[k] = withLeaf(args[k] as Pytree, leaf.path, x);
              return model(...moved);
            };
            const fd = centralDifference(along, x0);
            const where = `${spec.exportName} d/d${spec.params[k]!.name}${leaf.path.map((p) => `[${p}]`).join("")} at ${JSON.stringify(args)}`;
            expect(typeof leaf.value, where).toBe("number");
            expect(relErr(leaf.value as number, fd), `${where}: ${String(leaf.value)} vs ${fd}`).toBeLessThan(1e-6);
          }
        });
        expect(leavesOf(spec.params[0]!.tree).length).toBeGreaterThan(0);
      }
    }
  });
});
