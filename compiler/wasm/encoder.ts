// A small WebAssembly module builder of our own: functions are written through `FunctionBuilder`
// (named locals, expressions as closures, structured loops), recorded as instruction lists, and
// encoded to the binary format by `ModuleBuilder.encode`. The same lists print as a WAT-like
// listing (`text.ts`), so what a person reads is exactly what was encoded.
//
// The module has one linear memory, imported (`env.memory`, the host allocates it and may share
// it between workers) or defined and exported; it never contains `memory.grow`.

import { ByteWriter } from "./bytes.js";
import { OPCODES, VALTYPES, type OpName, type ValType } from "./opcodes.js";

export interface Local {
  readonly name: string;
  readonly index: number;
  readonly type: ValType;
}

/** One recorded instruction; `comment` entries encode to nothing and print as `;; text`. */
export type Instr =
  | { readonly op: OpName; readonly local?: Local; readonly value?: number; readonly memarg?: MemArg;
      readonly blockType?: ValType | null; readonly v128?: readonly number[]; readonly callee?: string }
  | { readonly op: "comment"; readonly text: string };

export interface MemArg {
  readonly offset: number;
  /** log2 of the alignment hint. */
  readonly align: number;
}

/** Code that leaves one value on the stack when emitted. */
export type Expr = () => void;

export class FunctionBuilder {
  readonly params: Local[] = [];
  readonly locals: Local[] = [];
  readonly body: Instr[] = [];
  private readonly names = new Set<string>();

  constructor(
    readonly name: string,
    params: ReadonlyArray<readonly [string, ValType]>,
    readonly results: readonly ValType[],
  ) {
    for (const [n, t] of params) this.params.push(this.declare(n, t, this.params.length));
  }

  private declare(name: string, type: ValType, index: number): Local {
    if (this.names.has(name)) throw new Error(`${this.name}: local ${name} declared twice`);
    this.names.add(name);
    return { name, index, type };
  }

  param(name: string): Local {
    const p = this.params.find((x) => x.name === name);
    if (!p) throw new Error(`${this.name}: no parameter ${name}`);
    return p;
  }

  local(name: string, type: ValType): Local {
    const l = this.declare(name, type, this.params.length + this.locals.length);
    this.locals.push(l);
    return l;
  }

  // ── raw instructions ────────────────────────────────────────────────────────────────────

  instr(i: Instr): void {
    this.body.push(i);
  }

  comment(text: string): void {
    this.body.push({ op: "comment", text });
  }

  // ── expressions ─────────────────────────────────────────────────────────────────────────

  get(l: Local): Expr {
    return () => this.instr({ op: "local.get", local: l });
  }

  i32(n: number): Expr {
    return () => this.instr({ op: "i32.const", value: n });
  }

  f32(x: number): Expr {
    return () => this.instr({ op: "f32.const", value: x });
  }

  f64(x: number): Expr {
    return () => this.instr({ op: "f64.const", value: x });
  }

  /** A v128 of zero bits (+0.0 in every lane). */
  zero128(): Expr {
    return () => this.instr({ op: "v128.const", v128: new Array<number>(16).fill(0) });
  }

  /** An operator applied to operands (emitted left to right). */
  op(name: OpName, ...args: Expr[]): Expr {
    return () => {
      for (const a of args) a();
      this.instr({ op: name });
    };
  }

  /** An operator with a lane immediate: extract_lane (a vector), replace_lane (a vector, a value). */
  lane(name: OpName, index: number, ...args: Expr[]): Expr {
    return () => {
      for (const a of args) a();
      this.instr({ op: name, value: index });
    };
  }

  load(name: OpName, addr: Expr, offset = 0): Expr {
    return () => {
      addr();
      this.instr({ op: name, memarg: { offset, align: OPCODES[name].align ?? 0 } });
    };
  }

  // ── statements ──────────────────────────────────────────────────────────────────────────

  emit(e: Expr): void {
    e();
  }

  set(l: Local, e: Expr): void {
    e();
    this.instr({ op: "local.set", local: l });
  }

  /** l += by (i32). */
  bump(l: Local, by: Expr | number): void {
    this.set(l, this.op("i32.add", this.get(l), typeof by === "number" ? this.i32(by) : by));
  }

  store(name: OpName, addr: Expr, value: Expr, offset = 0): void {
    addr();
    value();
    this.instr({ op: name, memarg: { offset, align: OPCODES[name].align ?? 0 } });
  }

  /** while (cond) body — a block around a loop that leaves when cond is false. */
  whileLoop(cond: Expr, body: () => void): void {
    this.instr({ op: "block", blockType: null });
    this.instr({ op: "loop", blockType: null });
    this.emit(this.op("i32.eqz", cond));
    this.instr({ op: "br_if", value: 1 });
    body();
    this.instr({ op: "br", value: 0 });
    this.instr({ op: "end" });
    this.instr({ op: "end" });
  }

  /** do body while (cond) — for loops known to run at least once. */
  doWhile(body: () => void, cond: Expr): void {
    this.instr({ op: "loop", blockType: null });
    body();
    cond();
    this.instr({ op: "br_if", value: 0 });
    this.instr({ op: "end" });
  }

  ifElse(cond: Expr, then: () => void, otherwise?: () => void): void {
    cond();
    this.instr({ op: "if", blockType: null });
    then();
    if (otherwise) {
      this.instr({ op: "else" });
      otherwise();
    }
    this.instr({ op: "end" });
  }

  /** Calls another function of the module by name (a statement: its results, if any, are dropped). */
  call(callee: string, ...args: Expr[]): void {
    for (const a of args) a();
    this.instr({ op: "call", callee });
  }

  ret(): void {
    this.instr({ op: "return" });
  }
}

