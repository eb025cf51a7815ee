// The plugins never compile gradc's own package files. In this repository, or with gradc linked
// into a project (npm link, workspaces: node_modules/gradc is a symlink, and bundlers follow it
// to the real path), the runtime and dist/ modules are reached outside node_modules, and their
// text mentions "gradc"; compiling one would put a JavaScript file into the program (allowJs)
// and make every later rebuild a rebuild of the whole program.

import { readFileSync, realpathSync } from "node:fs";
import { join, resolve } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { GradcCore, MENTIONS_GRADC, modulePath } from "../../compiler/plugin/core.js";
import { removeTempProjects, tempProject } from "../cli/helpers.js";

afterAll(removeTempProjects);

const ROOT = resolve(import.meta.dirname, "../..");
const DIST_RUNTIME = join(ROOT, "dist", "runtime", "index.js");

const MODEL = `import { grad } from "gradc";\n\nexport function f(x: number): number {\n  return x * x * 3;\n}\n\nexport const df = grad(f);\n`;

describe("gradc's own files", () => {
  it("are outside every plugin's path filter: dist/ and the runtime, but not the user's files", () => {
    expect(MENTIONS_GRADC.test(readFileSync(DIST_RUNTIME, "utf8"))).toBe(true);
    expect(modulePath(DIST_RUNTIME)).toBeUndefined();
    expect(modulePath(`${join(ROOT, "dist", "compiler", "plugin", "core.js")}?v=3`)).toBeUndefined();
    expect(modulePath(join(ROOT, "runtime", "index.ts"))).toBeUndefined();
    // The repository's own examples and tests are user code.
    expect(modulePath(join(ROOT, "examples", "fxyz.ts"))).toBe(join(ROOT, "examples", "fxyz.ts"));
    const dir = tempProject({ "model.ts": MODEL });
    expect(modulePath(join(dir, "model.ts"))).toBe(join(dir, "model.ts"));
  });

  it("reached through a linked gradc, are left alone and keep JavaScript out of the program", () => {
    // node_modules/gradc → this repository, as `npm link gradc` makes it.
    const dir = tempProject({ "model.ts": MODEL }, ROOT);
    const core = new GradcCore({}, dir);
    const model = join(dir, "model.ts");
    const compiled = core.transform(MODEL, model);
    expect(compiled.kind).toBe("compiled");
    // What a bundler loads for `import … from "gradc"` in the linked project: the real path.
    const runtime = realpathSync(join(dir, "node_modules", "gradc", "dist", "runtime", "index.js"));
    expect(runtime).toBe(DIST_RUNTIME);
    expect(core.transform(readFileSync(runtime, "utf8"), runtime)).toEqual({ kind: "unchanged" });
    const compiler = core["compiler"]!;
    expect(compiler.sourceFiles()).not.toContain(runtime);
    expect(compiler.project.getCompilerOptions().allowJs).not.toBe(true);
    // An edit of the model afterwards still compiles it.
    const edited = core.transform(MODEL.replace("x * x * 3", "x * x * 5"), model);
    expect(edited.kind === "compiled" && edited.code.includes("5")).toBe(true);
  });
});
