// Result types of the label ops (take, takeAlongAxis, oneHot, argmax, crossEntropy) and of i32
// tensors, pinned with expectTypeOf. Nothing here runs: `npm run typecheck` checks the file, and
// each pin fails that check when the type it names changes. Lines under @ts-expect-error are
// mistakes the types must refuse.

import { expectTypeOf } from "vitest";
import { type Tensor, argmax, crossEntropy, oneHot, take, takeAlongAxis, tensor, zeros } from "gradc";

declare const emb: Tensor<[1000, 16]>;
declare const tokens: Tensor<[8, 32], "i32">;
declare const logits: Tensor<[8, 10]>;
declare const logits32: Tensor<[8, 10], "f32">;
declare const labels: Tensor<[8], "i32">;
declare const floats8: Tensor<[8]>;

expectTypeOf(take(emb, tokens)).toEqualTypeOf<Tensor<[8, 32, 16]>>();
expectTypeOf(take(emb, labels, 1)).toEqualTypeOf<Tensor<[1000, 8]>>();
expectTypeOf(take(emb, labels, -1)).toEqualTypeOf<Tensor<[1000, 8]>>();
expectTypeOf(takeAlongAxis(logits, zeros([8, 1], "i32"), 1)).toEqualTypeOf<Tensor<[8, 1]>>();
expectTypeOf(oneHot(labels, 10)).toEqualTypeOf<Tensor<[8, 10]>>();
expectTypeOf(oneHot(labels, 10, "f32")).toEqualTypeOf<Tensor<[8, 10], "f32">>();
expectTypeOf(argmax(logits, 1)).toEqualTypeOf<Tensor<[8], "i32">>();
expectTypeOf(argmax(logits32, -1)).toEqualTypeOf<Tensor<[8], "i32">>();
expectTypeOf(crossEntropy(logits, labels)).toEqualTypeOf<number>();
expectTypeOf(crossEntropy(logits32, labels)).toEqualTypeOf<number>();
expectTypeOf(tensor(Int32Array.from([1, 2]))).toEqualTypeOf<Tensor<[number], "i32">>();
expectTypeOf(labels.data).toEqualTypeOf<Int32Array>();

// @ts-expect-error indices are i32
take(emb, logits);
// @ts-expect-error labels are i32
crossEntropy(logits, floats8);
// @ts-expect-error oneHot encodes i32 labels
oneHot(logits, 10);
