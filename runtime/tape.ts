// Reverse-mode autograd on a tape, micrograd-style: every op applied to a traced value records
// its inputs; `backward` walks the recorded graph in reverse topological order and, for each
// node, asks the op registry for its VJP, evaluated on real values by an eager Builder. Gradient
// rules exist once, in compiler/ops; broadcasting is undone once, by `sumTo`.

import { type Builder, type OpDef, sumTo } from "../compiler/ops/index.js";
import type { Attrs } from "../compiler/ir/types.js";
import { type Val, isTensorVal, shapeOf } from "../compiler/ops/values.js";
import { NO_ATTRS, type Tracer, apply as applyOp, eager, evaluate, installTracer, tracing, typeOfVal } from "./eager.js";
import { GradcError } from "./error.js";

const NO_ARGS: readonly Var[] = Object.freeze([]);

/**
 * A traced value: a number or tensor that the tape follows. Leaves are the inputs being
 * differentiated; every other Var records the op that made it and that op's arguments.
 */
export class Var {
  /**
   * Accumulated cotangent; null is a symbolic zero (nothing flowed here yet). A traced Var when
   * the backward pass was itself recorded (`createGraph`, for derivatives of derivatives).
   */
  grad: Val | Var | null = null;
  /** True once `grad` is a buffer of our own that accumulation may update in place. */
  private ownsGrad = false;

  constructor(
    readonly value: Val,
    /** The op that produced this value; null for a leaf. */
    readonly op: OpDef | null = null,
    /** The op's arguments: Vars are traced, anything else is a constant. */
    readonly args: readonly (Val | Var)[] = NO_ARGS,
    readonly attrs: Attrs = NO_ATTRS,
  ) {
    if (recording !== null) recording.push(this);
  }

  /** The shape of the value, so code that reads `x.shape` works on traced tensors. */
  get shape(): readonly number[] {
    return isTensorVal(this.value) ? this.value.shape : [];
  }

  /** Adds a cotangent: fan-out sums the gradients of every use. */
  accumulate(ct: Val): void {
    if (this.grad === null) {
      // Borrow: the same object may be handed to several inputs (add passes g through).
      this.grad = ct;
      this.ownsGrad = false;
    } else if (this.grad instanceof Var) {
      this.grad = eager.op("add", [this.grad.value, ct]);
      this.ownsGrad = true;
    } else if (typeof this.grad === "number" || typeof ct !== "object" || !this.ownsGrad || !isTensorVal(ct)) {
      this.grad = eager.op("add", [this.grad, ct]);
      this.ownsGrad = true;
    } else {
      const acc = this.grad as { data: Float64Array | Float32Array };
      const d = ct.data;
      for (let i = 0; i < acc.data.length; i++) acc.data[i]! += d[i]!;
    }
  }

  // A traced value reaching a JS operator outside the fallback interpreter would silently
  // become NaN or a string; fail loudly instead.
  valueOf(): never {
    throw new GradcError(
      "a differentiated value reached a JavaScript operator the tape cannot trace. Write the model with " +
        "gradc ops, let the fallback interpret its source (pass helpers in `scope`), or compile it with gradc " +
        "(the CLI, or the plugin for your bundler: gradc/vite, gradc/esbuild, gradc/rollup, gradc/webpack)",
    );
  }

  toString(): string {
    return `Var(${typeof this.value === "object" ? `tensor [${shapeOf(this.value).join(", ")}]` : String(this.value)})`;
  }
}

/** The concrete value of a possibly traced one. */
export const valueOf = (x: Val | Var): Val => (x instanceof Var ? x.value : x);

/** Records `def` applied to arguments of which at least one is traced (see eager.ts's `apply`). */
function recordOp(def: OpDef, args: readonly (Val | Var)[], attrs: Attrs): Val | Var {
  const values = args.map(valueOf);
  const out = evaluate(def, values, attrs);
  // Ops without a gradient (comparisons) are never recorded.
  return def.vjp === "not-differentiable" ? out : new Var(out, def, args, attrs);
}

// Loading the tape (only an uncompiled `grad` does) switches the ops to tracing.
installTracer({ isTraced: (x): x is Var => x instanceof Var, record: recordOp as Tracer["record"] });

/** Applies an op to possibly traced arguments (eager.ts's `apply`, typed with the tape's Var). */
export const apply = applyOp as (def: OpDef, args: readonly (Val | Var)[], attrs?: Attrs) => Val | Var;

export { eager, evaluate, tracing, typeOfVal };

/** The tape being recorded, if any: every Var created while it is set, in creation order. */
let recording: Var[] | null = null;

/**
 * Runs `fn`, recording every Var it creates, in order. Creation order is a topological order
 * (an op's inputs exist before its output), so `backward` walks the recording in reverse
 * instead of searching the graph.
 */
