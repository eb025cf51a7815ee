// IR → JavaScript. Codegen sees only optimized IR plus the argument layout (GradSpec): scalar
// values become one `const` each, `if` nodes become `if` statements, tensor nodes go through
// the kernel emitter. The output imports nothing at run time.

import { IF, LOOP } from "../ir/builder.js";
import { formatLoc } from "../ir/print.js";
import { type Block, type Func, type Loc, type Node, type Type, type Value, walkValues } from "../ir/types.js";
import { getOp, numberLiteral } from "../ops/index.js";
import { type GradSpec, type ParamSpec, type Tree, leavesOf } from "../frontend/signature.js";
import { emitJvpEntry } from "./jvp-entry.js";
import { NameTable, commentText, isPlainName, objectKey, propertyAccess, sanitize } from "./names.js";
import { CodegenError } from "./errors.js";
import { type KernelEmitter, LOOP_NAMES, createKernelEmitter, typedArrayOf } from "./kernels.js";
import { BAD_INDEX_HELPER, BAD_INDEX_HELPER_TS } from "./indexcheck.js";
import { emitFreshReturn, resultType, reusedResult } from "./results.js";

export { CodegenError };

export interface CompiledUnit {
  readonly spec: GradSpec;
  /** Optimized IR: params are the leaves; results are [value, ...gradients] for valueAndGrad, the gradients for grad. */
  readonly fn: Func;
}

export interface EmitOptions {
  /** The source file, as written in the header and line comments. */
  readonly sourceName: string;
  readonly emit: "js" | "ts";
  /**
   * How the module exports its functions: `export` declarations (default), or CommonJS
   * assignments to `exports` (a `.cjs` file, or a module embedded in a function by a plugin).
   */
  readonly module?: "esm" | "cjs";
}

/** Generated code with, for each of its lines, the source location it computes (if any). */
export interface MappedModule {
  readonly code: string;
  /** `lines[i]` is the location of line i (0-based) of `code`: what a source map points at. */
  readonly lines: readonly (Loc | undefined)[];
}


/** JS text for a literal operand, parenthesized when a minus sign could merge with an operator. */
function literal(value: number, type: Type): string {
  if (type.dtype === "bool") return value !== 0 ? "true" : "false";
  const text = numberLiteral(value);
  return text.startsWith("-") ? `(${text})` : text;
}

/** The state of one generated function body. */
export class FunctionEmitter {
  readonly lines: string[] = [];
  /** The source location of each of `lines` (for source maps). */
  readonly lineLocs: (Loc | undefined)[] = [];
  /** The location lines emitted now belong to: the last block's. */
  private loc: Loc | undefined;
  readonly names: NameTable;
  /** How each value is written, by value id (unique within the function; cheaper than by value). */
  private readonly ref = new Map<number, string>();
  private indent = "  ";
  private lastLoc = "";
  private lastLocAt: Loc | undefined;
  readonly kernels: KernelEmitter;
  /** Set when the body checks an index at run time: the module then needs the helper. */
  checksIndices = false;

  constructor(
    readonly unit: CompiledUnit,
    readonly options: EmitOptions,
    reserved: readonly string[],
  ) {
    // Kernels use fixed loop names; functions without tensors keep the user's names unsuffixed.
    let tensors = false;
    walkValues(unit.fn.body, (v) => (tensors ||= v.type.shape.length > 0));
    this.names = new NameTable(tensors ? [...reserved, ...LOOP_NAMES] : reserved);
    this.kernels = createKernelEmitter(this);
  }

  /** Names bound to tensors, with their typed array: the types of outlined kernels' parameters. */
  private readonly arrays = new Map<string, string>();

  /** `: type` in generated TypeScript, nothing in JavaScript. */
  typed(type: string): string {
    return this.options.emit === "ts" ? `: ${type}` : "";
  }

  /** `!` in generated TypeScript: typed-array elements are read in bounds by construction. */
  get bang(): string {
    return this.options.emit === "ts" ? "!" : "";
  }

  /** An element read, `a[i]` (`a[i]!` in TypeScript). */
  read(array: string, index: string): string {
    return `${array}[${index}]${this.bang}`;
  }

  line(text: string): void {
    this.lines.push(this.indent + text);
    this.lineLocs.push(this.loc);
  }

