// The op registry: every primitive is one object holding its shape rule, its reference
// evaluation, its VJP and its JavaScript emission. Nothing else in the compiler or the runtime
// knows an op's semantics; passes, the tape and codegen all look it up here.

import type { Attrs, DType, Dim, Type } from "../ir/types.js";
import type { Val } from "./values.js";

/** Thrown by shape rules; the frontend turns it into a GRADC diagnostic at the call. */
export class ShapeError extends Error {
  constructor(
    message: string,
    readonly code: "broadcast" | "matmul" | "axis" | "reshape" | "dtype" | "arity" | "index" | "window" | "fit" = "broadcast",
  ) {
    super(message);
  }
}

/**
 * What a VJP rule may build: the same rule builds IR nodes in the compiler and computes real
 * values on the runtime tape.
 */
export interface Builder<V> {
  op(name: string, args: readonly V[], attrs?: Attrs): V;
  /** A scalar constant with the dtype of `like`. */
  constant(value: number, like: V): V;
  typeOf(v: V): Type;
}

/**
 * A VJP: from the upstream gradient `g`, one cotangent per argument (null: symbolically zero).
 * `needs[i]` says whether argument i is active; rules skip building what nobody reads.
 */
export type Vjp = <V>(
  b: Builder<V>,
  g: V,
  args: readonly V[],
  out: V,
  attrs: Attrs,
  needs: readonly boolean[],
) => (V | null)[];

/**
 * A JVP (forward mode): from one tangent per argument (null: symbolically zero), the tangent of
 * the output, or null when it is zero. Written against the same Builder as the VJP.
 */
export type Jvp = <V>(
  b: Builder<V>,
  tangents: readonly (V | null)[],
  args: readonly V[],
  out: V,
  attrs: Attrs,
) => V | null;

/** Emission of an elementwise op as a JS expression over already-emitted operands. */
export type ExprEmitter = (operands: readonly string[], attrs: Attrs) => string;

/**
 * How `gradc graph` draws an op: the text of its box, and the text when one operand is a
 * constant folded into the box (`+1`, `x^2`, `> 0`). Without `fold`, constants are drawn apart.
 */
export interface GraphLabel {
  readonly label: string;
  readonly fold?: (constant: string, constantFirst: boolean) => string;
}

export interface OpDefBase {
  readonly name: string;
  /** The name users call it by, in messages, when it differs (`take` is `at`). */
  readonly label?: string;
  // ---- how users reach the op: every table of names (the frontend's, the uncompiled
  // fallback's, the runtime's exports, the diagnostics' lists) is derived from these (exposure.ts).
  /** Exported from "gradc" under this name, a function of tensors and numbers (`stopGradient`). */
  readonly gradc?: string;
  /** `Math.<math>` on numbers lowers to this op. */
  readonly math?: string;
  /** The Math function takes any number of arguments, folded left (`Math.max(a, b, c)`). */
  readonly variadic?: boolean;
  /** The binary JavaScript operators on numbers that build this op (`+`; `===` and `==`). */
  readonly operators?: readonly string[];
  /** The prefix JavaScript operator on numbers that builds this op (`-` for neg). */
  readonly prefix?: string;
  // ---- what passes and back ends need to know
  /** Swapping the two operands changes neither the value nor the gradients (CSE sorts them). */
  readonly commutative?: boolean;
  /** How `gradc graph` draws it; by default its name. */
  readonly graph?: GraphLabel;
  /** Number of value arguments (the least number, for an op that takes a list). */
  readonly arity: number;
  /** Takes any number of arguments from `arity` on (`concat`). */
  readonly listArgs?: true;
  /** Result type from argument types; throws ShapeError. */
  infer(args: readonly Type[], attrs: Attrs): Type;
  /** Reference evaluation on concrete values. */
  evaluate(args: readonly Val[], attrs: Attrs): Val;
  /** The local gradient, or the explicit statement that there is none. */
  readonly vjp: Vjp | "not-differentiable";
  /** The tangent rule (forward mode); elementwise ops derive it from their VJP. */
  readonly jvp: Jvp | "not-differentiable";
  /** True when equal arguments give equal results (CSE may merge). */
  readonly pure: boolean;
}

/** Pointwise ops: one scalar function applied with NumPy broadcasting; fusible into loops. */
export interface ElementwiseOp extends OpDefBase {
  readonly kind: "elementwise";
  readonly scalar: (...xs: number[]) => number;
  readonly expr: ExprEmitter;
  /** `expr` writes one call (`Math.exp(x)`): its operands need no parentheses, nor does it. */
  readonly callForm?: boolean;
}

/**
 * What a code generator offers kernel ops: each kernel op says which loop form it is, and the
 * backend (JS loops today, WebAssembly later) writes the loops.
 */
