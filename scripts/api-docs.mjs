// `npm run docs:api`: writes docs/api.md, the API reference of every entry point the package
// exports (package.json "exports": `gradc`, `gradc/compiler` and the plugins), from the sources'
// own declarations and JSDoc comments. One section per entry point: its module comment, then
// each export with its signature and doc comment. `--check` writes nothing and exits 1 when
// docs/api.md differs from what the sources give now (test/docs/api.test.ts checks the same,
// and that every export has a doc comment).
//
// The output depends only on the sources: names are sorted, nothing is timestamped, so the file
// changes exactly when an export or its documentation does.
import { readFileSync, writeFileSync } from "node:fs";
import { join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { Node, Project, TypeFormatFlags } from "ts-morph";

const ROOT = fileURLToPath(new URL("..", import.meta.url));

/** Where the reference is written, relative to the repository root. */
export const API_DOC = "docs/api.md";

/**
 * @typedef {object} EntryPoint
 * @property {string} name  The specifier users import, `gradc` or `gradc/<sub>`.
 * @property {string} file  Its source, relative to the repository root.
 */

/**
 * @typedef {object} ApiExport
 * @property {string} name  The exported name (`default` for the default export).
 * @property {"function" | "class" | "constant" | "type"} kind
 * @property {string} signature  TypeScript text: the declaration without its body.
 * @property {string} doc  The doc comment rendered as Markdown ("" when there is none).
 * @property {string} where  `file:line` of the declaration, for messages.
 * @property {string | undefined} sameAs  Another export this one repeats (`gradc`, `gradc/compiler: X`).
 */

/**
 * @typedef {object} ApiSection
 * @property {EntryPoint} entry
 * @property {string} intro  The entry module's leading comment, as paragraphs.
 * @property {ApiExport[]} exports
 */

/**
 * The package's entry points, in package.json order, with the source file each one's
 * declarations come from (`./dist/x/index.d.ts` is built from `x/index.ts`).
 * @returns {EntryPoint[]}
 */
export function entryPoints() {
  const pkg = JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8"));
  /** @type {EntryPoint[]} */
  const entries = [];
  for (const [key, target] of Object.entries(pkg.exports)) {
    const types = typeof target === "object" && target !== null ? target.types : undefined;
    if (typeof types !== "string") continue;
    const file = types.replace(/^\.\/dist\//, "").replace(/\.d\.ts$/, ".ts");
    entries.push({ name: key === "." ? "gradc" : `gradc/${key.slice(2)}`, file });
  }
  return entries;
}

/** The leading `//` comment of a module, as Markdown paragraphs. */
function moduleComment(/** @type {string} */ text) {
  const lines = [];
  for (const line of text.split("\n")) {
    const m = /^\/\/ ?(.*)$/.exec(line);
    if (!m) break;
    lines.push(m[1]);
  }
  return lines
    .join("\n")
    .split(/\n\s*\n/)
    .map((p) => p.replace(/\s*\n\s*/g, " ").trim())
    .filter((p) => p !== "")
    .join("\n\n");
}

/** A JSDoc node's text parts (`string | NodeArray<JSDocComment>`) as plain text. */
function commentText(/** @type {unknown} */ comment) {
  if (comment === undefined) return "";
  if (typeof comment === "string") return comment;
  return /** @type {{ getText?: () => string, text?: string }[]} */ (comment)
    .map((c) => (typeof c.text === "string" ? c.text : ""))
    .join("");
}

/**
 * The doc comment closest to a declaration, rendered as Markdown: the description, then the
 * tags (`@param` as a list, `@example` as a code block, others by name).
 * @param {Node} node
 */
function renderDoc(node) {
  const host = Node.isVariableDeclaration(node) ? node.getVariableStatement() : node;
  const docs = host && Node.isJSDocable(host) ? host.getJsDocs() : [];
  const doc = docs[docs.length - 1];
  if (!doc) return "";
  const parts = [];
  const description = doc.getDescription().trim();
  if (description) parts.push(description.replace(/\{@link\s+([^}\s|]+)\s*\}/g, "`$1`"));
  const params = [];
  for (const tag of doc.getTags()) {
    const name = tag.getTagName();
    const text = commentText(tag.compilerNode.comment).replace(/^\s*-\s*/, "").trim();
    if (name === "example") parts.push(`\`\`\`ts\n${text}\n\`\`\``);
    else if (Node.isJSDocParameterTag(tag)) params.push(`- \`${tag.getName()}\`${text ? `: ${text}` : ""}`);
    else if (name === "returns" || name === "return") parts.push(`Returns ${text}`);
    else if (name === "throws") parts.push(`Throws ${text}`);
    else if (name === "deprecated") parts.push(`**Deprecated.** ${text}`.trim());
    else parts.push(`\`@${name}\`${text ? ` ${text}` : ""}`);
  }
  if (params.length > 0) parts.splice(description ? 1 : 0, 0, params.join("\n"));
  return parts.join("\n\n").replace(/\{@link\s+([^}\s|]+)\s*\}/g, "`$1`");
}