  /** Runs `body` and returns the lines it emitted (indented one level) instead of keeping them. */
  capture(body: () => void): string[] {
    const saved = this.lines.length;
    const indent = this.indent;
    this.indent = "  ";
    try {
      body();
      this.lineLocs.splice(saved);
      return this.lines.splice(saved);
    } finally {
      this.indent = indent;
    }
  }

  /** Indents what follows; the returned function restores the indentation. */
  enter(): () => void {
    const saved = this.indent;
    this.indent += "  ";
    return () => {
      this.indent = saved;
    };
  }

  nested(body: () => void): void {
    const saved = this.indent;
    this.indent += "  ";
    try {
      body();
    } finally {
      this.indent = saved;
    }
  }

  bind(v: Value, text: string): void {
    this.ref.set(v.id, text);
    if (v.type.shape.length > 0) this.arrays.set(text, typedArrayOf(v.type.dtype));
  }

  /** The TypeScript type of a local name: its typed array if it holds a tensor, else `number`. */
  localType(name: string): string {
    return this.arrays.get(name) ?? "number";
  }

  /** How an operand is written: a name, or an inline literal for constants. */
  operand(v: Value): string {
    const r = this.ref.get(v.id);
    if (r === undefined) throw new CodegenError(`value ${v.id} (${v.name ?? "unnamed"}) used before it was emitted`);
    return r;
  }

  has(v: Value): boolean {
    return this.ref.has(v.id);
  }

  freshName(v: Value | undefined, fallback = "t"): string {
    return this.names.fresh(v?.name ?? fallback);
  }

  locComment(loc: Loc | undefined): void {
    if (!loc) return;
    this.loc = loc;
    // The comment depends on the line and column only (one source file per module).
    const last = this.lastLocAt;
    if (last !== undefined && last.line === loc.line && last.col === loc.col && last.file === loc.file) return;
    this.lastLocAt = loc;
    const text = commentText(formatLoc({ ...loc, file: this.options.sourceName }));
    if (text === this.lastLoc) return;
    this.lastLoc = text;
    this.line(`// ${text}`);
  }

  /** Lines emitted from now on belong to `loc`, without a comment saying so. */
  locAt(loc: Loc | undefined): void {
    this.loc = loc;
  }

  emitBlock(block: Block): void {
    for (const node of block.nodes) this.emitNode(node);
  }

  emitNode(node: Node): void {
    if (node.op === IF) return this.emitIf(node);
    if (node.op === LOOP) {
      this.locComment(node.loc);
      return this.kernels.loop(node);
    }
    const def = getOp(node.op);
    const out = node.outs[0]!;
    if (def.kind === "leaf") {
      if (node.op === "const") this.bind(out, literal(node.attrs["value"] as number, out.type));
      else this.bind(out, this.kernels.dimension(String(node.attrs["name"])));
      return;
    }
    if (out.type.shape.length === 0 && def.kind === "elementwise" && node.args.every((a) => a.type.shape.length === 0)) {
      this.locComment(node.loc);
      const name = this.freshName(out);
      this.line(`const ${name} = ${def.expr(node.args.map((a) => this.operand(a)), node.attrs)};`);
      this.bind(out, name);
      return;
    }
    this.locComment(node.loc);
    this.kernels.emit(node);
  }

  private emitIf(node: Node): void {
    this.locComment(node.loc);
    const outs = node.outs.map((o) => {
      const name = this.freshName(o);
      this.bind(o, name);
      return name;
    });
    const [then, otherwise] = node.blocks as [Block, Block];
    // A branch-free conditional reads best as a ternary.
    if (then.nodes.length === 0 && otherwise.nodes.length === 0 && outs.length === 1) {
      const [a, b] = [then.results[0]!, otherwise.results[0]!].map((v) => this.operand(v));
      this.line(`const ${outs[0]} = ${this.operand(node.args[0]!)} ? ${a} : ${b};`);
      return;
    }
    // An `if` kept only for an index check inside it yields nothing.
    if (outs.length > 0) this.line(`let ${outs.join(", ")};`);
    this.line(`if (${this.operand(node.args[0]!)}) {`);
    this.nested(() => this.emitBranch(then, outs));
    this.line(`} else {`);
    this.nested(() => this.emitBranch(otherwise, outs));
    this.line(`}`);
  }

