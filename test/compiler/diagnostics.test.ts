// Every diagnostic the compiler can give user source has an error fixture, and on every one of
// them the compiler answers with diagnostics, never an exception, at positions inside the file.

import { readFileSync } from "node:fs";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { MESSAGES, type DiagnosticCode } from "../../compiler/diagnostics/messages.js";
import { type FixtureResult, FIXTURES, compileFixtures, fixtureNames, isErrorCase } from "../helpers/fixtures.js";
import { compile } from "../../compiler/program.js";

/** Codes no user source can produce through `compile`, each with the reason. */
const UNREACHABLE: Partial<Record<DiagnosticCode, string>> = {
  GRADC1026: "no option is waiting for compiler support any more (reuse and hasAux, the last ones, are compiled); the code stays reserved",
  GRADC1031: "reverse mode over the backward pass of a while loop (grad of grad through a while) compiles now; the code stays reserved",
};

/** What each error fixture shows ("mixed": several unsupported constructs, one per binding). */
const FIXTURE_CODES: Record<string, DiagnosticCode | "mixed"> = {
  "error-syntax": "GRADC1000",
  "error-unsupported-statement": "GRADC1001",
  "error-unsupported-constructs": "mixed",
  "error-while-loop": "GRADC1034",
  "error-unknown-function": "GRADC1003",
  "error-parameter-mutation": "GRADC1004",
  "error-non-number-return": "GRADC1005",
  "error-bad-parameter-type": "GRADC1006",
  "error-variadic-tuple": "GRADC1006",
  "error-loop-bound": "GRADC1007",
  "error-grad-argument": "GRADC1008",
  "error-gradc-function-as-model": "GRADC1008",
  "error-argnums": "GRADC1009",
  "error-recursion": "GRADC1010",
  "error-undefined-variable": "GRADC1011",
  "error-missing-return": "GRADC1012",
  "error-unsupported-operator": "GRADC1013",
  "error-non-constant-index": "GRADC1014",
  "error-math-function": "GRADC1015",
  "error-break": "GRADC1016",
  "error-break-nested-function": "GRADC1016",
  "error-branch-structure": "GRADC1017",
  "error-return-in-loop": "GRADC1018",
  "error-argument-count": "GRADC1019",
  "error-missing-property": "GRADC1020",
  "error-nested-too-deeply": "GRADC1021",
  "error-destructured-binding": "GRADC1022",
  "error-function-too-large": "GRADC1023",
  "error-nested-transform": "mixed",
  "error-broadcast": "GRADC2001",
  "error-matmul-shape": "GRADC2002",
  "error-axis": "GRADC2003",
  "error-reshape": "GRADC2004",
  "error-condition-type": "GRADC2005",
  "error-branch-dtypes": "GRADC2005",
  "error-tensor-dimensions": "GRADC2005",
  "error-i32-argnums": "GRADC2009",
  "error-i32-arithmetic": "GRADC2005",
  "error-take-indices": "GRADC2005",
  "error-take-along-shape": "GRADC2005",
  "error-cross-entropy-labels": "GRADC2005",
  "error-argmax-rank": "GRADC2005",
  "error-nested-i32": "GRADC1032",
  "error-unknown-transform": "GRADC1024",
  "error-unknown-option": "GRADC1025",
  "error-has-aux": "mixed",
  "error-operator-on-tensor": "GRADC1027",
  "error-gradc-function-in-model": "GRADC1028",
  "error-unsupported-method": "mixed",
  "error-symbolic-loop-bound": "GRADC1030",
  "error-switch-fallthrough": "GRADC1050",
  "error-switch-break": "GRADC1050",
  "error-switch-label": "GRADC1050",
  "error-index-out-of-range": "GRADC2006",
  "error-reshape-infer": "GRADC2004",
  "error-for-of-tensor": "GRADC1001",
  "error-shared-model": "GRADC1002",
  "error-every-error": "mixed",
  "error-conv-pool-shapes": "mixed",
  "error-structure-shapes": "mixed",
};

const errorCases = fixtureNames().filter(isErrorCase);
let results: Map<string, FixtureResult>;

beforeAll(() => {
  results = compileFixtures(errorCases);
});