export function record<T>(fn: () => T): { result: T; tape: Var[] } {
  const outer = recording;
  const tape: Var[] = [];
  recording = tape;
  try {
    return { result: fn(), tape };
  } finally {
    recording = outer;
    // A nested transformation's Vars belong to the enclosing recording too, in order.
    if (outer !== null) for (const v of tape) outer.push(v);
  }
}

/** True while a transformation records: a nested one must then record its own backward. */
export const isRecording = (): boolean => recording !== null;

/** The Vars reachable from `root`, each after all of its inputs (iterative: graphs get deep). */
function topologicalOrder(root: Var): Var[] {
  const order: Var[] = [];
  const visited = new Set<Var>([root]);
  const stack: Var[] = [root];
  const next: number[] = [0];
  while (stack.length > 0) {
    const top = stack.length - 1;
    const v = stack[top]!;
    const args = v.args;
    let pushed = false;
    while (next[top]! < args.length) {
      const a = args[next[top]!++];
      if (a instanceof Var && !visited.has(a)) {
        visited.add(a);
        stack.push(a);
        next.push(0);
        pushed = true;
        break;
      }
    }
    if (!pushed) {
      order.push(v);
      stack.pop();
      next.pop();
    }
  }
  return order;
}

/**
 * Backpropagates from `root` (a scalar) with upstream gradient `seed`, filling `grad` on every
 * Var that influences it. `order` lists the Vars so that inputs come before outputs: the tape
 * from `record`, or by default the graph behind `root` in topological order. Gradients of
 * intermediate Vars are released once passed on; leaves keep theirs.
 */
export function backward(root: Var, seed: Val = 1, order: readonly Var[] = topologicalOrder(root)): void {
  for (const v of order) v.grad = null;
  root.accumulate(seed);
  backwardFrom(order);
}

/**
 * The backward pass recorded as it runs (PyTorch's `create_graph`): the VJPs are applied by the
 * tracing builder to the Vars themselves, so every cotangent is a Var an enclosing
 * transformation can differentiate again. Cotangents flow only into Vars of `within` (the
 * nested function's own tape and its inputs): values it closed over are constants to it.
 */
export function backwardRecorded(root: Var, order: readonly Var[], within: ReadonlySet<Var>): void {
  for (const v of within) v.grad = null;
  root.grad = 1;
  for (let k = order.length - 1; k >= 0; k--) {
    const v = order[k]!;
    const g = v.grad;
    const def = v.op;
    if (g === null || def === null || def.vjp === "not-differentiable") continue;
    const needs = v.args.map((a) => a instanceof Var && within.has(a));
    if (!needs.some(Boolean)) continue;
    const cts = def.vjp(tracing, g, v.args, v, v.attrs, needs);
    v.args.forEach((a, i) => {
      const ct = cts[i];
      if (!needs[i] || ct === null || ct === undefined) return;
      const arg = a as Var;
      const shaped = unbroadcastWith(tracing, ct, arg.value) as Val | Var;
      arg.grad = arg.grad === null ? shaped : (tracing.op("add", [arg.grad, shaped]) as Val | Var);
    });
    v.grad = null;
  }
}

function backwardFrom(order: readonly Var[]): void {
  for (let k = order.length - 1; k >= 0; k--) {
    const v = order[k]!;
    const g = v.grad;
    const def = v.op;
    if (g === null || def === null || def.vjp === "not-differentiable") continue;
    const args = v.args;
    const values = new Array<Val>(args.length);
    const needs = new Array<boolean>(args.length);
    for (let i = 0; i < args.length; i++) {
      const a = args[i]!;
      values[i] = valueOf(a);
      needs[i] = a instanceof Var;
    }
    const cts = def.vjp(eager, g as Val, values, v.value, v.attrs, needs);
    for (let i = 0; i < args.length; i++) {
      const a = args[i];
      const ct = cts[i];
      if (!(a instanceof Var) || ct === null || ct === undefined) continue;
      a.accumulate(unbroadcast(ct, a.value));
    }
    v.grad = null;
  }
}

/** `unbroadcast` with any builder (the tracing one for recorded backward passes). */
function unbroadcastWith<V>(b: Builder<V>, ct: V, like: Val): V {
  const from = b.typeOf(ct).shape;
  const target = typeof like === "number" ? [] : shapeOf(like);
  if (from.length === target.length && from.every((d, i) => d === target[i])) return ct;
  if (from.length < target.length) return b.op("broadcast_to", [ct], { shape: target });
  return sumTo(b, ct, target);
}

/** Brings a cotangent to the shape of the value it belongs to. */
function unbroadcast(ct: Val, like: Val): Val {
  if (typeof like === "number") return typeof ct === "number" ? ct : sumTo(eager, ct, []);
  const target = shapeOf(like);
  if (typeof ct !== "object") return eager.op("broadcast_to", [ct], { shape: target });
  const from = (ct as { shape: readonly number[] }).shape;
  if (from.length === target.length && from.every((d, i) => d === target[i])) return ct;
  if (from.length < target.length) return eager.op("broadcast_to", [ct], { shape: target });
  return sumTo(eager, ct, target);
}
