// The esbuild plugin (SPEC.md section 6): `esbuild.build({ plugins: [gradc()] })` compiles every
// `grad(...)`/`valueAndGrad(...)` binding of the bundle in place, so the output contains the
// generated code and none of the runtime's tape.
//
// How a file is rewritten, keeping every line where it was (so esbuild's messages and source
// maps still point at the user's lines):
//   export const neuronGrad = valueAndGrad(neuron, { argnums: [0, 1] });
// becomes
//   export const neuronGrad = $gradc$module().neuronGrad;
// and the generated module is appended at the end of the file inside a hoisted function
// declaration, `function $gradc$module() { ...generated code...; return { neuronGrad }; }`,
// which runs once, on first use: a top-level call of `neuronGrad` before the end of the file
// works, and nothing is shifted. The import of `grad`/`valueAndGrad` is removed when nothing
// else uses it, so the runtime (and its tape) is not pulled into the bundle. This works the
// same with `bundle: true` and without.

import { readFileSync } from "node:fs";
import { dirname, extname, resolve } from "node:path";
import type { Loader, OnLoadResult, PartialMessage, Plugin } from "esbuild";
import { type Project, type SourceFile, SyntaxKind } from "ts-morph";
import type { Diagnostic } from "../diagnostics/diagnostic.js";
import { type GradBinding, findGradBindings, unknownTransforms } from "../frontend/discover.js";
import { type CompiledModule, compileSourceFile, createProject, displayPath } from "../program.js";

/** Options of `gradc()`. */
export interface GradcPluginOptions {
  /** The tsconfig.json whose compiler options type the program (default: the nearest one above the first file). */
  readonly project?: string;
  /** Run the IR verifier after every compiler pass (slower; for debugging gradc). */
  readonly verify?: boolean;
}

/** An esbuild message for a gradc diagnostic: `GRADC1002: message` at its location (0-based column). */
export function toEsbuildMessage(d: Diagnostic): PartialMessage {
  return {
    text: `${d.code}: ${d.message}`,
    location: { file: d.file, line: d.line, column: d.col - 1, length: d.length, lineText: d.lineText },
  };
}

const LOADERS: Record<string, Loader> = {
  ".ts": "ts",
  ".mts": "ts",
  ".cts": "ts",
  ".tsx": "tsx",
  ".jsx": "jsx",
  ".js": "js",
  ".mjs": "js",
  ".cjs": "js",
};

