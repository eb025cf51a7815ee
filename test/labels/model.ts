// Models for test/labels: one per label op, each bound uncompiled here (the tape fallback) and
// compiled by the test, so the two and finite differences of the functions can be compared.
import { type Tensor, add, argmax, crossEntropy, matmul, mul, oneHot, sum, take, takeAlongAxis, tanh, valueAndGrad } from "gradc";

export function embed(e: Tensor<[5, 3]>, tokens: Tensor<[2, 4], "i32">, w: Tensor<[2, 4, 3]>): number {
  return sum(mul(tanh(take(e, tokens)), w));
}
export const gEmbed = valueAndGrad(embed);

export function columns(x: Tensor<[3, 4]>, idx: Tensor<[5], "i32">, w: Tensor<[3, 5]>): number {
  return sum(mul(take(x, idx, -1), w));
}
export const gColumns = valueAndGrad(columns);

export function along(x: Tensor<[3, 4]>, idx: Tensor<[3, 2], "i32">, w: Tensor<[3, 2]>): number {
  return sum(mul(takeAlongAxis(x, idx, 1), w));
}
export const gAlong = valueAndGrad(along);

export function encoded(x: Tensor<[4, 3]>, y: Tensor<[4], "i32">): number {
  return sum(mul(oneHot(y, 3), x));
}
export const gEncoded = valueAndGrad(encoded);

export function picked(x: Tensor<[4, 3]>, s: Tensor<[4, 3]>): number {
  return sum(mul(take(x, argmax(s, 1), 0), x));
}
export const gPicked = valueAndGrad(picked);

export function classify(w: Tensor<[3, 4]>, b: Tensor<[4]>, x: Tensor<[5, 3]>, y: Tensor<[5], "i32">): number {
  return crossEntropy(add(matmul(x, w), b), y);
}
export const gClassify = valueAndGrad(classify, { argnums: [0, 1] });

export function logits(z: Tensor<[3, 4]>, y: Tensor<[3], "i32">): number {
  return crossEntropy(z, y);
}
export const gLogits = valueAndGrad(logits);

export function logits32<B extends number>(z: Tensor<[B, 4], "f32">, y: Tensor<[B], "i32">): number {
  return crossEntropy(z, y);
}
export const gLogits32 = valueAndGrad(logits32);

export function embed32(e: Tensor<[5, 3], "f32">, tokens: Tensor<[2, 4], "i32">, w: Tensor<[2, 4, 3], "f32">): number {
  return sum(mul(tanh(take(e, tokens)), w));
}
export const gEmbed32 = valueAndGrad(embed32);

export function along32(x: Tensor<[3, 4], "f32">, idx: Tensor<[3, 2], "i32">, w: Tensor<[3, 2], "f32">): number {
  return sum(mul(takeAlongAxis(x, idx, 1), w));
}
export const gAlong32 = valueAndGrad(along32);

export function classifyAux(w: Tensor<[3, 4]>, x: Tensor<[5, 3]>, y: Tensor<[5], "i32">): [number, Tensor<[5], "i32">] {
  const z = matmul(x, w);
  return [crossEntropy(z, y), argmax(z, 1)];
}
export const gClassifyAux = valueAndGrad(classifyAux, { hasAux: true });
