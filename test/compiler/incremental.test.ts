// The incremental compiler (compiler/incremental.ts): an edit recompiles the edited file and
// the files that import it, and nothing else; what it generates is what a fresh `compile` of
// the same files generates.

import { mkdtempSync, rmSync, unlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { createIncrementalCompiler } from "../../compiler/incremental.js";
import { compile } from "../../compiler/program.js";

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

/** A folder with a helper, a model that imports it, and an unrelated model. */
function project(): { dir: string; helper: string; model: string; other: string } {
  const dir = mkdtempSync(join(tmpdir(), "gradc-incremental-"));
  dirs.push(dir);
  const helper = join(dir, "helper.ts");
  const model = join(dir, "model.ts");
  const other = join(dir, "other.ts");
  writeFileSync(helper, helperSource(2));
  writeFileSync(
    model,
    `import { grad } from "gradc";\nimport { twice } from "./helper.js";\n\nexport function f(x: number): number {\n  return twice(x) * x;\n}\n\nexport const df = grad(f);\n`,
  );
  writeFileSync(other, otherSource(3));
  return { dir, helper, model, other };
}

const helperSource = (k: number): string => `export function twice(x: number): number {\n  return ${k} * x;\n}\n`;
const otherSource = (k: number): string =>
  `import { grad } from "gradc";\n\nexport function g(y: number): number {\n  return Math.sin(y) * ${k};\n}\n\nexport const dg = grad(g);\n`;

/** The generated code of `file` by a fresh, non-incremental compile. */
function fresh(file: string, cwd: string): string {
  const result = compile([file], { cwd, emit: "js" });
  expect(result.diagnostics).toEqual([]);
  return result.modules[0]!.code;
}

describe("IncrementalCompiler", () => {
  it("keeps a result until an edit affects it, and generates what compile() generates", () => {
    const { dir, model, other } = project();
    const c = createIncrementalCompiler({ cwd: dir, files: [model, other], emit: "js" });
    const first = c.compileFile(model);
    expect(first.fresh).toBe(true);
    expect(first.diagnostics).toEqual([]);
    expect(first.module!.code).toBe(fresh(model, dir));
    const again = c.compileFile(model);
    expect(again.fresh).toBe(false);
    expect(again.module).toBe(first.module);
    expect(c.compileFile(other).module!.code).toBe(fresh(other, dir));
  });

  it("an edit of a helper recompiles its importers only", () => {
    const { dir, helper, model, other } = project();
    const c = createIncrementalCompiler({ cwd: dir, files: [model, other], emit: "js" });
    const before = c.compileFile(model).module!.code;
    const otherBefore = c.compileFile(other).module;
    expect(c.affectedBy(helper).sort()).toEqual([helper, model].sort());

    writeFileSync(helper, helperSource(5));
    const outcomes = c.update(helper);
    expect(outcomes.map((o) => o.file)).toEqual([model]);
    expect(outcomes[0]!.fresh).toBe(true);
    const after = outcomes[0]!.module!.code;
    expect(after).not.toBe(before);
    expect(after).toBe(fresh(model, dir));
    // The unrelated model kept its result.
    const otherAfter = c.compileFile(other);
    expect(otherAfter.fresh).toBe(false);
    expect(otherAfter.module).toBe(otherBefore);
  });

  it("takes a bundler's text for a file, and treats a different text as an edit", () => {
    const { dir, other } = project();
    const c = createIncrementalCompiler({ cwd: dir, files: [other], emit: "js" });
    const a = c.compileFile(other, otherSource(3));
    expect(c.compileFile(other, otherSource(3)).fresh).toBe(false);
    const b = c.compileFile(other, otherSource(7));
    expect(b.fresh).toBe(true);
    expect(b.module!.code).not.toBe(a.module!.code);
    writeFileSync(other, otherSource(7));
    expect(b.module!.code).toBe(fresh(other, dir));
    // The same text again is no edit.
    expect(c.update(other, otherSource(7))).toEqual([]);
  });

  it("reports diagnostics after a bad edit and clears them after the fix", () => {
    const { dir, other } = project();
    const c = createIncrementalCompiler({ cwd: dir, files: [other], emit: "js" });
    expect(c.compileFile(other).diagnostics).toEqual([]);
    const [broken] = c.update(other, otherSource(3).replace("Math.sin(y)", "Math.sin(y"));
    expect(broken!.module).toBeUndefined();
    expect(broken!.diagnostics.map((d) => d.code)).toContain("GRADC1000");
    expect(broken!.diagnostics[0]!.line).toBe(4);
    const [fixed] = c.update(other, otherSource(3));
    expect(fixed!.diagnostics).toEqual([]);
    expect(fixed!.module).toBeDefined();
  });

  it("an edit invalidates every file importing it through a chain (re-exports too), and no other", () => {
    const { dir, helper, model, other } = project();
    // top → mid (export * from "./model.js") → model → helper; other is unrelated.
    const mid = join(dir, "mid.ts");
    const top = join(dir, "top.ts");
    writeFileSync(mid, `export * from "./model.js";\n`);
    writeFileSync(top, `import { df } from "./mid.js";\nexport const d = df;\n`);
    const c = createIncrementalCompiler({ cwd: dir, files: [top, other], emit: "js" });
    c.compileFile(model);
    c.compileFile(other);
    expect(c.affectedBy(helper).sort()).toEqual([helper, model, mid, top].sort());
    expect(c.affectedBy(model).sort()).toEqual([model, mid, top].sort());
    expect(c.affectedBy(other)).toEqual([other]);
    // An edit of the helper drops the model's result (an importer two steps away would too).
    expect(c.invalidate(helper, helperSource(9))).toEqual([model]);
    expect(c.compileFile(other).fresh).toBe(false);
    const recompiled = c.compileFile(model);
    expect(recompiled.fresh).toBe(true);
    expect(recompiled.module!.code).toContain("9");
  });

  it("an import added by an edit makes the edited file an importer; a removed one, no longer after the next edit", () => {
    const { dir, helper, other } = project();
    const c = createIncrementalCompiler({ cwd: dir, files: [other, helper], emit: "js" });
    c.compileFile(other);
    expect(c.affectedBy(helper)).toEqual([helper]);
    // The edit adds `import { twice } from "./helper.js"` to other.ts.
    const withImport = `import { twice } from "./helper.js";\n${otherSource(3).replace("Math.sin(y) * 3", "Math.sin(twice(y))")}`;
    expect(c.invalidate(other, withImport)).toEqual([other]);
    expect(c.affectedBy(helper).sort()).toEqual([helper, other].sort());
    const compiled = c.compileFile(other);
    expect(compiled.diagnostics).toEqual([]);
    // Now a helper edit reaches other.ts.
    expect(c.invalidate(helper, helperSource(4))).toEqual([other]);
    c.compileFile(other);
    // The import removed again: the helper edit of this same step still drops other.ts
    // (importers before the edit count), the next one no longer does.
    expect(c.invalidate(other, otherSource(3))).toEqual([other]);
    c.compileFile(other);
    expect(c.affectedBy(helper)).toEqual([helper]);
    expect(c.invalidate(helper, helperSource(6))).toEqual([]);
  });

  it("a file created after a failed import joins the importer chain", () => {
    const { dir, other } = project();
    const late = join(dir, "late.ts");
    const importsLate = `import { twice } from "./late.js";\n${otherSource(3).replace("Math.sin(y) * 3", "twice(y)")}`;
    const c = createIncrementalCompiler({ cwd: dir, files: [other], emit: "js" });
    c.compileFile(other, importsLate);
    expect(c.affectedBy(late)).toEqual([late]);
    writeFileSync(late, helperSource(2));
    // Its import now resolves: the importer's result (a diagnostic) is stale.
    expect(c.invalidate(late)).toEqual([other]);
    expect(c.affectedBy(late).sort()).toEqual([late, other].sort());
  });

  it("a deleted file leaves the program", () => {
    const { dir, model, other } = project();
    const c = createIncrementalCompiler({ cwd: dir, files: [model, other], emit: "js" });
    c.compileFile(other);
    unlinkSync(other);
    expect(c.update(other)).toEqual([]);
    expect(c.sourceFiles()).not.toContain(other);
  });
});