/** Cheap pre-filter: only files that mention the "gradc" module reach the TypeScript compiler. */
const MENTIONS_GRADC = /["']gradc["']/;

interface Edit {
  readonly start: number;
  readonly end: number;
  readonly text: string;
}

/** A replacement that keeps as many line breaks as the text it replaces, so lines do not move. */
function edit(text: string, start: number, end: number, replacement: string): Edit {
  const lines = (text.slice(start, end).match(/\n/g) ?? []).length;
  return { start, end, text: replacement + "\n".repeat(Math.max(0, lines - (replacement.match(/\n/g) ?? []).length)) };
}

function applyEdits(text: string, edits: readonly Edit[]): string {
  let out = text;
  for (const e of [...edits].sort((a, b) => b.start - a.start)) out = out.slice(0, e.start) + e.text + out.slice(e.end);
  return out;
}

/** A name not used anywhere in `text`. */
function freshName(text: string, base: string): string {
  let name = base;
  for (let k = 1; text.includes(name); k++) name = `${base}${k}`;
  return name;
}

/**
 * Removes the `grad`/`valueAndGrad` import specifiers whose every use was one of the replaced
 * calls; an import left with nothing is removed whole.
 */
function importEdits(sf: SourceFile, text: string, replaced: readonly Edit[]): Edit[] {
  const inReplaced = (pos: number): boolean => replaced.some((r) => pos >= r.start && pos < r.end);
  const usedElsewhere = (local: string): boolean =>
    sf
      .getDescendantsOfKind(SyntaxKind.Identifier)
      .some((id) => id.getText() === local && !inReplaced(id.getStart()) && !id.getFirstAncestorByKind(SyntaxKind.ImportDeclaration));
  const edits: Edit[] = [];
  for (const imp of sf.getImportDeclarations()) {
    if (imp.getModuleSpecifierValue() !== "gradc") continue;
    const named = imp.getNamedImports();
    const drop = named.filter((s) => {
      const imported = s.getName();
      const local = s.getAliasNode()?.getText() ?? imported;
      return (imported === "grad" || imported === "valueAndGrad" || imported === "jvp") && !s.isTypeOnly() && !usedElsewhere(local);
    });
    if (drop.length === 0) continue;
    const keep = named.filter((s) => !drop.includes(s));
    if (keep.length === 0 && !imp.getDefaultImport() && !imp.getNamespaceImport()) {
      edits.push(edit(text, imp.getStart(), imp.getEnd(), ""));
      continue;
    }
    const clause = imp.getImportClauseOrThrow().getNamedBindingsOrThrow();
    edits.push(edit(text, clause.getStart(), clause.getEnd(), keep.length > 0 ? `{ ${keep.map((s) => s.getText()).join(", ")} }` : ""));
    if (keep.length === 0) {
      // `import def, { grad } from "gradc"`: drop the comma before the braces too.
      const comma = text.lastIndexOf(",", clause.getStart());
      edits[edits.length - 1] = edit(text, comma, clause.getEnd(), "");
    }
  }
  return edits;
}

/** The generated module as a lazily-run, hoisted function returning its exports. */
function embeddedModule(module: CompiledModule, wrapper: string): string {
  const names = module.functions.map((f) => f.exportName);
  // Functions declared under a name of the generator's and exported under the binding's.
  const aliases = new Map<string, string>();
  const body = module.code
    .replace(/^export \{ (\S+) as (\S+) \};\n/gm, (_line, local: string, name: string) => {
      aliases.set(name, local);
      return "";
    })
    .replace(/^export (?=(async )?function |const |let |class )/gm, "");
  if (/^export\b/m.test(body)) throw new Error(`gradc esbuild plugin: cannot embed the generated module for ${module.sourceFile}`);
  const indented = body.trimEnd().replace(/^(?=.)/gm, "  ");
  return [
    "",
    `// gradc: the compiled ${names.join(", ")}, generated from this file's source (runs once, on first use).`,
    `function ${wrapper}() {`,
    `  if (${wrapper}.exports) return ${wrapper}.exports;`,
    indented,
    `  return (${wrapper}.exports = { ${names.map((n) => (aliases.has(n) ? `${n}: ${aliases.get(n)}` : n)).join(", ")} });`,
    "}",
    "",
  ].join("\n");
}

/** The file's text with each grad binding's initializer replaced by its compiled function. */
export function rewriteSource(sf: SourceFile, module: CompiledModule): string {
  const text = sf.getFullText();
  const bindings: GradBinding[] = findGradBindings(sf);
  const wrapper = freshName(text, "$gradc$module");
  const calls = bindings.map((b) => edit(text, b.call.getStart(), b.call.getEnd(), `${wrapper}().${b.exportName}`));
  const imports = importEdits(sf, text, calls);
  return applyEdits(text, [...calls, ...imports]) + embeddedModule(module, wrapper);
}

/**
 * The gradc esbuild plugin.
 *
 * @example
 * import { build } from "esbuild";
 * import { gradc } from "gradc/esbuild";
 * await build({ entryPoints: ["train.ts"], bundle: true, outfile: "out.js", plugins: [gradc()] });
 */
export function gradc(options: GradcPluginOptions = {}): Plugin {
  return {
    name: "gradc",
    setup(build) {
      const cwd = build.initialOptions.absWorkingDir ?? process.cwd();
      // One TypeScript program per build context, kept across onLoad calls and rebuilds.
      let state: { project: Project; rootDir: string } | undefined;
      let stale = false;

      build.onStart(() => {
        // Files may have changed since the last build: re-read them before the next compile.
        stale = state !== undefined;
      });

      const sourceFile = (path: string, text: string): { sf: SourceFile; rootDir: string } => {
        if (!state) state = createProject([path], { cwd, ...(options.project ? { project: resolve(cwd, options.project) } : {}) });
        const { project } = state;
        if (stale) {
          stale = false;
          for (const sf of project.getSourceFiles()) if (!sf.getFilePath().includes("/node_modules/")) sf.refreshFromFileSystemSync();
        }
        // JavaScript files (typed with JSDoc) are only part of a TypeScript program with allowJs.
        if (/\.[cm]?jsx?$/.test(path) && !project.getCompilerOptions().allowJs) project.compilerOptions.set({ allowJs: true });
        let sf = project.getSourceFile(path);
        if (!sf || sf.getFullText() !== text) sf = project.createSourceFile(path, text, { overwrite: true });
        project.resolveSourceFileDependencies();
        return { sf, rootDir: state.rootDir };
      };

      build.onLoad({ filter: /\.[cm]?[jt]sx?$/ }, (args): OnLoadResult | undefined => {
        // Installed packages ship compiled code; only the project's own files are compiled.
        if (args.namespace !== "file" || /\.d\.[cm]?ts$/.test(args.path) || args.path.includes("/node_modules/")) return undefined;
        const text = readFileSync(args.path, "utf8");
        if (!MENTIONS_GRADC.test(text)) return undefined;
        const { sf, rootDir } = sourceFile(args.path, text);
        // A file with a transformation gradc does not compile gets its diagnostic here too.
        if (findGradBindings(sf).length === 0 && unknownTransforms(sf).length === 0) return undefined;
        let result: ReturnType<typeof compileSourceFile>;
        try {
          result = compileSourceFile(sf, rootDir, { cwd, emit: "js", ...(options.verify ? { verify: true } : {}) }, cwd);
        } catch (e) {
          return {
            errors: [
              {
                text: `gradc internal compiler error: ${e instanceof Error ? e.message : String(e)}`,
                location: { file: displayPath(args.path, cwd) },
                detail: e,
              },
            ],
          };
        }
        const watchFiles = sf
          .getProject()
          .getSourceFiles()
          .map((f) => f.getFilePath() as string)
          .filter((f) => f !== args.path && !f.includes("/node_modules/"));
        if (result.diagnostics.length > 0) return { errors: result.diagnostics.map(toEsbuildMessage), watchFiles };
        if (!result.module) return undefined;
        return {
          contents: rewriteSource(sf, result.module),
          loader: LOADERS[extname(args.path)] ?? "js",
          resolveDir: dirname(args.path),
          watchFiles,
        };
      });
    },
  };
}

export default gradc;