  emitBranch(block: Block, outs: readonly string[]): void {
    const saved = this.lastLoc;
    const savedAt = this.lastLocAt;
    const savedLoc = this.loc;
    this.emitBlock(block);
    block.results.forEach((r, i) => this.line(`${outs[i]} = ${this.operand(r)};`));
    this.lastLoc = saved;
    this.lastLocAt = savedAt;
    this.loc = savedLoc;
  }
}

// ---- types in generated TS -------------------------------------------------------------

export function treeType(tree: Tree): string {
  if (tree.kind === "leaf") {
    if (tree.type.shape.length === 0) return "number";
    const dims = tree.type.shape.map((d) => (typeof d === "number" ? String(d) : d)).join(", ");
    return tree.type.dtype === "f64" ? `Tensor<[${dims}]>` : `Tensor<[${dims}], "${tree.type.dtype}">`;
  }
  if (tree.kind === "array") return `[${tree.items.map(treeType).join(", ")}]`;
  return `{ ${tree.fields.map((f) => `${objectKey(f.key)}: ${treeType(f.tree)}`).join("; ")} }`;
}

function gradType(spec: GradSpec): string {
  return resultType(spec, treeType);
}

export function signatureText(spec: GradSpec, paramNames: readonly string[]): { generics: string; params: string; ret: string } {
  const generics = spec.dims.length > 0 ? `<${spec.dims.map((d) => `${sanitize(d)} extends number`).join(", ")}>` : "";
  const params =
    spec.mode === "jvp"
      ? `${paramNames[0]}: [${spec.params.map((p) => treeType(p.tree)).join(", ")}], ${paramNames[1]}: [${spec.argnums.map((n) => treeType(spec.params[n]!.tree)).join(", ")}]`
      : spec.params.map((p, i) => `${paramNames[i]}: ${treeType(p.tree)}`).join(", ");
  return { generics, params, ret: gradType(spec) };
}

const usesTensors = (spec: GradSpec): boolean =>
  spec.params.some((p) => leavesOf(p.tree).some((l) => l.type.shape.length > 0));

// ---- argument validation and unpacking --------------------------------------------------

function pathText(param: string, path: readonly (string | number)[]): string {
  return param + path.map((p) => (typeof p === "number" ? `[${p}]` : /^[A-Za-z_$][\w$]*$/.test(p) ? `.${p}` : `[${JSON.stringify(p)}]`)).join("");
}

function emitEntry(e: FunctionEmitter, paramNames: readonly string[], params: readonly ParamSpec[] = e.unit.spec.params): void {
  const { spec, fn } = e.unit;
  const fnName = JSON.stringify(spec.exportName);
  params.forEach((p, k) => {
    const jsParam = paramNames[k]!;
    // Undeclared fields first: a misspelt field (`bias` for `b`) is named as such, with the
    // declared one it leaves missing, rather than only as a missing `b`.
    emitFieldChecks(e, p.tree, jsParam, p.name, [], fnName);
    const plain = (path: readonly (string | number)[]): string => `${jsParam}${path.map(propertyAccess).join("")}`;
    // Read where the check failed: TypeScript has narrowed the container to `never` there.
    const root = e.options.emit === "ts" ? `(${jsParam} as any)` : jsParam;
    const optional = (path: readonly (string | number)[]): string => `${root}${path.map((s) => `?.${propertyAccess(s).replace(/^\./, "")}`).join("")}`;
    const expected = (t: Type): string => (t.shape.length === 0 ? "a number" : `a ${t.dtype} tensor of shape [${t.shape.join(", ")}]`);
    // Each container is checked once, before the leaves below it are read with plain property
    // accesses: optional chains (`w?.[0]`) on every read cost as much as a small model's math.
    // A container that is not an object is reported as its first leaf would be (same message).
    const visit = (tree: Tree, path: readonly (string | number)[]): void => {
      if (tree.kind === "leaf") {
        const leaf = { type: tree.type, path };
        const irParam = fn.body.params[tree.index]!;
        const access = plain(leaf.path);
        const argText = JSON.stringify(pathText(p.name, leaf.path));
        if (leaf.type.shape.length === 0) {
          const name = leaf.path.length === 0 ? jsParam : e.names.fresh([p.name, ...leaf.path].join("_"));
          if (leaf.path.length > 0) e.line(`const ${name} = ${access};`);
          e.line(`if (typeof ${name} !== "number") $gradc_badArg(${fnName}, ${argText}, "a number", ${name});`);
          e.bind(irParam, name);
        } else {
          e.kernels.bindTensorArg(irParam, access, fnName, argText);
        }
        return;
      }
      const first = leavesOf(tree)[0];
      if (first) {
        const firstPath = [...path, ...first.path];
        const container = plain(path);
        e.line(
          `if (${container} === null || typeof ${container} !== "object") $gradc_badArg(${fnName}, ${JSON.stringify(pathText(p.name, firstPath))}, ${JSON.stringify(expected(first.type))}, ${optional(firstPath)});`,
        );
      }
      if (tree.kind === "array") tree.items.forEach((t, i) => visit(t, [...path, i]));
      else tree.fields.forEach((f) => visit(f.tree, [...path, f.key]));
    };
    visit(p.tree, []);
    // Once every declared leaf is there: no extra items.
    emitLengthChecks(e, p.tree, jsParam, p.name, [], fnName);
  });
}

