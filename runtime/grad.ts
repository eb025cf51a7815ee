// `grad` and `valueAndGrad` without compilation: the tape-based fallback. When gradc compiles
// a program these call sites are replaced by generated code; what runs here must give the same
// results, only slower.

import type { Val } from "../compiler/ops/values.js";
import { splitAux } from "./aux.js";
import { GradcError, gradcErrorPrelude } from "./error.js";
import { registerExports } from "./interpret-names.js";
import { adam, sgd } from "./optim.js";
import { Interpreter, callNatively, callsNatively, parseFunction } from "./interpret.js";
import { refusal } from "./refusal.js";
import { coded } from "./codes.js";
import { containsVar, nestedValueAndGrad } from "./nested.js";
import { type Leaf, mapLeaves } from "./pytree.js";
import { Var, backward, isRecording, record } from "./tape.js";
import { type DType, type Tensor, allocate, dtypeOfTensor, isTensor, randn, tensor } from "./tensor.js";

// The fallback refuses gradc's functions that are not ops of the language, however a model
// reaches them (here, so that only bundles that run the fallback hold the registration).
registerExports({ tensor, randn, isTensor, GradcError, gradcErrorPrelude, adam, sgd });

/** A differentiable function: any parameters, a scalar loss. */
export type LossFn = (...args: any[]) => number; // eslint-disable-line @typescript-eslint/no-explicit-any
/** A differentiable function with `hasAux`: returns `[loss, aux]`. */
export type AuxFn = (...args: any[]) => readonly [number, unknown]; // eslint-disable-line @typescript-eslint/no-explicit-any
/**
 * The auxiliary value of an AuxFn, as it comes back: numbers widened (`as const` makes `2` the
 * literal type 2, but aux holds whatever number was computed), tensors as they are.
 */
export type AuxOf<F> = F extends (...args: never[]) => readonly [number, infer X] ? Plain<X> : never;
type Plain<X> = X extends number
  ? number
  : X extends Tensor<readonly number[], DType>
    ? X
    : X extends object
      ? { -readonly [K in keyof X]: Plain<X[K]> }
      : X;

type At<P extends readonly unknown[], I> = I extends keyof P ? P[I] : never;

/**
 * The gradients `grad(f, { argnums })` returns: one per differentiated argument, each shaped
 * like that argument.
 */
export type GradsOf<F extends LossFn | AuxFn, A> = A extends number
  ? At<Parameters<F>, A>
  : A extends readonly number[]
    ? { -readonly [K in keyof A]: At<Parameters<F>, A[K]> }
    : never;

/**
 * Options of `grad` and `valueAndGrad`.
 *
 * @example
 * grad(loss, { argnums: [0, 2], scope: { layer } })
 */
export interface GradOptions<A extends number | readonly number[]> {
  /** Which arguments to differentiate: one index (one gradient) or several (a tuple). Default 0. */
  argnums?: A;
  /**
   * Free identifiers the uncompiled fallback cannot see: helper functions (interpreted in
   * turn) and constants the function's source refers to. Ignored by compiled code.
   */
  scope?: Readonly<Record<string, unknown>>;
  /**
   * `f` returns `[loss, aux]`: aux (numbers and tensors in objects and arrays) is returned
   * beside the value (`valueAndGrad` gives `[[loss, aux], grads]`, `grad` gives `[grads, aux]`)
   * and is not differentiated.
   */
  hasAux?: boolean;
  /**
   * Compiled code returns the same result objects on every call, overwritten in place, so a
   * call allocates nothing: a result is valid until the next call of the same function (copy
   * what you keep, and do not pass a result back in as an argument). Uncompiled, results are
   * fresh each call (same values).
   */
  reuse?: boolean;
}

/**
 * The function computing `f` and its gradient with respect to the `argnums` arguments:
 * `(...args) => [value, grads]`. Gradients have the structure of their argument (pytrees of
 * numbers and tensors). Uncompiled, it interprets `f`'s source on the runtime tape.
 *
 * @example
 * const step = valueAndGrad((w: Tensor<[3]>, x: Tensor<[3]>) => sum(square(mul(w, x))));
 * const [loss, dw] = step(w, x);
 */