export interface KernelBackend<N> {
  /** An elementwise loop (with broadcasting) computing the node's result. */
  pointwise(node: N): void;
  reduce(node: N, kind: "sum" | "max"): void;
  argmaxMask(node: N): void;
  matmul(node: N): void;
  transpose(node: N): void;
  /** The result shares its operand's storage (row-major data is unchanged). */
  alias(node: N): void;
  /** Reads slice `i` of the leading axis. */
  take(node: N): void;
  /** Writes a slice into zeros. */
  put(node: N): void;
  /**
   * A loop nest: the op's own `write` (indexing by i32 tensors), given storage names by the
   * backend; or, without one, the backend's kernel for the op (convolution, pooling, batched
   * matmul, any-rank transpose, concat and slice).
   */
  loops(node: N, write?: LoopEmitter): void;
}

/** What a backend hands an op that writes its own loops: names and text, no internals. */
export interface OpLoopWriter {
  /** The storage of each argument (a typed array's name). */
  readonly args: readonly string[];
  /** The result's storage, allocated. */
  readonly out: string;
  /** `!` after an element access in generated TypeScript (in bounds by construction), else "". */
  readonly bang: string;
  line(text: string): void;
  /** An element read, `a[i]` (with `!` in TypeScript). */
  read(array: string, index: string): string;
  dim(d: Dim): string;
  /** The product of dimensions, constants folded. */
  size(shape: readonly Dim[]): string;
  /**
   * A statement throwing the op's GradcError when `index` (an i32) is outside [0, bound),
   * worded as ops/index-check.ts words it (`take: index 7 is out of range [0, 5)`).
   */
  checkIndex(index: string, bound: string, noun?: string): string;
}

/** An op's own loops, from the types of its arguments and result and its attributes. */
export type LoopEmitter = (w: OpLoopWriter, types: { readonly args: readonly Type[]; readonly out: Type }, attrs: Attrs) => void;

/** Ops that need a loop nest of their own (reductions, matmul, movement). */
export interface KernelOp extends OpDefBase {
  readonly kind: "kernel";
  emit<N>(backend: KernelBackend<N>, node: N): void;
}

/** Ops with no arguments that the code generator writes inline (constants, dimensions). */
export interface LeafOp extends OpDefBase {
  readonly kind: "leaf";
  readonly expr: ExprEmitter;
}

export type OpDef = ElementwiseOp | KernelOp | LeafOp;

const registry = new Map<string, OpDef>();

export function defineOp<T extends OpDef>(def: T): T {
  if (registry.has(def.name)) throw new Error(`op ${def.name} defined twice`);
  registry.set(def.name, def);
  return def;
}

export function getOp(name: string): OpDef {
  const def = registry.get(name);
  if (!def) throw new Error(`unknown op ${name}`);
  return def;
}

export function hasOp(name: string): boolean {
  return registry.has(name);
}

export function allOps(): OpDef[] {
  return [...registry.values()];
}

// ---- shape helpers shared by the rules -------------------------------------------------

export function formatShape(shape: readonly Dim[]): string {
  return `[${shape.join(", ")}]`;
}

/** NumPy broadcasting over static and symbolic dimensions. */
export function broadcastShapes(a: readonly Dim[], b: readonly Dim[]): Dim[] {
  const n = Math.max(a.length, b.length);
  const out: Dim[] = [];
  for (let i = 0; i < n; i++) {
    const da = i < n - a.length ? 1 : a[i - (n - a.length)]!;
    const db = i < n - b.length ? 1 : b[i - (n - b.length)]!;
    if (da === db || db === 1) out.push(da);
    else if (da === 1) out.push(db);
    else
      throw new ShapeError(
        `shapes ${formatShape(a)} and ${formatShape(b)} cannot be broadcast together (dimension ${da} against ${db})`,
      );
  }
  return out;
}

/**
 * Float dtype of an arithmetic result, the one promotion rule (as NumPy and JAX): f32 and f64
 * tensors together give f64; numbers (rank 0) are weak and take the tensors' dtype, so
 * `mul(x32, 2)` stays f32. Among numbers alone, f64 unless all of them are f32.
 */
export function resultDType(types: readonly Type[]): DType {
  for (const t of types) {
    if (t.dtype === "bool") throw new ShapeError("arithmetic on a boolean value", "dtype");
    if (t.dtype === "i32") throw new ShapeError("arithmetic on an i32 tensor (labels and indices are not numbers to compute with; use oneHot for a float encoding)", "dtype");
  }
  const tensors = types.filter((t) => t.shape.length > 0);
  const decide = tensors.length > 0 ? tensors : types;
  return decide.length > 0 && decide.every((t) => t.dtype === "f32") ? "f32" : "f64";
}

export function normalizeAxes(axes: readonly number[], rank: number): number[] {
  const out = axes.map((a) => {
    const ax = a < 0 ? a + rank : a;
    if (!Number.isInteger(ax) || ax < 0 || ax >= rank)
      throw new ShapeError(`axis ${a} is out of range for a tensor of rank ${rank}`, "axis");
    return ax;
  });
  if (new Set(out).size !== out.length) throw new ShapeError(`axis repeated in ${formatShape(axes)}`, "axis");
  return out.sort((x, y) => x - y);
}

/** The JVP of an op linear in its first argument: the same op applied to the tangent. */
export function linearJvp(name: string): Jvp {
  return (b, [t], _args, _out, attrs) => (t ? b.op(name, [t], attrs) : null);
}
