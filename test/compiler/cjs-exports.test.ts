// The CommonJS form of a generated module (`.grad.cjs`, and what plugins embed): every binding
// becomes an own property of `exports`, whatever its name, and each line knows its model line.

import { resolve } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { compileSourceFile, createProject } from "../../compiler/program.js";
import { removeTempProjects, tempProject } from "../cli/helpers.js";

afterAll(removeTempProjects);

describe("CommonJS generated modules", () => {
  it("exports plain and prototype-like names as own properties", () => {
    const source = `import { grad } from "gradc";

export function f(x: number): number {
  return x * x * 3;
}

export const df = grad(f);
export const __proto__ = grad(f);
const d2 = grad(f);
`;
    const dir = tempProject({ "m.ts": source });
    const path = resolve(dir, "m.ts");
    const { project, rootDir } = createProject([path], { cwd: dir });
    const { module, diagnostics } = compileSourceFile(project.getSourceFileOrThrow(path), rootDir, { cwd: dir, emit: "js", module: "cjs" }, dir);
    expect(diagnostics).toEqual([]);
    expect(module!.code).not.toMatch(/^export /m);
    const exports: Record<string, unknown> = {};
    new Function("exports", module!.code)(exports);
    expect(Object.getPrototypeOf(exports)).toBe(Object.prototype);
    const names = Object.getOwnPropertyNames(exports).sort();
    // Every top-level binding is compiled, exported or not (as in a .grad.js).
    expect(names).toEqual(["__proto__", "d2", "df"]);
    // f'(x) = 6x, by hand.
    for (const name of names) expect((exports[name] as (x: number) => number)(2)).toBe(12);
    // One location per line; the lines of f's body point at line 4 of m.ts.
    const lines = module!.code.replace(/\n$/, "").split("\n");
    expect(module!.lines).toHaveLength(lines.length);
    const body = lines.findIndex((l) => /\* 3|3 \*/.test(l) && !l.startsWith("//"));
    expect(module!.lines[body]).toMatchObject({ file: "m.ts", line: 4 });
  });
});
