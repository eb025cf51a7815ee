// An eager Builder: op rules (VJPs, composites) written against `Builder<V>` run on concrete
// values, each op computed by the registry's reference evaluation. Tests use it to check a
// rule numerically without building IR.

import type { Attrs, Type } from "../../compiler/ir/types.js";
import { type Builder, getOp } from "../../compiler/ops/index.js";
import { type Val, dtypeOf, shapeOf } from "../../compiler/ops/values.js";

export class EagerBuilder implements Builder<Val> {
  /** Names of the ops applied, in order (what a rule built). */
  readonly trace: string[] = [];

  op(name: string, args: readonly Val[], attrs: Attrs = {}): Val {
    this.trace.push(name);
    return getOp(name).evaluate(args, attrs);
  }

  constant(value: number, like: Val): Val {
    return dtypeOf(like) === "f32" ? Math.fround(value) : value;
  }

  typeOf(v: Val): Type {
    return { dtype: dtypeOf(v), shape: shapeOf(v) };
  }
}