/** A name for the value at `access`: itself when it is one, else a const holding it. */
function valueName(e: FunctionEmitter, access: string, param: string, path: readonly (string | number)[]): string {
  if (/^[A-Za-z_$][\w$]*$/.test(access)) return access;
  const value = e.names.fresh([param, ...path].join("_"));
  e.line(`const ${value} = ${access};`);
  return value;
}

/**
 * Refuses fields an object's type does not declare. The compiled function reads only declared
 * fields, so an extra one (often a misspelt name, or state that is not a parameter) would get
 * no gradient: `sgd` would then fail on it, or a value the user believes is trained would
 * silently stay put. Runs before the leaves are read, through optional chains (a missing part
 * is reported by the leaf check after it); `for...in` allocates nothing.
 */
function emitFieldChecks(e: FunctionEmitter, tree: Tree, access: string, param: string, path: readonly (string | number)[], fnName: string): void {
  if (tree.kind === "leaf" || !has(tree, "object")) return;
  const value = valueName(e, access, param, path);
  if (tree.kind === "object") {
    const argText = JSON.stringify(pathText(param, path));
    const key = e.names.fresh("key");
    const declared = tree.fields.map((f) => `${key} !== ${JSON.stringify(f.key)}`).join(" && ");
    const keys = `[${tree.fields.map((f) => JSON.stringify(f.key)).join(", ")}]`;
    e.line(`if (typeof ${value} === "object") for (const ${key} in ${value}) if (${declared}) $gradc_extraField(${fnName}, ${argText}, ${value}, ${key}, ${keys});`);
    tree.fields.forEach((f) => emitFieldChecks(e, f.tree, `${value}?.${propertyAccess(f.key).replace(/^\./, "")}`, param, [...path, f.key], fnName));
  } else tree.items.forEach((t, i) => emitFieldChecks(e, t, `${value}?.[${i}]`, param, [...path, i], fnName));
}

/** Refuses items beyond a tuple's length (every declared item was checked already). */
function emitLengthChecks(e: FunctionEmitter, tree: Tree, access: string, param: string, path: readonly (string | number)[], fnName: string): void {
  if (tree.kind === "leaf" || !has(tree, "array")) return;
  const value = valueName(e, access, param, path);
  if (tree.kind === "object") {
    tree.fields.forEach((f) => emitLengthChecks(e, f.tree, `${value}${propertyAccess(f.key)}`, param, [...path, f.key], fnName));
    return;
  }
  const argText = JSON.stringify(pathText(param, path));
  e.line(`if (${value}.length !== ${tree.items.length}) $gradc_badArg(${fnName}, ${argText}, "an array of ${tree.items.length}", ${value});`);
  tree.items.forEach((t, i) => emitLengthChecks(e, t, `${value}[${i}]`, param, [...path, i], fnName));
}

/** True when `tree` is or holds a node of that kind. */
const has = (tree: Tree, kind: "object" | "array"): boolean =>
  tree.kind === kind || (tree.kind === "object" ? tree.fields.some((f) => has(f.tree, kind)) : tree.kind === "array" && tree.items.some((t) => has(t, kind)));

// ---- the module --------------------------------------------------------------------------