export function valueAndGrad<F extends LossFn, const A extends number | readonly number[] = 0>(
  f: F,
  options?: GradOptions<A> & { hasAux?: false },
): (...args: Parameters<F>) => [number, GradsOf<F, A>];
/**
 * With `hasAux: true`, `f` returns `[loss, aux]` and the result is `[[loss, aux], grads]`: aux
 * (numbers and tensors in objects and arrays) is computed with the loss, not differentiated.
 *
 * @example
 * const step = valueAndGrad((w: Tensor<[3]>, x: Tensor<[3]>) => {
 *   const y = mul(w, x);
 *   return [sum(square(y)), { y }] as const;
 * }, { hasAux: true });
 * const [[loss, { y }], dw] = step(w, x);
 */
export function valueAndGrad<F extends AuxFn, const A extends number | readonly number[] = 0>(
  f: F,
  options: GradOptions<A> & { hasAux: true },
): (...args: Parameters<F>) => [[number, AuxOf<F>], GradsOf<F, A>];
export function valueAndGrad(f: LossFn | AuxFn, options: GradOptions<number | readonly number[]> = {}): (...args: unknown[]) => [unknown, unknown] {
  const argnums: number | readonly number[] = options.argnums ?? 0;
  const indices = typeof argnums === "number" ? [argnums] : [...argnums];
  // The compiler's GRADC1009, with what is wrong in particular.
  const badArgnums = (arity: number, why: string): never => {
    throw refusal("GRADC1009", [arity, JSON.stringify(argnums)], undefined, `(argnums: ${why})`);
  };
  for (const i of indices) if (!Number.isInteger(i) || i < 0) badArgnums(f.length, `${String(i)} is not an argument index`);
  if (indices.length === 0) badArgnums(f.length, "name at least one argument to differentiate");
  if (new Set(indices).size !== indices.length) badArgnums(f.length, "an argument is listed twice");
  for (const flag of ["hasAux", "reuse"] as const)
    if (options[flag] !== undefined && typeof options[flag] !== "boolean")
      throw refusal("GRADC1040", [flag, "valueAndGrad", String(options[flag])], undefined, `(${flag}: expected true or false)`);
  for (const key of Object.keys(options)) if (!OPTIONS.has(key)) throw refusal("GRADC1025", [key, "valueAndGrad"]);
  if (typeof f !== "function")
    throw isRecording()
      ? refusal("GRADC1032", ["valueAndGrad", "its first argument must be a function of this program."])
      : refusal("GRADC1008", ["valueAndGrad"]);
  const hasAux = options.hasAux === true;
  const run = runner(f as LossFn, options.scope ?? {});

  const withGrad = (...args: unknown[]): [unknown, unknown] => {
    // Inside another transformation (or on its traced values): record this backward pass too.
    if (isRecording() || args.some(containsVar)) {
      if (hasAux) throw refusal("GRADC1032", ["grad", "'hasAux' is not an option it supports here (only argnums)."], `in ${f.name || "the function"}`);
      return nestedValueAndGrad(run, f.name || "the function", indices, typeof argnums === "number", args) as [number, unknown];
    }
    const traced = [...args];
    const leaves: Var[][] = [];
    for (const i of indices) {
      if (i >= args.length) badArgnums(args.length, `${i} is out of range, ${f.name || "f"} got ${args.length} arguments`);
      const vars: Var[] = [];
      traced[i] = mapLeaves(args[i], (leaf) => {
        // As the compiler refuses it (GRADC2009): integers have no gradient.
        if (typeof leaf === "object" && leaf.data instanceof Int32Array)
          throw coded("GRADC2009", new GradcError(`argnums: argument ${i} of ${f.name || "f"} holds an i32 tensor; labels and indices have no gradient, leave it out of argnums`));
        const v = new Var(leaf as Val);
        vars.push(v);
        return v;
      });
      leaves.push(vars);
    }
    const { result, tape } = record(() => run(traced));
    const [out, aux] = hasAux ? splitAux(result, f.name || "the function") : [result, undefined];
    const value = out instanceof Var ? out.value : out;
    if (typeof value !== "number") throw refusal("GRADC1005", [describeResult(value)], `in ${f.name || "the function"}`);
    // A nested transformation may have sent cotangents to these leaves already.
    for (const vars of leaves) for (const v of vars) v.grad = null;
    if (out instanceof Var) backward(out, 1, tape);
    const handedOut = new Set<object>();
    const grads = indices.map((i, k) => {
      let next = 0;
      return mapLeaves(args[i], (leaf) => gradientOf(leaves[k]![next++]!, leaf, handedOut));
    });
    return [hasAux ? [value, aux] : value, typeof argnums === "number" ? grads[0] : grads];
  };
  return callNatively(withGrad);
}

