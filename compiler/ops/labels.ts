// Class labels: `oneHot` turns i32 labels into a float encoding, `argmax` turns scores back
// into i32 labels (the first maximal entry, like the max gate), and `crossEntropy` is the loss
// between them, written from primitives so it needs no gradient rule of its own.

import type { Attrs, DType, Dim, Type } from "../ir/types.js";
import { axisOf, requireIndices } from "./gather.js";
import { indexProblem } from "./index-check.js";
import { type Builder, type KernelOp, defineOp, formatShape, ShapeError } from "./registry.js";
import { logSumExp, mean } from "./composite.js";
import { type TensorVal, allocData, sizeOf } from "./values.js";

const classes = (attrs: Attrs): number => attrs["n"] as number;

/** `one_hot(labels) {n, dtype}`: 1 where the last axis equals the label, 0 elsewhere. */
export const oneHot = defineOp<KernelOp>({
  kind: "kernel",
  name: "one_hot",
  label: "oneHot",
  gradc: "oneHot",
  arity: 1,
  pure: true,
  infer([labels], attrs): Type {
    requireIndices(labels!, "the labels of oneHot");
    const n = classes(attrs);
    if (!Number.isInteger(n) || n < 1) throw new ShapeError(`oneHot needs a whole number of classes, at least 1, got ${n}`, "dtype");
    const dtype = (attrs["dtype"] as DType | undefined) ?? "f64";
    if (dtype !== "f64" && dtype !== "f32") throw new ShapeError(`oneHot gives an f64 or f32 tensor, not ${String(dtype)}`, "dtype");
    return { dtype, shape: [...labels!.shape, n] };
  },
  evaluate([labels], attrs) {
    const l = labels as TensorVal;
    const n = classes(attrs);
    const data = allocData((attrs["dtype"] as DType | undefined) ?? "f64", l.data.length * n);
    l.data.forEach((at, j) => {
      const problem = indexProblem(at, n);
      if (problem !== undefined) throw new ShapeError(`label ${problem.replace(/^index /, "")}`, "index");
      data[j * n + at] = 1;
    });
    return { shape: [...l.shape, n], data };
  },
  vjp: "not-differentiable",
  jvp: "not-differentiable",
  emit: (k, node) =>
    k.loops(node, (w, { args }, attrs) => {
      const n = String(classes(attrs));
      w.line(`${w.out}.fill(0);`);
      w.line(`for (let j = 0; j < ${w.size(args[0]!.shape)}; j++) {`);
      w.line(`  const at = ${w.read(w.args[0]!, "j")};`);
      w.line(`  ${w.checkIndex("at", n, "label")}`);
      w.line(`  ${w.out}[j * ${n} + at] = 1;`);
      w.line("}");
    }),
});

/** `argmax(x) {axis}`: the i32 position of the first maximal entry along `axis`. */
export const argmax = defineOp<KernelOp>({
  kind: "kernel",
  name: "argmax",
  gradc: "argmax",
  arity: 1,
  pure: true,
  infer([x], attrs): Type {
    if (x!.dtype !== "f64" && x!.dtype !== "f32") throw new ShapeError(`argmax takes a float tensor, got ${x!.shape.length === 0 ? "a number" : `an ${x!.dtype} tensor`}`, "dtype");
    if (x!.shape.length < 2)
      throw new ShapeError(`argmax gives a tensor of indices, so x needs rank 2 or more, got shape ${formatShape(x!.shape)}`, "dtype");
    const axis = axisOf(attrs, x!.shape.length);
    return { dtype: "i32", shape: x!.shape.filter((_d, k) => k !== axis) };
  },
  evaluate([x], attrs) {
    const t = x as TensorVal;
    const axis = axisOf(attrs, t.shape.length);
    const [P, N, Q] = [sizeOf(t.shape.slice(0, axis)), t.shape[axis]!, sizeOf(t.shape.slice(axis + 1))];
    const data = new Int32Array(P * Q);
    for (let p = 0; p < P; p++)
      for (let q = 0; q < Q; q++) {
        let best = -Infinity;
        let at = -1;
        for (let j = 0; j < N; j++) {
          const v = t.data[(p * N + j) * Q + q]!;
          if (at < 0 || v > best) [best, at] = [v, j];
        }
        data[p * Q + q] = at;
      }
    return { shape: t.shape.filter((_d, k) => k !== axis), data };
  },
  vjp: "not-differentiable",
  jvp: "not-differentiable",
  emit: (k, node) =>
    k.loops(node, (w, { args }, attrs) => {
      const shape = args[0]!.shape;
      const axis = axisOf(attrs, shape.length);
      const [P, N, Q] = [w.size(shape.slice(0, axis)), w.dim(shape[axis]!), w.size(shape.slice(axis + 1))];
      w.line(`for (let p = 0; p < ${P}; p++) {`);
      w.line(`  for (let i0 = 0; i0 < ${Q}; i0++) {`);
      // Ties go to the first maximal entry, as with the max gate.
      w.line("    let best = -Infinity, at = -1;");
      w.line(`    for (let j = 0; j < ${N}; j++) {`);
      w.line(`      const a = ${w.read(w.args[0]!, `(p * ${N} + j) * ${Q} + i0`)};`);
      w.line("      if (at < 0 || a > best) { best = a; at = j; }");
      w.line("    }");
      w.line(`    ${w.out}[p * ${Q} + i0] = at;`);
      w.line("  }");
      w.line("}");
    }),
});

/**
 * `crossEntropy(logits: [B, C], labels: i32 [B])`: the mean over the batch of
 * `logSumExp(logits_b) − logits_b[label_b]` (PyTorch's `cross_entropy`). logSumExp subtracts
 * the row maximum, so logits of ±1000 stay finite; the gradient is (softmax − oneHot) / B.
 */
export function crossEntropy<V>(b: Builder<V>, logits: V, labels: V): V {
  const lt = b.typeOf(logits);
  const yt = b.typeOf(labels);
  if (lt.shape.length !== 2 || (lt.dtype !== "f64" && lt.dtype !== "f32"))
    throw new ShapeError(`crossEntropy takes float logits of shape [B, C], got ${lt.shape.length === 0 ? "a number" : `an ${lt.dtype} tensor of shape ${formatShape(lt.shape)}`}`, "dtype");
  requireIndices(yt, "the labels of crossEntropy");
  const [batch, c] = lt.shape as [Dim, Dim];
  if (yt.shape.length !== 1 || yt.shape[0] !== batch)
    throw new ShapeError(`crossEntropy takes labels of shape [${batch}] for logits of shape ${formatShape(lt.shape)}, got ${formatShape(yt.shape)}`, "dtype");
  if (typeof c !== "number") throw new ShapeError(`crossEntropy needs the number of classes known at compile time, got ${c}`, "dtype");
  const picked = b.op("sum", [b.op("mul", [logits, b.op("one_hot", [labels], { n: c, dtype: lt.dtype })])], { axes: [1], keepdims: false });
  return mean(b, b.op("sub", [logSumExp(b, logits, 1), picked]));
}
