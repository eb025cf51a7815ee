// Evaluating ops on concrete values, and the one switch by which the tape takes over. Eager ops
// (`mul(randn(shape, seed), 0.5)`) run here and nothing more: the tape (tape.ts) and the
// fallback interpreter are only loaded by an uncompiled `grad`, which installs the tracer the
// first time it records. So a program whose grad bindings were compiled by gradc bundles none
// of them, while one that calls `grad` uncompiled traces through the same ops.

import { type Builder, type OpDef, getOp, ShapeError } from "../compiler/ops/index.js";
import type { Attrs, Type } from "../compiler/ir/types.js";
import { type Val, dtypeOf, isTensorVal } from "../compiler/ops/values.js";
import { shapeRefusal } from "./codes.js";
import * as kernels from "./kernels.js";

export const NO_ATTRS: Attrs = Object.freeze({});
const MATMUL = getOp("matmul");

/**
 * Evaluates a registry op on concrete values. Scalar arithmetic calls the op's scalar function
 * directly; float tensors in elementwise ops and matmul take the loops of kernels.ts; the rest
 * runs the registry's reference evaluation. Kernel ops are shape-checked first (their
 * evaluation trusts `infer`).
 */
export function evaluate(def: OpDef, args: readonly Val[], attrs: Attrs): Val {
  const arithmetic = def.kind === "elementwise" && def.vjp !== "not-differentiable";
  if (arithmetic) {
    if (args.length === 1 && typeof args[0] === "number") return def.scalar(args[0]);
    if (args.length === 2 && typeof args[0] === "number" && typeof args[1] === "number")
      return def.scalar(args[0], args[1]);
  }
  try {
    if (arithmetic) return kernels.elementwise(def, args, attrs) ?? def.evaluate(args, attrs);
    if (def.kind === "kernel") def.infer(args.map(typeOfVal), attrs);
    if (def === MATMUL) return kernels.matmul(args, attrs) ?? def.evaluate(args, attrs);
    return def.evaluate(args, attrs);
  } catch (e) {
    if (e instanceof ShapeError) throw shapeRefusal(def.label ?? def.name, e);
    throw e;
  }
}

/** The IR type of a concrete value. */
export function typeOfVal(v: Val): Type {
  return { dtype: dtypeOf(v), shape: isTensorVal(v) ? v.shape : [] };
}

/** Builds by computing: what the VJP rules run on during `backward`. */
export const eager: Builder<Val> = {
  op: (name, args, attrs = NO_ATTRS) => evaluate(getOp(name), args, attrs),
  constant: (value) => value,
  typeOf: typeOfVal,
};

/** A value the tape follows (tape.ts's Var), opaque here. */
export type Traced = { readonly value: Val };

/** What the tape provides once loaded: how to recognize a traced value and record an op on one. */
export interface Tracer {
  isTraced(x: unknown): x is Traced;
  /** Applies `def` to arguments of which at least one is traced. */
  record(def: OpDef, args: readonly (Val | Traced)[], attrs: Attrs): Val | Traced;
}

let tracer: Tracer | null = null;

/** Called by the tape when it loads: from then on ops applied to traced values are recorded. */
export function installTracer(t: Tracer): void {
  tracer = t;
}

/** True for a value the tape is tracing (never true while no uncompiled `grad` has run). */
export const isTraced = (x: unknown): x is Traced => tracer !== null && tracer.isTraced(x);

/** The concrete value of a possibly traced one. */
export const valueOf = (x: Val | Traced): Val => (isTraced(x) ? x.value : (x as Val));

/**
 * Applies an op to possibly traced arguments: evaluated directly when none is traced,
 * recorded on the tape otherwise.
 */
export function apply(def: OpDef, args: readonly (Val | Traced)[], attrs: Attrs = NO_ATTRS): Val | Traced {
  if (tracer !== null) for (const a of args) if (tracer.isTraced(a)) return tracer.record(def, args, attrs);
  return evaluate(def, args as readonly Val[], attrs);
}

/** Builds by computing and recording: composites (softmax, mean) run on it eagerly or traced. */
export const tracing: Builder<Val | Traced> = {
  op: (name, args, attrs = NO_ATTRS) => apply(getOp(name), args, attrs),
  constant: (value) => value,
  typeOf: (v) => typeOfVal(valueOf(v)),
};
