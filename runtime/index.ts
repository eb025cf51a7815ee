// gradc's runtime: what a program imports from "gradc". Tensors and their ops, the grad
// transformations (compiled away by gradc, or run on the tape when not), a gradient checker and
// optimizers. It never loads the compiler: only the op registry, which defines the semantics
// both share.

export { type DType, type DataOf, type NestedArray, type Shape, type Tensor, isTensor, ones, randn, tensor, zeros } from "./tensor.js";
export { GradcError, type GradcErrorConstructor, gradcErrorPrelude } from "./error.js";
// Every tensor op and its types: one exported function per op in ops.ts (and ops-models.ts for
// the ops of convolutional and attention models; the export test checks that they are exactly
// the ops the registry exposes in gradc).
export * from "./ops.js";
export * from "./ops-models.js";
export { type FloatDType, argmax, crossEntropy, oneHot, take, takeAlongAxis } from "./labels.js";
export type {
  BroadcastShape,
  MatmulShape,
  PermutedShape,
  PromoteDType,
  Reduced,
  ReducedShape,
  ShapeError,
  TakeShape,
  TensorOf,
  TransposeShape,
} from "./shapes.js";
export { type AuxFn, type AuxOf, type GradOptions, type GradsOf, type LossFn, grad, valueAndGrad } from "./grad.js";
export { type JvpOptions, customVjp, jvp } from "./transforms.js";
export { type CheckGradOptions, type CheckGradResult, checkGrad } from "./checkgrad.js";
export { type Adam, type AdamOptions, adam, sgd } from "./optim.js";
