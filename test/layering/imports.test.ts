// The folder-level import graph of compiler/ and runtime/: the layering docs/architecture.md
// describes, checked on the source. A folder is a directory of .ts files (compiler/ itself holds
// the driver: program.ts, incremental.ts, source maps); an edge A → B means some file of A
// imports some file of B. `compiler/index.ts`, the package's `gradc/compiler` entry, is a node
// of its own: a façade that re-exports every layer and that no layer imports.

import { readFileSync, readdirSync, statSync } from "node:fs";
import { dirname, join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

const root = join(dirname(fileURLToPath(import.meta.url)), "../..");

interface Import {
  readonly from: string;
  /** A repository path (`compiler/ir/types.ts`) for relative imports, else the package name. */
  readonly to: string;
  readonly relative: boolean;
}

function sourceFiles(dir: string): string[] {
  return readdirSync(join(root, dir)).flatMap((name) => {
    const path = `${dir}/${name}`;
    if (statSync(join(root, path)).isDirectory()) return sourceFiles(path);
    return name.endsWith(".ts") && !name.endsWith(".d.ts") ? [path] : [];
  });
}

/** Import specifiers of one file: static imports and re-exports, side-effect imports, `import()`. */
function importsOf(file: string): Import[] {
  // Comments may quote imports; only code counts.
  const source = readFileSync(join(root, file), "utf8")
    .replace(/\/\*[\s\S]*?\*\//g, "")
    .replace(/^\s*\/\/.*$/gm, "");
  const out: Import[] = [];
  const pattern = /^\s*(?:import|export)\b[^"';]*?\bfrom\s*"([^"]+)"|^\s*import\s*"([^"]+)"|\bimport\s*\(\s*"([^"]+)"\s*\)/gm;
  for (const m of source.matchAll(pattern)) {
    const spec = m[1] ?? m[2] ?? m[3]!;
    if (!spec.startsWith(".")) {
      out.push({ from: file, to: spec, relative: false });
      continue;
    }
    const target = relative(root, join(root, dirname(file), spec)).replace(/\.js$/, ".ts");
    out.push({ from: file, to: target, relative: true });
  }
  return out;
}

const files = [...sourceFiles("compiler"), ...sourceFiles("runtime")];
const imports = files.flatMap(importsOf);
const ENTRY = "compiler/index.ts";
const folder = (file: string): string => (file === ENTRY ? ENTRY : dirname(file));

/** The folder graph, with one file-level import as the witness of each edge. */
function folderGraph(): Map<string, Map<string, string>> {
  const graph = new Map<string, Map<string, string>>();
  for (const i of imports) {
    if (!i.relative) continue;
    const [a, b] = [folder(i.from), folder(i.to)];
    if (a === b) continue;
    if (!graph.has(a)) graph.set(a, new Map());
    if (!graph.get(a)!.has(b)) graph.get(a)!.set(b, `${i.from} → ${i.to}`);
  }
  return graph;
}

/** Every cycle found by a depth-first search, as its list of witnessing imports. */
function cycles(graph: Map<string, Map<string, string>>): string[][] {
  const found: string[][] = [];
  const state = new Map<string, "open" | "done">();
  const stack: string[] = [];
  const visit = (n: string): void => {
    state.set(n, "open");
    stack.push(n);
    for (const m of graph.get(n)?.keys() ?? []) {
      if (state.get(m) === "open") {
        const loop = [...stack.slice(stack.indexOf(m)), m];
        found.push(loop.slice(1).map((x, k) => graph.get(loop[k]!)!.get(x)!));
      } else if (!state.has(m)) visit(m);
    }
    stack.pop();
    state.set(n, "done");
  };
  for (const n of [...graph.keys()].sort()) if (!state.has(n)) visit(n);
  return found;
}

/** The files `start`'s imports reach, transitively (relative imports only). */
function closure(start: readonly string[]): Set<string> {
  const seen = new Set<string>();
  const byFile = new Map<string, Import[]>();
  for (const i of imports) byFile.set(i.from, [...(byFile.get(i.from) ?? []), i]);
  const visit = (f: string): void => {
    if (seen.has(f)) return;
    seen.add(f);
    for (const i of byFile.get(f) ?? []) if (i.relative) visit(i.to);
  };
  start.forEach(visit);
  return seen;
}

describe("the folder-level import graph", () => {
  it("sees the imports of every folder (the scan works)", () => {
    const graph = folderGraph();
    expect(graph.get("compiler/codegen")?.has("compiler/ir")).toBe(true);
    expect(graph.get("runtime")?.has("compiler/ops")).toBe(true);
    expect(cycles(new Map([["a", new Map([["b", "a/x → b/y"]])], ["b", new Map([["a", "b/y → a/x"]])]]))).toEqual([["a/x → b/y", "b/y → a/x"]]);
  });

  it("has no cycles between folders of compiler/ and runtime/", () => {
    expect(imports.filter((i) => i.to === ENTRY)).toEqual([]);
    expect(cycles(folderGraph())).toEqual([]);
  });

  it("keeps the IR free of the op registry and of the frontend", () => {
    const bad = imports.filter((i) => i.from.startsWith("compiler/ir/") && /^compiler\/(ops|frontend|passes|codegen)\//.test(i.to));
    expect(bad).toEqual([]);
  });

  it("lets codegen see IR, not the frontend", () => {
    const bad = imports.filter((i) => i.from.startsWith("compiler/codegen/") && i.to.startsWith("compiler/frontend/"));
    expect(bad).toEqual([]);
  });

  it("never has runtime/ load TypeScript, ts-morph or esbuild, directly or through what it imports", () => {
    const reached = closure(files.filter((f) => f.startsWith("runtime/")));
    const bad = imports.filter((i) => reached.has(i.from) && !i.relative && /^(typescript|ts-morph|@ts-morph\/|esbuild)/.test(i.to));
    expect(bad).toEqual([]);
    // And it reaches no compiler folder that does (the frontend, the CLI, the plugins).
    expect([...reached].filter((f) => /^compiler\/(frontend|cli|esbuild|plugin|codegen|passes)\//.test(f))).toEqual([]);
  });
});

describe("GradcError", () => {
  it("is defined once, in runtime/error-source.ts, and every copy is made from that text", async () => {
    const defining = files.filter((f) => /class GradcError\b/.test(readFileSync(join(root, f), "utf8")));
    expect(defining).toEqual(["runtime/error-source.ts"]);
    const { GRADC_ERROR_CLASS } = await import("../../runtime/error-source.js");
    const { argumentHelpers } = await import("../../compiler/codegen/checks.js");
    const { gradcErrorPrelude } = await import("../../runtime/error.js");
    expect(argumentHelpers(false)).toContain(GRADC_ERROR_CLASS);
    expect(gradcErrorPrelude()).toContain(GRADC_ERROR_CLASS.replace(/\n\s*/g, " "));
  });

  it("has a source text that is the runtime's class, which is code (no eval, so a strict Content-Security-Policy allows it)", async () => {
    const { GRADC_ERROR_CLASS, GradcErrorClass } = await import("../../runtime/error-source.js");
    const { GradcError } = await import("../../runtime/error.js");
    const words = (s: string): string => s.replace(/\s+/g, " ").replace(/;/g, "").trim();
    expect(words(String(GradcErrorClass))).toBe(words(GRADC_ERROR_CLASS));
    expect(GradcError).toBe(GradcErrorClass);
    expect(new GradcError("m").name).toBe("GradcError");
    expect(readFileSync(join(root, "runtime/error.ts"), "utf8")).not.toMatch(/new Function|eval\(/);
  });
});
