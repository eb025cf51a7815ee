// How a bundler plugin rewrites a file in place, keeping every line where it was (so the tool's
// own messages and source maps still point at the user's lines):
//   export const neuronGrad = valueAndGrad(neuron, { argnums: [0, 1] });
// becomes
//   export const neuronGrad = $gradc$module().neuronGrad;
// and the generated module (in its CommonJS form, assigning to a local `exports`) is appended
// at the end of the file inside a hoisted function declaration that runs once, on first use: a
// top-level call of `neuronGrad` before the end of the file works, and nothing is shifted. The
// import of `grad`/`valueAndGrad` is removed when nothing else uses it, so the runtime's tape is
// not pulled into the bundle.
//
// The source map chains magic-string's map of the edits (identity almost everywhere) with one
// mapping per appended line, from codegen's record of which model line each line computes.

import { basename } from "node:path";
import { GenMapping, addSegment, setSourceContent, toEncodedMap } from "@jridgewell/gen-mapping";
import MagicString from "magic-string";
import { type SourceFile, SyntaxKind } from "ts-morph";
import { findGradBindings } from "../frontend/discover.js";
import type { Loc } from "../ir/types.js";
import type { CompiledModule } from "../program.js";
import type { EncodedSourceMap } from "../mapformat.js";
import { addLineMappings } from "../sourcemap.js";

/** The rewritten file and its source map (sources relative to the file's folder). */
export interface Rewritten {
  readonly code: string;
  readonly map: EncodedSourceMap;
}

/** Replaces text[start, end) keeping as many line breaks as it had, so later lines do not move. */
function overwrite(s: MagicString, text: string, start: number, end: number, replacement: string): void {
  const lines = (text.slice(start, end).match(/\n/g) ?? []).length - (replacement.match(/\n/g) ?? []).length;
  const content = replacement + "\n".repeat(Math.max(0, lines));
  if (content === "") s.remove(start, end);
  else s.overwrite(start, end, content);
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
function removeImports(s: MagicString, sf: SourceFile, text: string, replaced: readonly { start: number; end: number }[]): void {
  const inReplaced = (pos: number): boolean => replaced.some((r) => pos >= r.start && pos < r.end);
  const usedElsewhere = (local: string): boolean =>
    sf
      .getDescendantsOfKind(SyntaxKind.Identifier)
      .some((id) => id.getText() === local && !inReplaced(id.getStart()) && !id.getFirstAncestorByKind(SyntaxKind.ImportDeclaration));
  for (const imp of sf.getImportDeclarations()) {
    if (imp.getModuleSpecifierValue() !== "gradc") continue;
    const named = imp.getNamedImports();
    const drop = named.filter((spec) => {
      const local = spec.getAliasNode()?.getText() ?? spec.getName();
      return ["grad", "valueAndGrad", "jvp"].includes(spec.getName()) && !spec.isTypeOnly() && !usedElsewhere(local);
    });
    if (drop.length === 0) continue;
    const keep = named.filter((spec) => !drop.includes(spec));
    if (keep.length === 0 && !imp.getDefaultImport() && !imp.getNamespaceImport()) {
      overwrite(s, text, imp.getStart(), imp.getEnd(), "");
      continue;
    }
    const clause = imp.getImportClauseOrThrow().getNamedBindingsOrThrow();
    if (keep.length > 0) overwrite(s, text, clause.getStart(), clause.getEnd(), `{ ${keep.map((spec) => spec.getText()).join(", ")} }`);
    // `import def, { grad } from "gradc"`: drop the comma before the braces too.
    else overwrite(s, text, text.lastIndexOf(",", clause.getStart()), clause.getEnd(), "");
  }
}

/** The generated module as a lazily-run, hoisted function returning its exports, line by line. */
function embeddedModule(module: CompiledModule, wrapper: string, at: Loc): { lines: string[]; locs: (Loc | undefined)[] } {
  const names = module.functions.map((f) => f.exportName);
  const body = module.code.replace(/\n$/, "").split("\n");
  if (body.length !== module.lines.length) throw new Error(`gradc: the generated module for ${module.sourceFile} has no location for every line`);
  const lines = [
    "",
    `// gradc: the compiled ${names.join(", ")}, generated from this file's source (runs once, on first use).`,
    `function ${wrapper}() {`,
    `  if (${wrapper}.exports) return ${wrapper}.exports;`,
    "  const exports = {};",
    ...body.map((l) => (l === "" ? l : `  ${l}`)),
    `  return (${wrapper}.exports = exports);`,
    "}",
  ];
  // The wrapper and the helpers (argument checks' error messages) belong to the first binding.
  const locs = [undefined, at, at, at, at, ...module.lines.map((l) => l ?? at), at, at];
  return { lines, locs };
}

/**
 * The file's text with each grad binding's initializer replaced by its compiled function, and
 * its source map. `module` must have been compiled for this text in its CommonJS form.
 */
export function rewriteSource(sf: SourceFile, module: CompiledModule, contents: (source: string) => string | undefined = () => undefined): Rewritten {
  const text = sf.getFullText();
  const file = sf.getFilePath() as string;
  const s = new MagicString(text);
  const wrapper = freshName(text, "$gradc$module");
  const calls = findGradBindings(sf).map((b) => ({ start: b.call.getStart(), end: b.call.getEnd(), name: b.exportName }));
  for (const c of calls) overwrite(s, text, c.start, c.end, `${wrapper}().${c.name}`);
  removeImports(s, sf, text, calls);
  const head = s.toString();
  const first = sf.getLineAndColumnAtPos(calls[0]!.start);
  const embedded = embeddedModule(module, wrapper, { file: basename(file), line: first.line, col: first.column });
  const code = `${head}${head.endsWith("\n") ? "" : "\n"}${embedded.lines.join("\n")}\n`;

  // The edited part: magic-string's map of the edits; the appended part: codegen's locations.
  const source = basename(file);
  const edits = s.generateDecodedMap({ source, hires: "boundary", includeContent: false });
  const map = new GenMapping({ file: source });
  edits.mappings.forEach((segments, line) => {
    for (const seg of segments) if (seg.length >= 4) addSegment(map, line, seg[0], source, seg[2]!, seg[3]!);
  });
  const firstLine = (head.match(/\n/g) ?? []).length + (head.endsWith("\n") ? 0 : 1);
  addLineMappings(map, embedded.locs, firstLine);
  setSourceContent(map, source, text);
  for (const loc of new Set(module.lines.flatMap((l) => (l && l.file !== source ? [l.file] : []))))
    setSourceContent(map, loc, contents(loc) ?? null);
  return { code, map: toEncodedMap(map) };
}
