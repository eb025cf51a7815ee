// The state of one generated function body and the narrow interface (`Emitter`) through which
// the parts of codegen write it: argument checks (checks.ts), control flow (control.ts), tensor
// kernels (kernels.ts, matmul.ts), buffers (buffers.ts) and results (results.ts) all see this
// interface only, never the class behind it.

import { formatLoc } from "../ir/print.js";
import type { GradSpec } from "../ir/signature.js";
import type { Block, Dim, DType, Func, Loc, Node, Value } from "../ir/types.js";
import { CodegenError } from "./errors.js";
import { NameTable, commentText } from "./names.js";

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
  /** `wasm` (default): large matrix products run as WebAssembly kernels; `js`: JavaScript only. */
  readonly backend?: "js" | "wasm";
  /** Multiply-adds from which a product runs in WebAssembly (tests lower it; default WASM_MIN_WORK). */
  readonly wasmMinWork?: number;
  /** Threads for the WebAssembly kernels: a count (1: no workers, no shared memory) or "auto" (default). */
  readonly threads?: number | "auto";
  /** Multiply-adds from which a kernel call is split across threads (tests lower it; default THREAD_MIN_WORK). */
  readonly threadMinWork?: number;
}

/** What the parts of codegen may do to the function being generated. */
export interface Emitter {
  readonly unit: CompiledUnit;
  /** Generated TypeScript (`--emit ts`) rather than JavaScript. */
  readonly ts: boolean;
  /** Where heavy kernels run (wasm-backend.ts decides per kernel). */
  readonly backend: "js" | "wasm";
  readonly wasmMinWork: number | undefined;
  /** Appends a line at the current indentation. */
  line(text: string): void;
  /** Runs `body` one indentation level deeper. */
  nested(body: () => void): void;
  /** Indents what follows; the returned function restores the indentation. */
  enter(): () => void;
  /** Runs `body`; the lines it passes to `hoist` go before all it emitted, at today's indentation. */
  hoisting(body: (hoist: (line: string) => void) => void): void;
  /** Runs `body` and returns the lines it emitted (indented one level) instead of keeping them. */
  capture(body: () => void): string[];
  /** Records how a value is written from now on (a name or a literal). */
  bind(v: Value, text: string): void;
  /** How an operand is written: a name, or an inline literal for constants. */
  operand(v: Value): string;
  has(v: Value): boolean;
  /** A fresh local named after `v` (or `fallback`). */
  freshName(v: Value | undefined, fallback?: string): string;
  /** A fresh local named after `hint`. */
  fresh(hint: string): string;
  /** True for a name this function declares (as opposed to module-level and reserved names). */
  isLocal(name: string): boolean;
  /** The TypeScript type of a local name: its typed array if it holds a tensor, else `number`. */
  localType(name: string): string;
  /** `: type` in generated TypeScript, nothing in JavaScript. */
  typed(type: string): string;
  /** An element read, `a[i]` (`a[i]!` in TypeScript: typed-array reads are in bounds by construction). */
  read(array: string, index: string): string;
  /** `!` in generated TypeScript, nothing in JavaScript. */
  readonly bang: string;
  /** The local holding the run-time value of a symbolic dimension, or a static size's literal. */
  dim(d: Dim): string;
  /** True once an argument has fixed the symbolic dimension `name` for the call. */
  hasDim(name: string): boolean;
  /** Binds a symbolic dimension to the local holding its value (argument checks do). */
  bindDim(name: string, local: string): void;
  /** The product of dims as a JS expression, constants folded. */
  size(shape: readonly Dim[]): string;
  /** Emits the nodes of a block. */
  emitBlock(block: Block): void;
  /** A `// file:line:col` comment for the lines that follow, when the location changed. */
  locComment(loc: Loc | undefined): void;
  /** Lines emitted from now on belong to `loc`, without a comment saying so. */
  locAt(loc: Loc | undefined): void;
  /** Runs `body` (a branch) and restores the location state, so the next branch repeats its comments. */
  branch(body: () => void): void;
  /** Notes that the body checks an index at run time: the module then needs the helper. */
  checksIndex(): void;
}

/** The typed array holding a tensor of `dtype`. */
export const arrayType = (dtype: DType): string =>
  dtype === "f32" ? "Float32Array" : dtype === "bool" ? "Uint8Array" : dtype === "i32" ? "Int32Array" : "Float64Array";