const HELPERS = `const $gradc_GradcError = (globalThis[Symbol.for("gradc.GradcError")] ??= class GradcError extends Error {
  constructor(message) {
    super(message);
    this.name = "GradcError";
  }
});
function $gradc_describe(v) {
  if (v === null) return "null";
  if (typeof v === "object" && Array.isArray(v.shape)) {
    const dtype = v.data instanceof Float32Array ? "f32" : v.data instanceof Float64Array ? "f64" : "non-float";
    return \`a \${dtype} tensor of shape [\${v.shape.join(", ")}] with \${v.data?.length} entries\`;
  }
  if (Array.isArray(v)) return \`an array of \${v.length}\`;
  return typeof v === "number" ? \`the number \${v}\` : \`\${typeof v}\`;
}
function $gradc_badArg(fn, arg, expected, actual) {
  throw new $gradc_GradcError(\`\${fn}: argument \${arg} must be \${expected}, got \${$gradc_describe(actual)}\`);
}
function $gradc_extraField(fn, arg, obj, key, declared) {
  const missing = declared.filter((k) => !(k in obj)).map((k) => JSON.stringify(k));
  const names = declared.map((k) => JSON.stringify(k)).join(", ") + (missing.length > 0 ? \`; missing: \${missing.join(", ")}\` : "");
  throw new $gradc_GradcError(\`\${fn}: argument \${arg} has a field \${JSON.stringify(key)} that its type does not declare (declared: \${names}); pass only the declared fields\`);
}`;

const I32_UNKNOWN = `v.data instanceof Float64Array ? "f64" : "non-float"`;
const I32_KNOWN = `v.data instanceof Float64Array ? "f64" : v.data instanceof Int32Array ? "i32" : "non-float"`;

export function emitModule(units: readonly CompiledUnit[], options: EmitOptions): string {
  return emitMappedModule(units, options).code;
}

/** The generated module and the source location of each of its lines. */
export function emitMappedModule(units: readonly CompiledUnit[], options: EmitOptions): MappedModule {
  const ts = options.emit === "ts";
  const cjs = options.module === "cjs";
  const exported: string[] = [];
  const out: string[] = [
    `// Generated by gradc from ${commentText(options.sourceName)}. Do not edit: rerun gradc to regenerate.`,
    "/* eslint-disable */",
  ];
  if (ts && units.some((u) => usesTensors(u.spec))) out.push(`import type { Tensor } from "gradc";`);
  const helpers = ts ? tsHelpers() : HELPERS;
  // A module taking i32 tensors names that dtype when it reports a wrong argument.
  out.push("", units.some((u) => u.fn.body.params.some((p) => p.type.dtype === "i32")) ? helpers.replace(I32_UNKNOWN, I32_KNOWN) : helpers);
  const helpersEnd = out.length;
  let checksIndices = false;
  // The location of each item of `out` (an item of several lines has none).
  const locs: (Loc | undefined)[] = [];
  units.forEach((unit, k) => {
    // A binding named like a reserved word, a global the code reads (`Math`) or a helper is
    // declared under a name of ours and exported under its own.
    const local = localName(unit.spec.exportName, k);
    const e = new FunctionEmitter(unit, options, []);
    const jvp = unit.spec.mode === "jvp";
    const paramNames = jvp ? [e.names.fresh("primals"), e.names.fresh("tangents")] : unit.spec.params.map((p) => e.names.fresh(p.name));
    const sig = signatureText(unit.spec, paramNames);
    const reused = unit.spec.reuse ? reusedResult(unit.spec, unit.fn.body.results, `$gradc_${unit.spec.exportName}`, ts, sig.ret) : undefined;
    // Argument checks belong to the model function's first line.
    e.locAt(unit.fn.loc);
    if (jvp) emitJvpEntry(e, paramNames, (names, params) => emitEntry(e, names, params));
    else emitEntry(e, paramNames);
    e.kernels.prologue();
    reused?.prologue(e);
    e.emitBlock(unit.fn.body);
    if (reused) reused.emitReturn(e);
    else emitFreshReturn(e);
    checksIndices ||= e.checksIndices;
    const what = describeBinding(unit.spec);
    out.push("");
    for (const line of e.kernels.declarations()) out.push(line);
    for (const line of reused?.declarations ?? []) out.push(line);
    out.push(`/** Compiled ${commentText(what)}. */`);
    const head = local === undefined ? `${cjs ? "" : "export "}function ${unit.spec.exportName}` : `function ${local}`;
    while (locs.length < out.length) locs.push(undefined);
    out.push(ts ? `${head}${sig.generics}(${sig.params}): ${sig.ret} {` : `${head}(${paramNames.join(", ")}) {`);
    locs.push(unit.fn.loc);
    // Not a spread: a function of 10⁵ statements would overflow the argument stack.
    for (const line of e.lines) out.push(line);
    for (const loc of e.lineLocs) locs.push(loc);
    out.push("}");
    // `exports.__proto__ = f` would set a prototype: that one name is defined, not assigned.
    const name = unit.spec.exportName;
    if (cjs)
      exported.push(name === "__proto__" ? `Object.defineProperty(exports, "__proto__", { value: ${local ?? name}, enumerable: true });` : `exports${propertyAccess(name)} = ${local ?? name};`);
    else if (local !== undefined) out.push(`export { ${local} as ${unit.spec.exportName} };`);
  });
  // The run-time index check's helper joins the helpers (one item of several lines, no location).
  if (checksIndices) out[helpersEnd - 1] += `\n${ts ? BAD_INDEX_HELPER_TS : BAD_INDEX_HELPER}`;
  if (exported.length > 0) out.push("", ...exported);
  while (locs.length < out.length) locs.push(undefined);
  // One location per line of code: an item of several lines (the helpers) has none.
  const lines = out.flatMap((item, i) => (item.includes("\n") ? item.split("\n").map(() => undefined) : [locs[i]]));
  return { code: out.join("\n") + "\n", lines };
}