/** Declaration text without `export`/`default`/`declare` and without a trailing `;`. */
function bare(/** @type {string} */ text) {
  return text
    .replace(/[ \t]*\/\/ eslint-disable.*$/gm, "")
    .replace(/^export\s+/, "")
    .replace(/^default\s+/, "")
    .replace(/^declare\s+/, "")
    .replace(/;\s*$/, "")
    .trim();
}

/** The text of a node from its start (its doc comment excluded) up to `end`. */
function textUpTo(/** @type {Node} */ node, /** @type {number} */ end) {
  return node.getSourceFile().getFullText().slice(node.getStart(), end).trim();
}

/** A type as the checker writes it, shortened to its property count when very long. */
function typeText(/** @type {Node} */ node) {
  const type = node.getType();
  const text = type.getText(node, TypeFormatFlags.NoTruncation | TypeFormatFlags.UseAliasDefinedOutsideCurrentScope);
  if (text.length <= 200) return text;
  if (type.isObject()) return "{ … }";
  return text;
}

/** A function-like declaration without its body (`name(a: A): R`). */
function header(/** @type {Node} */ node) {
  const body = Node.isBodyable(node) || Node.isBodied(node) ? node.getBody() : undefined;
  return bare(body ? textUpTo(node, body.getStart()) : node.getText());
}

/** A member's doc line as a comment indented by two, wrapped at 100 columns. */
function docLines(/** @type {string} */ text) {
  if (text.length + 9 <= 100) return [`  /** ${text} */`];
  const lines = ["  /**"];
  let line = "   *";
  for (const word of text.split(" ")) {
    if (line.length + 1 + word.length > 100 && line !== "   *") {
      lines.push(line);
      line = "   *";
    }
    line += ` ${word}`;
  }
  lines.push(line, "   */");
  return lines;
}

/** The white space a node's first line starts with. */
function textIndent(/** @type {Node} */ node) {
  const text = node.getSourceFile().getFullText();
  return /^[ \t]*/.exec(text.slice(node.getStartLinePos(), node.getStart()))?.[0] ?? "";
}

