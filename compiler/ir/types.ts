// The IR: typed SSA in structured form. A function is a block of nodes in topological order;
// control flow (`if`) is a node that owns blocks, so every pass stays a walk over lists.

/** `i32` holds labels and indices (never differentiated); `bool` holds conditions and masks. */
export type DType = "f64" | "f32" | "i32" | "bool";

/** A dimension: a static size, or the name of a symbolic dimension fixed per call. */
export type Dim = number | string;

/** A value's type: its dtype and its shape (`[]` for a number). */
export interface Type {
  readonly dtype: DType;
  readonly shape: readonly Dim[];
}

export interface Loc {
  readonly file: string;
  readonly line: number;
  readonly col: number;
}

export type AttrValue = number | boolean | string | readonly Dim[];
export type Attrs = Readonly<Record<string, AttrValue>>;

/** An SSA value: defined once, by a node or as a block parameter. */
export interface Value {
  readonly id: number;
  readonly type: Type;
  /** Source-level name, kept for readable dumps and generated code. */
  name?: string;
}

/** One operation: an op of the registry (or a region: `if`, `loop`) applied to values. */
export interface Node {
  readonly op: string;
  readonly args: readonly Value[];
  readonly attrs: Attrs;
  readonly outs: readonly Value[];
  /** Nested blocks of region ops (`if`: [then, else]). */
  readonly blocks: readonly Block[];
  readonly loc?: Loc;
}

// Node kinds that own blocks (region ops); every other `op` names a primitive of the registry.
/** `if`: one boolean condition, a then and an else block yielding the results. */
export const IF = "if";
/** `loop`: `trips` iterations of a body whose params are (counter, ...carries) and which yields the next carries. */
export const LOOP = "loop";
/** `custom_vjp`: a call with a user-written backward pass (see passes/custom.ts). */
export const CUSTOM = "custom_vjp";

/**
 * `while`: a loop with a data-dependent trip count (see ir/while.ts): a condition block over
 * the carries and a body block over (counter, ...carries).
 */
export const WHILE = "while";

/** Region ops: nodes that own blocks. */
export const isRegionOp = (op: string): boolean => op === IF || op === LOOP || op === CUSTOM || op === WHILE;

/**
 * The type rules of the primitives, as the IR layer sees them: injected by the op registry
 * (`opTypes` in compiler/ops/), so that the IR's builder and verifier do not depend on it.
 */
export interface OpTypes {
  /** True when `op` is a registered primitive. */
  has(op: string): boolean;
  /** The result type of `op` applied to operands of types `args`; throws when they do not fit. */
  infer(op: string, args: readonly Type[], attrs: Attrs): Type;
}

/** A list of nodes in topological order, with parameters and the values it yields. */
export interface Block {
  readonly params: readonly Value[];
  readonly nodes: readonly Node[];
  /** The values the block yields (a function's returns). */
  readonly results: readonly Value[];
}

/** A function of the IR: its body is a block whose parameters are the leaves of the arguments. */
export interface Func {
  readonly name: string;
  readonly body: Block;
  readonly loc?: Loc;
}

export const scalar = (dtype: DType = "f64"): Type => ({ dtype, shape: [] });

export function sameShape(a: readonly Dim[], b: readonly Dim[]): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}

export function sameType(a: Type, b: Type): boolean {
  return a.dtype === b.dtype && sameShape(a.shape, b.shape);
}

export const isScalar = (t: Type): boolean => t.shape.length === 0;

/**
 * Values whose names no pass may change: the frontend's, so that `--dump ir` prints the same
 * whatever later passes do. (A mark rather than `Object.freeze`: frozen objects make every Map
 * and Set keyed by them several times slower, and the passes key many by value.)
 */
const fixedNames = new WeakSet<Value>();
export const fixName = (v: Value): void => void fixedNames.add(v);
export const hasFixedName = (v: Value): boolean => fixedNames.has(v);

/** A fresh id source; ids are unique within one function. */
export class IdSource {
  private next = 0;
  constructor(start = 0) {
    this.next = start;
  }
  value(type: Type, name?: string): Value {
    return name === undefined ? { id: this.next++, type } : { id: this.next++, type, name };
  }
  static after(fn: Func): IdSource {
    let max = -1;
    walkValues(fn.body, (v) => (max = Math.max(max, v.id)));
    return new IdSource(max + 1);
  }
}

/** Visits every value defined in a block and its nested blocks. */
export function walkValues(block: Block, visit: (v: Value) => void): void {
  block.params.forEach(visit);
  for (const node of block.nodes) {
    node.outs.forEach(visit);
    node.blocks.forEach((b) => walkValues(b, visit));
  }
}

/** Visits every node of a block, nested blocks first-to-last in program order. */
export function walkNodes(block: Block, visit: (n: Node) => void): void {
  for (const node of block.nodes) {
    visit(node);
    node.blocks.forEach((b) => walkNodes(b, visit));
  }
}

/** Values used inside a node's blocks but defined outside them. */
export function freeValues(node: Node): Value[] {
  const defined = new Set<Value>();
  const used: Value[] = [];
  const seen = new Set<Value>();
  const scan = (block: Block): void => {
    block.params.forEach((p) => defined.add(p));
    const use = (v: Value): void => {
      if (!defined.has(v) && !seen.has(v)) {
        seen.add(v);
        used.push(v);
      }
    };
    for (const n of block.nodes) {
      n.args.forEach(use);
      n.blocks.forEach(scan);
      // A nested node's free values were already collected by the recursive scan.
      n.outs.forEach((o) => defined.add(o));
    }
    block.results.forEach(use);
  };
  node.blocks.forEach(scan);
  return used;
}