describe("diagnostic coverage", () => {
  it("every code in MESSAGES appears in some error fixture's errors.txt, or is listed as unreachable", () => {
    const covered = new Set<string>();
    for (const name of errorCases) {
      const text = readFileSync(join(FIXTURES, name, "errors.txt"), "utf8");
      for (const m of text.matchAll(/error (GRADC\d{4}):/g)) covered.add(m[1]!);
    }
    // A file that cannot be read is named by the caller, not by source text: compile it directly.
    const unreadable = compile(["no-such-model.ts"], { cwd: FIXTURES });
    expect(unreadable.modules).toEqual([]);
    expect(unreadable.diagnostics.map((d) => `${d.file}(${d.line},${d.col}): ${d.code}`)).toEqual(["no-such-model.ts(1,1): GRADC3001"]);
    covered.add("GRADC3001");
    const missing = Object.keys(MESSAGES).filter((code) => !covered.has(code) && !(code in UNREACHABLE));
    expect(missing, "codes without an error fixture: add test/fixtures/error-<name>/").toEqual([]);
    // An unreachable code that a fixture reaches is not unreachable: take it off the list.
    expect(Object.keys(UNREACHABLE).filter((code) => covered.has(code))).toEqual([]);
    expect(Object.keys(UNREACHABLE).every((code) => code in MESSAGES)).toBe(true);
  });

  it("each error fixture reports the code its name stands for, on every binding", () => {
    expect(Object.keys(FIXTURE_CODES).sort()).toEqual(errorCases);
    for (const name of errorCases) {
      const want = FIXTURE_CODES[name];
      if (want === "mixed") continue;
      expect(results.get(name)!.diagnostics.map((d) => d.code), name).toEqual(results.get(name)!.diagnostics.map(() => want));
    }
  });
});

describe("the compiler never throws on user code", () => {
  it.each(errorCases)("%s: diagnostics with valid positions, no module", (name) => {
    const r = results.get(name)!;
    expect(r.module).toBeUndefined();
    expect(r.diagnostics.length).toBeGreaterThan(0);
    const lines = readFileSync(join(r.dir, "input.ts"), "utf8").split("\n");
    for (const d of r.diagnostics) {
      const where = `${d.code} at ${d.line}:${d.col}`;
      expect(d.file, where).toBe("input.ts");
      expect(d.code in MESSAGES, where).toBe(true);
      expect(d.message, where).not.toMatch(/\{\d\}/);
      expect(Number.isInteger(d.line) && d.line >= 1 && d.line <= lines.length, where).toBe(true);
      const lineText = lines[d.line - 1]!.replace(/\r$/, "");
      expect(d.lineText, where).toBe(lineText);
      // A column on the line (one past the end for a missing token at the end of a line).
      expect(Number.isInteger(d.col) && d.col >= 1 && d.col <= lineText.length + 1, where).toBe(true);
      expect(d.length, where).toBeGreaterThanOrEqual(1);
    }
  });
});

describe("every error once", () => {
  it("a mistake in a model shared by two bindings is reported once", () => {
    const r = results.get("error-shared-model")!;
    expect(r.diagnostics.map((d) => `${d.line}:${d.col} ${d.code}`)).toEqual(["5:3 GRADC1002"]);
  });

  it("every error of a function is reported, in source order, without follow-on errors", () => {
    const r = results.get("error-every-error")!;
    expect(r.diagnostics.map((d) => `${d.line}:${d.col} ${d.code}`)).toEqual(["6:13 GRADC1027", "9:5 GRADC1050", "15:3 GRADC1002", "16:11 GRADC1011"]);
  });

  it("a function with more errors than the cap reports the first MAX_ERRORS", async () => {
    const { MAX_ERRORS } = await import("../../compiler/frontend/errors.js");
    const { mkdtempSync, writeFileSync } = await import("node:fs");
    const { tmpdir } = await import("node:os");
    const dir = mkdtempSync(join(tmpdir(), "gradc-cap-"));
    const lines = Array.from({ length: MAX_ERRORS + 10 }, (_x, i) => `  const v${i} = undefinedName${i};`);
    writeFileSync(join(dir, "model.ts"), ['import { grad } from "gradc";', "export function f(x: number): number {", ...lines, "  return x;", "}", "export const df = grad(f);", ""].join("\n"));
    const r = compile(["model.ts"], { cwd: dir });
    expect(r.diagnostics.map((d) => d.code)).toEqual(Array.from({ length: MAX_ERRORS }, () => "GRADC1011"));
    expect(r.diagnostics[0]!.line).toBe(3);
  });
});

describe("compile-time index errors use the eager op's words", () => {
  it("at(x, 7) on Tensor<[5]>: the same text as the error eager at throws", async () => {
    const { at, zeros } = await import("../../runtime/index.js");
    const messages = results.get("error-index-out-of-range")!.diagnostics.map((d) => d.message);
    for (const [i, line] of [[7, 0], [-1, 1], [1.5, 2]] as const) {
      let eager = "";
      try {
        at(zeros([5]), i);
      } catch (e) {
        eager = (e as Error).message;
      }
      expect(eager).toMatch(/^at: /);
      expect(messages[line]).toContain(eager);
    }
  });
});