/**
 * The function computing the gradient of `f` with respect to argument 0, or to the `argnums`
 * arguments (a tuple when `argnums` is an array). `f` returns a number.
 *
 * @example
 * const fxyz = (x: number, y: number, z: number) => (x + y) * z;
 * grad(fxyz)(-2, 5, -4);                        // -4
 * grad(fxyz, { argnums: [0, 2] })(-2, 5, -4);   // [-4, 3]
 */
export function grad<F extends LossFn, const A extends number | readonly number[] = 0>(
  f: F,
  options?: GradOptions<A> & { hasAux?: false },
): (...args: Parameters<F>) => GradsOf<F, A>;
/**
 * With `hasAux: true`, `f` returns `[loss, aux]` and the result is `[grads, aux]`.
 *
 * @example
 * const [dw, { y }] = grad((w: Tensor<[3]>, x: Tensor<[3]>) => {
 *   const y = mul(w, x);
 *   return [sum(square(y)), { y }] as const;
 * }, { hasAux: true })(w, x);
 */
export function grad<F extends AuxFn, const A extends number | readonly number[] = 0>(
  f: F,
  options: GradOptions<A> & { hasAux: true },
): (...args: Parameters<F>) => [GradsOf<F, A>, AuxOf<F>];
export function grad(f: LossFn | AuxFn, options: GradOptions<number | readonly number[]> = {}): (...args: unknown[]) => unknown {
  const vg = (valueAndGrad as (f: LossFn | AuxFn, o: GradOptions<number | readonly number[]>) => (...args: unknown[]) => [unknown, unknown])(f, options);
  if (options.hasAux === true)
    return callNatively((...args: unknown[]) => {
      const [[, aux], grads] = vg(...args) as [[number, unknown], unknown];
      return [grads, aux];
    });
  return callNatively((...args: unknown[]) => vg(...args)[1]);
}

/**
 * How to evaluate `f` on traced values: interpret its source when there is one; otherwise
 * (bound or native functions) call it, which works when it is written with gradc ops only.
 */
export function runner(f: (...args: any[]) => unknown, scope: Readonly<Record<string, unknown>>): (args: unknown[]) => unknown { // eslint-disable-line @typescript-eslint/no-explicit-any
  // A transformed function (grad(f) passed to grad) handles traced values itself.
  if (callsNatively(f)) return (args) => f(...args);
  const parsed = parseFunction(f);
  if (parsed === null) return (args) => f(...args);
  const interpreter = new Interpreter(scope);
  return (args) => interpreter.call(parsed, args);
}

/** The options grad and valueAndGrad take (the compiler's list). */
const OPTIONS = new Set(["argnums", "hasAux", "reuse", "scope"]);

/** What a function returned instead of a number, in the compiler's words (GRADC1005). */
function describeResult(v: unknown): string {
  if (isTensor(v)) return v.data instanceof Uint8Array ? "a boolean" : `a tensor of shape [${v.shape.join(", ")}]`;
  if (typeof v === "object" && v !== null) return "an object or array";
  if (typeof v === "boolean") return "a boolean";
  if (typeof v === "function") return "a function";
  return String(v);
}

/** The gradient of one leaf as a fresh value of the leaf's kind, shape and dtype. */
function gradientOf(v: Var, leaf: Leaf, handedOut: Set<object>): Leaf {
  const g = v.grad instanceof Var ? v.grad.value : v.grad;
  if (typeof leaf === "number") {
    if (g === null) return 0;
    if (typeof g !== "number") throw new Error(`internal: gradient of a number is not a number`);
    return g;
  }
  const dtype: DType = dtypeOfTensor(leaf);
  const shape = [...leaf.shape];
  if (g === null || typeof g !== "object") return { shape, data: allocate(dtype, leaf.data.length) } as Tensor<number[], DType>;
  let data = g.data as Float64Array | Float32Array | Int32Array;
  // Cotangents may be shared between leaves (add passes its gradient to both sides) or be
  // stored in the other dtype; hand out each buffer once, in the leaf's dtype.
  if (handedOut.has(data) || (dtype === "f32") !== data instanceof Float32Array) {
    const copy = allocate(dtype, data.length);
    copy.set(data);
    data = copy;
  }
  handedOut.add(data);
  return { shape, data } as Tensor<number[], DType>;
}