/**
 * The lines, locations, names and value bindings of one function. Dispatch of IR nodes to the
 * parts of codegen is given as `emitNode`, so this class knows no node kinds.
 */
export class FunctionState implements Emitter {
  readonly lines: string[] = [];
  /** The source location of each of `lines` (for source maps). */
  readonly lineLocs: (Loc | undefined)[] = [];
  /** The location lines emitted now belong to: the last block's. */
  private loc: Loc | undefined;
  private readonly names: NameTable;
  /** How each value is written, by value id (unique within the function; cheaper than by value). */
  private readonly ref = new Map<number, string>();
  /** Names bound to tensors, with their typed array: the types of outlined kernels' parameters. */
  private readonly arrays = new Map<string, string>();
  private readonly dims = new Map<string, string>();
  private indent = "  ";
  private lastLoc = "";
  private lastLocAt: Loc | undefined;
  /** Set when the body checks an index at run time. */
  checksIndices = false;
  readonly ts: boolean;
  /** Emits one node; set by the module emitter once the node emitters exist. */
  emitNode: (node: Node) => void = () => {
    throw new CodegenError("no node emitter");
  };

  constructor(
    readonly unit: CompiledUnit,
    private readonly options: EmitOptions,
    reserved: readonly string[],
  ) {
    this.names = new NameTable(reserved);
    this.ts = options.emit === "ts";
  }

  get backend(): "js" | "wasm" {
    return this.options.backend ?? "wasm";
  }

  get wasmMinWork(): number | undefined {
    return this.options.wasmMinWork;
  }

  typed(type: string): string {
    return this.ts ? `: ${type}` : "";
  }

  get bang(): string {
    return this.ts ? "!" : "";
  }

  read(array: string, index: string): string {
    return `${array}[${index}]${this.bang}`;
  }

  line(text: string): void {
    this.lines.push(this.indent + text);
    this.lineLocs.push(this.loc);
  }

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

  enter(): () => void {
    const saved = this.indent;
    this.indent += "  ";
    return () => {
      this.indent = saved;
    };
  }

  hoisting(body: (hoist: (line: string) => void) => void): void {
    const start = this.lines.length;
    const [indent, loc] = [this.indent, this.loc];
    const hoisted: string[] = [];
    body((line) => hoisted.push(indent + line));
    this.lines.splice(start, 0, ...hoisted);
    this.lineLocs.splice(start, 0, ...hoisted.map(() => loc));
  }

  nested(body: () => void): void {
    const restore = this.enter();
    try {
      body();
    } finally {
      restore();
    }
  }

  bind(v: Value, text: string): void {
    this.ref.set(v.id, text);
    if (v.type.shape.length > 0) this.arrays.set(text, arrayType(v.type.dtype));
  }

  localType(name: string): string {
    return this.arrays.get(name) ?? "number";
  }

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

  fresh(hint: string): string {
    return this.names.fresh(hint);
  }

  isLocal(name: string): boolean {
    return this.names.handed.has(name);
  }

  dim(d: Dim): string {
    if (typeof d === "number") return String(d);
    const v = this.dims.get(d);
    if (!v) throw new CodegenError(`dimension ${d} is not bound by any argument`);
    return v;
  }

  hasDim(name: string): boolean {
    return this.dims.has(name);
  }

  bindDim(name: string, local: string): void {
    this.dims.set(name, local);
  }

  size(shape: readonly Dim[]): string {
    let n = 1;
    const syms: string[] = [];
    for (const d of shape) typeof d === "number" ? (n *= d) : syms.push(this.dim(d));
    if (syms.length === 0) return String(n);
    return [...syms, ...(n !== 1 ? [String(n)] : [])].join(" * ");
  }

  emitBlock(block: Block): void {
    for (const node of block.nodes) this.emitNode(node);
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

  locAt(loc: Loc | undefined): void {
    this.loc = loc;
  }

  branch(body: () => void): void {
    const saved = this.lastLoc;
    const savedAt = this.lastLocAt;
    const savedLoc = this.loc;
    body();
    this.lastLoc = saved;
    this.lastLocAt = savedAt;
    this.loc = savedLoc;
  }

  checksIndex(): void {
    this.checksIndices = true;
  }
}
