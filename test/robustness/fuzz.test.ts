// A sample of the compiler fuzzer (`npm run fuzz` runs 10 000 programs): generated programs,
// valid and hostile, compiled in-process in batches; each must come back as GRADC diagnostics
// with locations inside the file, or as a module that parses, runs on well-typed arguments and
// exports what it should (see harness.ts). Deep and huge programs (10⁵ nested operations or
// statements) must be answered too. A hang fails the test by its timeout.

import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { type CompiledModule, compile } from "../../compiler/program.js";
import { ROOT } from "../helpers/fixtures.js";
import { type Outcome, checkDiagnostic, checkModuleText, runBatch, tally } from "./harness.js";
import { type Case, deepCase, sampleCases } from "./programs.js";

const TMP = join(ROOT, "test/.tmp/robustness");
const SEEDS = [11, 12, 13];

const failures = (outcomes: readonly Outcome[]): string[] =>
  outcomes.filter((o) => !["compiled", "diagnosed"].includes(o.status)).map((o) => `${o.status} ${o.name} (${o.family}): ${o.detail}`);

describe("compiler fuzzing: generated programs", () => {
  it.each(SEEDS)("seed %i: 100 programs compile or are diagnosed, never crash or emit broken code", async (seed) => {
    const cases = sampleCases(seed, 100);
    const outcomes = await runBatch(cases, join(TMP, `seed-${seed}`), { run: true });
    expect(failures(outcomes)).toEqual([]);
    const t = tally(outcomes);
    // The mix exercises both answers.
    expect(t.compiled).toBeGreaterThan(20);
    expect(t.diagnosed).toBeGreaterThan(10);
  }, 120_000);
});

describe("compiler fuzzing: deep and huge programs", () => {
  const deep: Case[] = [
    deepCase("parens", 100_000), // deeper than TypeScript's parser can go
    deepCase("chain", 100_000), // x + x + ... + x: parsed, then too deep to check
    deepCase("ternaries", 500),
    deepCase("calls", 3000),
    deepCase("blocks", 5000),
    deepCase("typeDepth", 5000),
    deepCase("helpers", 30), // 2^30 inlined calls: refused, not attempted
    deepCase("statements", 5000),
    deepCase("tensorChain", 1000),
    deepCase("wideCall", 5000),
    deepCase("longName", 100_000),
  ];
  it("each is compiled or refused with a diagnostic, within the test's time", async () => {
    const outcomes = await runBatch(deep, join(TMP, "deep"), { run: false });
    expect(failures(outcomes)).toEqual([]);
    const byName = new Map(outcomes.map((o) => [o.name, o]));
    // What each should come to, to know the limits stay where they are.
    expect(byName.get("deep-parens-100000-0")!.detail).toMatch(/^GRADC1021/);
    expect(byName.get("deep-chain-100000-0")!.detail).toMatch(/^GRADC1021/);
    expect(byName.get("deep-helpers-30-0")!.detail).toMatch(/^GRADC1023/);
    expect(byName.get("deep-statements-5000-0")!.status).toBe("compiled");
    expect(byName.get("deep-tensorChain-1000-0")!.status).toBe("compiled");
  }, 240_000);
});

describe("regressions found by fuzzing that a verdict alone would not show", () => {
  it("a long elementwise chain is not fused into one expression nested hundreds deep", async () => {
    const outcomes = await runBatch([deepCase("tensorChain", 300)], join(TMP, "fusion"), { run: true });
    expect(failures(outcomes)).toEqual([]);
    const code = compiledCode(join(TMP, "fusion"));
    let depth = 0;
    let deepest = 0;
    for (const ch of code) {
      if (ch === "(") deepest = Math.max(deepest, ++depth);
      else if (ch === ")") depth--;
    }
    // Fused expressions stop at 32 ops (each nests a call or two); unbounded, this was ~600.
    expect(deepest).toBeLessThan(120);
  });
});

/** The generated module of the one program compiled under `dir`. */
function compiledCode(dir: string): string {
  const r = compile(["deep-tensorChain-300-0.ts"], { emit: "js", cwd: dir });
  return r.modules[0]!.code;
}

describe("the judge can fail", () => {
  const diagnostic = { code: "GRADC1001" as const, message: "m", file: "a.ts", line: 2, col: 1, length: 1, lineText: "b" };
  it("rejects diagnostics outside the file or off their line", () => {
    const text = "a\nb\n";
    expect(checkDiagnostic(diagnostic, text, "a.ts")).toBeUndefined();
    expect(checkDiagnostic({ ...diagnostic, line: 9 }, text, "a.ts")).toMatch(/line 9/);
    expect(checkDiagnostic({ ...diagnostic, col: 0 }, text, "a.ts")).toMatch(/column 0/);
    expect(checkDiagnostic({ ...diagnostic, col: 5 }, text, "a.ts")).toMatch(/column 5/);
    expect(checkDiagnostic({ ...diagnostic, lineText: "a" }, text, "a.ts")).toMatch(/lineText/);
    expect(checkDiagnostic({ ...diagnostic, file: "b.ts" }, text, "a.ts")).toMatch(/file/);
    expect(checkDiagnostic({ ...diagnostic, message: "{0} is" }, text, "a.ts")).toMatch(/unfilled/);
  });

  it("rejects modules that do not parse, shadow globals, call eval or export the wrong names", () => {
    const module = (code: string, names = ["g"]): CompiledModule =>
      ({ code, functions: names.map((exportName) => ({ exportName })) }) as unknown as CompiledModule;
    expect(checkModuleText(module("export function g(x) { return x; }"))).toBeUndefined();
    expect(checkModuleText(module("export function g(x) { return x +; }"))).toMatch(/does not parse/);
    expect(checkModuleText(module("export function Math(x) { return x; }", ["Math"]))).toMatch(/shadows/);
    expect(checkModuleText(module("export function g(x) { return eval(x); }"))).toMatch(/eval/);
    expect(checkModuleText(module("export function g(x) { return new Function(x)(); }"))).toMatch(/Function/);
    expect(checkModuleText(module("export function h(x) { return x; }"))).toMatch(/exports/);
  });
});