/** The call a compiled function stands for, as the user wrote it (for its doc comment). */
function describeBinding(spec: GradSpec): string {
  const opts: string[] = [];
  if (spec.argnumsIsArray || spec.argnums[0] !== 0) opts.push(`argnums: ${spec.argnumsIsArray ? `[${spec.argnums.join(", ")}]` : spec.argnums[0]}`);
  if (spec.aux) opts.push("hasAux: true");
  if (spec.reuse) opts.push("reuse: true");
  const call = `${spec.mode}(${spec.wrapped ?? spec.modelName}${opts.length > 0 ? `, { ${opts.join(", ")} }` : ""})`;
  return spec.forwardOnly ? `value of ${call}, without derivatives` : call;
}

/** The module-level name of a compiled function whose export name cannot be declared as is. */
function localName(exportName: string, k: number): string | undefined {
  return isPlainName(exportName) ? undefined : `$gradc_export_${k}`;
}

/** The helpers with types, for `--emit ts`. */
function tsHelpers(): string {
  return HELPERS.replace("(globalThis[", "((globalThis as any)[")
    .replace("function $gradc_describe(v) {", "function $gradc_describe(v: any): string {")
    .replace("function $gradc_badArg(fn, arg, expected, actual) {", "function $gradc_badArg(fn: string, arg: string, expected: string, actual: unknown): never {")
    .replace("function $gradc_extraField(fn, arg, obj, key, declared) {", "function $gradc_extraField(fn: string, arg: string, obj: object, key: string, declared: string[]): never {")
    .replace("  constructor(message) {", "  constructor(message: string) {");
}

/** The `.d.ts` beside a `--emit js` module. */
export function emitDeclarations(units: readonly CompiledUnit[], options: EmitOptions): string {
  const out = [`// Generated by gradc from ${commentText(options.sourceName)}. Do not edit: rerun gradc to regenerate.`];
  if (units.some((u) => usesTensors(u.spec))) out.push(`import type { Tensor } from "gradc";`);
  units.forEach((unit, k) => {
    const names = new NameTable();
    const sig = signatureText(
      unit.spec,
      unit.spec.mode === "jvp" ? ["primals", "tangents"] : unit.spec.params.map((p) => names.fresh(p.name)),
    );
    const local = localName(unit.spec.exportName, k);
    if (local === undefined) out.push(`export declare function ${unit.spec.exportName}${sig.generics}(${sig.params}): ${sig.ret};`);
    else out.push(`declare function ${local}${sig.generics}(${sig.params}): ${sig.ret};`, `export { ${local} as ${unit.spec.exportName} };`);
  });
  return out.join("\n") + "\n";
}
