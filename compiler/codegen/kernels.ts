// Tensor code generation: the one small interface codegen calls for anything that is not a
// scalar expression. (Filled in by the tensor backend.)

import type { Node, Value } from "../ir/types.js";
import { CodegenError, type FunctionEmitter } from "./js.js";

export interface KernelEmitter {
  /** JS expression for the run-time value of a symbolic dimension. */
  dimension(name: string): string;
  /** Emits a tensor node (elementwise loop, reduction, matmul, movement). */
  emit(node: Node): void;
  /** Emits an `if` whose results include tensors. */
  emitIf(node: Node, outs: readonly string[]): void;
  /** Validates a tensor argument and binds its IR parameter. */
  bindTensorArg(param: Value, access: string, fnName: string, argText: string): void;
  /** The expression that returns a value to the caller (tensors are copied out of buffers). */
  returned(v: Value): string;
}

export function createKernelEmitter(e: FunctionEmitter): KernelEmitter {
  const unsupported = (what: string): never => {
    throw new CodegenError(`${what}: tensor code generation is not available`);
  };
  return {
    dimension: (name) => unsupported(`dimension ${name}`),
    emit: (node) => unsupported(node.op),
    emitIf: () => unsupported("if with tensor results"),
    bindTensorArg: (_p, _a, _f, argText) => unsupported(argText),
    returned: (v) => e.operand(v),
  };
}