/** Public members of a class, as a declaration-file skeleton with their first doc lines. */
function classSkeleton(/** @type {import("ts-morph").ClassDeclaration} */ cls) {
  const head = bare(textUpTo(cls, cls.getStart() + cls.getText().indexOf("{"))).replace(/^abstract\s+/, "abstract ");
  const lines = [`${head} {`];
  for (const member of cls.getMembers()) {
    if (Node.isModifierable(member) && (member.hasModifier("private") || member.hasModifier("protected"))) continue;
    if ((Node.isPropertyDeclaration(member) || Node.isMethodDeclaration(member)) && member.getName().startsWith("#")) continue;
    if (Node.isClassStaticBlockDeclaration(member)) continue;
    const docs = Node.isJSDocable(member) ? member.getJsDocs() : [];
    const tags = docs.flatMap((d) => d.getTags().map((t) => t.getTagName()));
    if (tags.includes("internal")) continue;
    if (Node.isConstructorDeclaration(member) && member.getOverloads().length > 0) continue;
    if (Node.isMethodDeclaration(member) && member.getOverloads().length > 0) continue;
    let text;
    if (Node.isPropertyDeclaration(member)) {
      const init = member.getInitializer();
      text = init ? textUpTo(member, init.getStart()).replace(/\s*=$/, "") : member.getText();
      if (!member.getTypeNode()) text += `: ${typeText(member)}`;
    } else {
      text = header(member);
      // A constructor's private parameter properties are its callers' plain parameters.
      if (Node.isConstructorDeclaration(member))
        for (const p of member.getParameters())
          if (p.hasModifier("private") || p.hasModifier("protected"))
            text = text.replace(p.getText(), p.getText().replace(/^(?:(?:private|protected|readonly)\s+)+/, ""));
    }
    // Continuation lines lose the member's own indentation; the skeleton indents by two.
    const indent = member.getStartLinePos() === member.getStart() ? "" : textIndent(member);
    if (indent) text = text.split(`\n${indent}`).join("\n");
    const first = docs[docs.length - 1]?.getDescription().trim().split(/\n\s*\n/)[0]?.replace(/\s*\n\s*/g, " ");
    if (first) lines.push(...docLines(first.replace(/\*\//g, "*\\/")));
    lines.push(`  ${bare(text).replace(/\n/g, "\n  ")};`);
  }
  if (lines.length === 1) return `${head} {}`;
  lines.push("}");
  return lines.join("\n");
}

/**
 * Signature and kind of one exported declaration.
 * @param {Node} node
 * @returns {{ kind: ApiExport["kind"], signature: string }}
 */
function describe(node) {
  if (Node.isFunctionDeclaration(node)) {
    const overloads = node.getOverloads();
    const heads = overloads.length > 0 ? overloads.map((o) => bare(o.getText())) : [header(node)];
    return { kind: "function", signature: heads.map((h) => (/^(async\s+)?function\b/.test(h) ? h : `function ${h}`)).join("\n") };
  }
  if (Node.isClassDeclaration(node)) return { kind: "class", signature: classSkeleton(node) };
  if (Node.isVariableDeclaration(node)) {
    const typeNode = node.getTypeNode();
    const keyword = node.getVariableStatement()?.getDeclarationKind() ?? "const";
    // An annotation written with `typeof` names a module-private value: the checker resolves it
    // (`ReturnType<typeof unplugin.vite>` is Vite's `Plugin`).
    let annotation = typeNode ? typeNode.getText() : typeText(node);
    if (typeNode && /\btypeof\b/.test(annotation)) {
      annotation = typeText(node);
      if (Node.isFunctionTypeNode(typeNode)) {
        const ret = typeNode.getReturnTypeNode();
        const resolved = ret ? ret.getType().getText(node, TypeFormatFlags.NoTruncation) : "void";
        annotation = `(${typeNode.getParameters().map((p) => p.getText()).join(", ")}) => ${resolved}`;
      }
    }
    return { kind: "constant", signature: `${keyword} ${node.getName()}: ${annotation}` };
  }
  if (Node.isInterfaceDeclaration(node) || Node.isTypeAliasDeclaration(node) || Node.isEnumDeclaration(node))
    return { kind: "type", signature: bare(node.getText()) };
  return { kind: "constant", signature: `${node.getKindName()} ${node.getText().slice(0, 80)}` };
}

/** `file:line` of a node, relative to the repository root. */
function where(/** @type {Node} */ node) {
  return `${relative(ROOT, node.getSourceFile().getFilePath())}:${node.getStartLineNumber()}`;
}

/**
 * Reads every entry point's exports from the sources.
 * @param {{ project?: Project }} [options]  A project to reuse (tests share one).
 * @returns {ApiSection[]}
 */
export function collectApi(options = {}) {
  const project =
    options.project ?? new Project({ tsConfigFilePath: join(ROOT, "tsconfig.json"), skipAddingFilesFromTsConfig: true });
  /** @type {Map<Node, string>} */
  const seen = new Map();
  /** @type {ApiSection[]} */
  const sections = [];
  for (const entry of entryPoints()) {
    const file = project.addSourceFileAtPath(join(ROOT, entry.file));
    /** @type {ApiExport[]} */
    const exports = [];
    /** @type {Map<Node, string>} */
    const local = new Map();
    const named = [...file.getExportedDeclarations()].sort(([a], [b]) => (a === "default" ? 1 : b === "default" ? -1 : 0));
    for (const [name, decls] of named) {
      // A value and a type of one name (`GradcError`): the value first, both signatures.
      // Overloads are listed once, from the implementation's overload list.
      const unique = decls.filter((d, i) => !Node.isFunctionDeclaration(d) || decls.findIndex((e) => Node.isFunctionDeclaration(e)) === i);
      const nodes = [...unique].sort((a, b) => Number(describe(a).kind === "type") - Number(describe(b).kind === "type"));
      const primary = nodes[0];
      if (!primary) continue;
      const earlier = local.get(primary) ?? seen.get(primary);
      const described = nodes.map(describe);
      const documented = nodes.map(renderDoc).find((d) => d !== "") ?? "";
      exports.push({
        name,
        kind: /** @type {ApiExport["kind"]} */ (described[0]?.kind),
        signature: described.map((d) => d.signature).join("\n"),
        doc: documented,
        where: where(primary),
        sameAs: earlier,
      });
      if (!local.has(primary)) local.set(primary, `\`${name}\``);
    }
    for (const [node, name] of local) if (!seen.has(node)) seen.set(node, `${name} of \`${entry.name}\``);
    const order = { function: 0, class: 0, constant: 0, type: 1 };
    exports.sort((a, b) => order[a.kind] - order[b.kind] || compareNames(a.name, b.name));
    sections.push({ entry, intro: moduleComment(file.getFullText()), exports });
  }
  return sections;
}

/** Case-insensitive order, `default` last, ties broken by the exact text. */
function compareNames(/** @type {string} */ a, /** @type {string} */ b) {
  if ((a === "default") !== (b === "default")) return a === "default" ? 1 : -1;
  const [x, y] = [a.toLowerCase(), b.toLowerCase()];
  return x < y ? -1 : x > y ? 1 : a < b ? -1 : a > b ? 1 : 0;
}

/** GitHub's anchor for a heading's text. */
function anchor(/** @type {string} */ heading) {
  return heading
    .toLowerCase()
    .replace(/[^\w\- ]/g, "")
    .replace(/ /g, "-");
}

/**
 * The exports that have no doc comment, as `entry: name (file:line)`.
 * @param {ApiSection[]} sections
 */
export function undocumented(sections) {
  return sections.flatMap((s) =>
    s.exports.filter((e) => e.doc === "" && e.sameAs === undefined).map((e) => `${s.entry.name}: ${e.name} (${e.where})`),
  );
}

/**
 * docs/api.md's text for the given sections.
 * @param {ApiSection[]} sections
 */
export function renderApi(sections) {
  const out = [
    "<!-- Generated by `npm run docs:api` (scripts/api-docs.mjs) from the sources' JSDoc. Do not edit: -->",
    "<!-- change the doc comments in the sources and run `npm run docs:api` again. -->",
    "",
    "# gradc API reference",
    "",
    "Every export of every entry point of the package, with its signature and its documentation.",
    "How to use them together is in the [README](../README.md); how the compiler works, in",
    "[architecture.md](architecture.md).",
    "",
  ];
  for (const s of sections) out.push(`- [\`${s.entry.name}\`](#${anchor(s.entry.name)})`);
  for (const s of sections) {
    if (out[out.length - 1] !== "") out.push("");
    out.push(`## \`${s.entry.name}\``, "");
    if (s.intro) out.push(s.intro, "");
    const values = s.exports.filter((e) => e.kind !== "type");
    const types = s.exports.filter((e) => e.kind === "type");
    if (s.exports.length === 0) out.push("This entry point exports nothing: importing it is what it does.", "");
    for (const [title, group] of /** @type {const} */ ([["Values", values], ["Types", types]])) {
      if (group.length === 0) continue;
      out.push(`### ${title}`, "");
      for (const e of group) {
        out.push(`#### \`${e.name}\``, "");
        if (e.sameAs !== undefined) {
          out.push(`The same as ${e.sameAs}.`, "");
          continue;
        }
        out.push("```ts", e.signature, "```", "");
        if (e.doc) out.push(e.doc, "");
      }
    }
  }
  while (out[out.length - 1] === "") out.pop();
  return `${out.join("\n")}\n`;
}

// Run as a script: write docs/api.md, or with --check report whether it is current.
if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const sections = collectApi();
  const text = renderApi(sections);
  const path = join(ROOT, API_DOC);
  const missing = undocumented(sections);
  if (missing.length > 0) console.warn(`api-docs: exports without a doc comment:\n  ${missing.join("\n  ")}`);
  if (process.argv.includes("--check")) {
    let current = "";
    try {
      current = readFileSync(path, "utf8");
    } catch {}
    if (current !== text) {
      console.error(`api-docs: ${API_DOC} is out of date: run \`npm run docs:api\``);
      process.exit(1);
    }
    console.log(`api-docs: ${API_DOC} is up to date`);
  } else {
    writeFileSync(path, text);
    const count = sections.reduce((n, s) => n + s.exports.length, 0);
    console.log(`api-docs: wrote ${API_DOC} (${sections.length} entry points, ${count} exports)`);
  }
}
