// Optimizers for training loops. They update parameter pytrees in place: tensor data is
// overwritten, numbers inside objects and arrays are replaced in their container. A bare number
// cannot be updated in place, so each returns the parameters (use the result for that case).

import { GradcError } from "./error.js";
import { type Leaf, updateLeaves } from "./pytree.js";

/**
 * One step of gradient descent, `p ← p − lr · g`, for every leaf of `params` (in place).
 * `grads` has the structure of `params`, as `grad` returns it.
 *
 * @example
 * const [loss, g] = step(params, x, y);
 * sgd(params, g, 0.1);
 */
export function sgd<P>(params: P, grads: P, lr: number): P {
  return updateLeaves(params, grads, (p, g) => {
    if (typeof p === "number") return p - lr * (g as number);
    const pd = p.data;
    const gd = (g as Exclude<Leaf, number>).data;
    for (let i = 0; i < pd.length; i++) pd[i] = pd[i]! - lr * gd[i]!;
    return p;
  }) as P;
}

/**
 * Hyperparameters of `adam`.
 *
 * @example
 * adam({ lr: 1e-3, beta1: 0.9, beta2: 0.999, eps: 1e-8 })
 */
export interface AdamOptions {
  /**
   * Step size: a number, or a schedule, the step size of each step as a function of its number
   * (1 for the first step), e.g. a cosine decay over `T` steps:
   * `(t) => 1e-3 * 0.5 * (1 + Math.cos((Math.PI * t) / T))`.
   */
  lr: number | ((step: number) => number);
  /** Decay of the first-moment estimate. Default 0.9. */
  beta1?: number;
  /** Decay of the second-moment estimate. Default 0.999. */
  beta2?: number;
  /** Added to the denominator for stability. Default 1e-8. */
  eps?: number;
}

/**
 * An Adam optimizer: its moment estimates and step count.
 *
 * @example
 * const opt: Adam = adam({ lr: 1e-3 });
 * opt.step(params, grads);
 */
export interface Adam {
  /** Applies one Adam update to `params` in place and returns them. */
  step<P>(params: P, grads: P): P;
  /** Steps taken so far. */
  readonly t: number;
}

/**
 * Adam (Kingma & Ba) with bias correction. Moment estimates are created lazily for each leaf,
 * keyed by its path in the parameter tree, on the first `step`.
 *
 * @example
 * const opt = adam({ lr: 1e-3 });
 * for (const batch of batches) opt.step(params, grad(loss)(params, batch));
 */
export function adam(options: AdamOptions): Adam {
  const { lr: rate, beta1 = 0.9, beta2 = 0.999, eps = 1e-8 } = options;
  if (typeof rate !== "function" && !(rate > 0)) throw new GradcError(`adam: lr must be positive, got ${rate}`);
  const moments = new Map<string, { m: Float64Array; v: Float64Array }>();
  let t = 0;
  return {
    get t() {
      return t;
    },
    step<P>(params: P, grads: P): P {
      t++;
      const lr = typeof rate === "function" ? rate(t) : rate;
      if (!(lr >= 0) || !Number.isFinite(lr)) throw new GradcError(`adam: lr(${t}) must be a finite number ≥ 0, got ${lr}`);
      const c1 = 1 - beta1 ** t;
      const c2 = 1 - beta2 ** t;
      return updateLeaves(params, grads, (p, g, key) => {
        const n = typeof p === "number" ? 1 : p.data.length;
        let state = moments.get(key);
        if (state === undefined || state.m.length !== n) {
          state = { m: new Float64Array(n), v: new Float64Array(n) };
          moments.set(key, state);
        }
        const { m, v } = state;
        const next = (i: number, x: number, gi: number): number => {
          m[i] = beta1 * m[i]! + (1 - beta1) * gi;
          v[i] = beta2 * v[i]! + (1 - beta2) * gi * gi;
          return x - (lr * (m[i]! / c1)) / (Math.sqrt(v[i]! / c2) + eps);
        };
        if (typeof p === "number") return next(0, p, g as number);
        const pd = p.data;
        const gd = (g as Exclude<Leaf, number>).data;
        for (let i = 0; i < n; i++) pd[i] = next(i, pd[i]!, gd[i]!);
        return p;
      }) as P;
    },
  };
}