export type MemorySpec =
  | { readonly kind: "import"; readonly module: string; readonly name: string; readonly min: number;
      readonly max?: number; readonly shared?: boolean }
  | { readonly kind: "export"; readonly name: string; readonly min: number; readonly max?: number };

const SECTION = { type: 1, import: 2, function: 3, memory: 5, export: 7, code: 10 } as const;

export class ModuleBuilder {
  readonly functions: FunctionBuilder[] = [];
  readonly exported = new Set<string>();

  constructor(readonly memory: MemorySpec) {
    if (memory.kind === "import" && memory.shared && memory.max === undefined) {
      throw new Error("a shared memory needs a maximum size");
    }
  }

  /** Adds a function; exported under its own name unless `exported` is false. */
  func(
    name: string,
    params: ReadonlyArray<readonly [string, ValType]>,
    results: readonly ValType[],
    build: (f: FunctionBuilder) => void,
    exported = true,
  ): FunctionBuilder {
    if (this.functions.some((f) => f.name === name)) throw new Error(`function ${name} defined twice`);
    const f = new FunctionBuilder(name, params, results);
    build(f);
    this.functions.push(f);
    if (exported) this.exported.add(name);
    return f;
  }

  encode(): Uint8Array {
    const out = new ByteWriter().raw([0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00]);
    const section = (id: number, fill: (w: ByteWriter) => void): void => {
      const w = new ByteWriter();
      fill(w);
      out.u8(id).sized(w);
    };

    // Function types, deduplicated by their text.
    const typeKeys: string[] = [];
    const typeOf = this.functions.map((f) => {
      const key = `${f.params.map((p) => p.type).join(",")}->${f.results.join(",")}`;
      let i = typeKeys.indexOf(key);
      if (i < 0) i = typeKeys.push(key) - 1;
      return i;
    });
    section(SECTION.type, (w) => {
      w.u32(typeKeys.length);
      for (const key of typeKeys) {
        const [ps, rs] = key.split("->") as [string, string];
        const list = (s: string): ValType[] => (s === "" ? [] : (s.split(",") as ValType[]));
        w.u8(0x60);
        w.u32(list(ps).length).raw(list(ps).map((t) => VALTYPES[t]));
        w.u32(list(rs).length).raw(list(rs).map((t) => VALTYPES[t]));
      }
    });
    const limits = (w: ByteWriter, m: { min: number; max?: number; shared?: boolean }): void => {
      const flag = (m.max === undefined ? 0 : 1) | (m.shared ? 2 : 0);
      w.u8(flag).u32(m.min);
      if (m.max !== undefined) w.u32(m.max);
    };
    const mem = this.memory;
    if (mem.kind === "import") {
      section(SECTION.import, (w) => {
        w.u32(1).name(mem.module).name(mem.name).u8(0x02);
        limits(w, mem);
      });
    }
    section(SECTION.function, (w) => {
      w.u32(typeOf.length);
      for (const t of typeOf) w.u32(t);
    });
    if (mem.kind === "export") section(SECTION.memory, (w) => limits(w.u32(1), mem));
    section(SECTION.export, (w) => {
      const entries: Array<[string, number, number]> = [];
      if (mem.kind === "export") entries.push([mem.name, 0x02, 0]);
      this.functions.forEach((f, i) => {
        if (this.exported.has(f.name)) entries.push([f.name, 0x00, i]);
      });
      w.u32(entries.length);
      for (const [name, kind, index] of entries) w.name(name).u8(kind).u32(index);
    });
    section(SECTION.code, (w) => {
      w.u32(this.functions.length);
      const indexOf = new Map(this.functions.map((f, i) => [f.name, i]));
      for (const f of this.functions) w.sized(encodeBody(f, indexOf));
    });
    return Uint8Array.from(out.bytes);
  }
}

function encodeBody(f: FunctionBuilder, indexOf: ReadonlyMap<string, number>): ByteWriter {
  const w = new ByteWriter();
  // Locals as runs of one type, in declaration order (indices were assigned in that order).
  const runs: Array<[number, ValType]> = [];
  for (const l of f.locals) {
    const last = runs[runs.length - 1];
    if (last && last[1] === l.type) last[0]++;
    else runs.push([1, l.type]);
  }
  w.u32(runs.length);
  for (const [n, t] of runs) w.u32(n).u8(VALTYPES[t]);
  let depth = 0;
  for (const i of f.body) {
    if (i.op === "comment") continue;
    const info = OPCODES[i.op];
    w.raw(info.bytes);
    switch (info.imm) {
      case "none":
        break;
      case "block":
        w.u8(i.blockType ? VALTYPES[i.blockType] : 0x40);
        break;
      case "label":
      case "lane":
        if (info.imm === "lane") w.u8(i.value!);
        else w.u32(i.value!);
        break;
      case "local":
        w.u32(i.local!.index);
        break;
      case "func": {
        const index = indexOf.get(i.callee!);
        if (index === undefined) throw new Error(`${f.name}: call to ${i.callee}, which the module does not define`);
        w.u32(index);
        break;
      }
      case "i32":
        w.s32(i.value!);
        break;
      case "f32":
        w.f32(i.value!);
        break;
      case "f64":
        w.f64(i.value!);
        break;
      case "memarg":
        w.u32(i.memarg!.align).u32(i.memarg!.offset);
        break;
      case "v128":
        w.raw(i.v128!);
        break;
    }
    if (i.op === "block" || i.op === "loop" || i.op === "if") depth++;
    if (i.op === "end") depth--;
  }
  if (depth !== 0) throw new Error(`${f.name}: unbalanced blocks (${depth} open)`);
  w.u8(0x0b);
  return w;
}
