// How the runtime's op functions check their arguments and reach the registry: shared by ops.ts
// and ops-models.ts, and kept out of them so that `export * from "./ops.js"` exports ops only.

import { type OpDef, gradcOps, ShapeError } from "../compiler/ops/index.js";
import type { Val } from "../compiler/ops/values.js";
import { GradcError } from "./error.js";
import { shapeRefusal } from "./codes.js";
import { type Traced, apply, isTraced } from "./eager.js";
import { isTensor } from "./tensor.js";
import type { BinaryOp, UnaryOp } from "./ops.js";

export type Arg = Val | Traced;

/** Checks an argument of op `op` is a number, a well-formed tensor or a traced value. */
export function operand(op: string, x: unknown, position: number): Arg {
  if (typeof x === "number" || isTraced(x)) return x;
  if (isTensor(x)) {
    let n = 1;
    for (const d of x.shape) n *= d;
    if (n !== x.data.length)
      throw new GradcError(`${op}: argument ${position + 1} has shape [${x.shape.join(", ")}] but ${x.data.length} values`);
    return x;
  }
  throw new GradcError(`${op}: argument ${position + 1} must be a number or a tensor, got ${describe(x)}`);
}

export function describe(x: unknown): string {
  if (x === null) return "null";
  if (Array.isArray(x)) return "an array (make it a tensor with tensor(...))";
  return typeof x === "object" ? "an object" : typeof x;
}

/** The primitive gradc exports as `name` (its registry entry's `gradc`). */
export function exported(name: string): OpDef {
  const def = gradcOps().get(name);
  if (def === undefined) throw new Error(`no op of the registry is exported from gradc as ${name}`);
  return def;
}

/**
 * The runtime function of the elementwise op gradc exports as `name`: one typed line per op,
 * `export const exp: UnaryOp = unary("exp")`. test/runtime/exports.test.ts checks that every
 * name the registry exposes has one.
 */
export function unary(name: string): UnaryOp {
  const def = exported(name);
  return ((x: unknown) => apply(def, [operand(def.name, x, 0)])) as UnaryOp;
}

/** Like `unary`, for ops of two arguments: `export const add: BinaryOp<"add"> = binary("add")`. */
export function binary<Op extends string>(name: Op): BinaryOp<Op> {
  const def = exported(name);
  return ((x: unknown, y: unknown) => apply(def, [operand(def.name, x, 0), operand(def.name, y, 1)])) as BinaryOp<Op>;
}

/** Runs a composite, reporting a shape problem as a GradcError like the primitives do. */
export function guarded<T>(name: string, run: () => T): T {
  try {
    return run();
  } catch (e) {
    if (e instanceof ShapeError) throw shapeRefusal(name, e);
    throw e;
  }
}

