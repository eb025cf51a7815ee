// Projects of one process share parsed files (compiler/parsed-files.ts): a file with the same
// path, text and options is parsed once, and a changed file is parsed again.

import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it, vi } from "vitest";
import { compile, createProject } from "../../compiler/program.js";

vi.mock("gradc", () => import("../../runtime/index.js"));

const DIR = join(__dirname, "..", ".tmp", "parsed-files");
const model = (k: number) => `import { grad } from "gradc";
export function f(x: number): number {
  return ${k} * x * x;
}
export const df = grad(f);
`;

describe("parsed files shared between projects", () => {
  it("a second project takes the libraries and unchanged files the first one parsed", () => {
    mkdirSync(DIR, { recursive: true });
    const file = join(DIR, "same.ts");
    writeFileSync(file, model(3));
    const a = createProject([file]).project;
    const b = createProject([file]).project;
    const lib = (p: typeof a) => p.getProgram().compilerObject.getSourceFiles().find((sf) => sf.fileName.endsWith("lib.es5.d.ts"));
    expect(lib(a)).toBeDefined();
    expect(lib(b)).toBe(lib(a));
    expect(b.getSourceFileOrThrow(file).compilerNode).toBe(a.getSourceFileOrThrow(file).compilerNode);
  });

  it("compile() sees a file changed on disk since the last compile", async () => {
    mkdirSync(DIR, { recursive: true });
    const file = join(DIR, "edited.ts");
    const derivative = async (k: number): Promise<number> => {
      writeFileSync(file, model(k));
      const r = compile([file], { emit: "js" });
      expect(r.diagnostics).toEqual([]);
      const out = join(DIR, `edited-${k}.mjs`);
      writeFileSync(out, r.modules[0]!.code);
      return ((await import(out)) as { df: (x: number) => number }).df(2);
    };
    // d/dx k·x² at 2 is 4k: each compile must read the file as it is now.
    expect(await derivative(3)).toBe(12);
    expect(await derivative(5)).toBe(20);
    expect(await derivative(3)).toBe(12);
  });

  it("an edit in one project leaves the file other projects share as it was", () => {
    mkdirSync(DIR, { recursive: true });
    const file = join(DIR, "kept.ts");
    writeFileSync(file, model(7));
    const a = createProject([file]).project;
    const before = a.getSourceFileOrThrow(file).compilerNode;
    const b = createProject([file]).project;
    b.createSourceFile(file, model(9), { overwrite: true });
    expect(b.getSourceFileOrThrow(file).getFullText()).toBe(model(9));
    expect(a.getSourceFileOrThrow(file).compilerNode).toBe(before);
    expect(before.text).toBe(model(7));
    expect(createProject([file]).project.getSourceFileOrThrow(file).compilerNode).toBe(before);
  });
});
