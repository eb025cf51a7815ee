// Gradient checking against central finite differences, entry by entry.

import { GradcError } from "./error.js";
import { grad as fallbackGrad, type LossFn } from "./grad.js";
import { type Path, forEachLeaf, formatPath, isContainer, mapLeaves } from "./pytree.js";
import { registerExports } from "./interpret-names.js";
import { isTensor } from "./tensor.js";

/**
 * Options of `checkGrad`.
 *
 * @example
 * checkGrad(loss, [params, x], { argnums: 0, eps: 1e-5, tol: 1e-4 })
 */
export interface CheckGradOptions {
  /** Arguments to check, as for `grad`. Default 0. */
  argnums?: number | readonly number[];
  /** Finite-difference step. Default 1e-6, or 1e-3 when a checked tensor is f32. */
  eps?: number;
  /** Largest acceptable error (see `CheckGradResult.maxError`). Default 1e-5, or 1e-2 for f32. */
  tol?: number;
  /**
   * The gradient function to check, shaped like `grad(f, { argnums })` (e.g. a compiled one).
   * Default: `grad(f, { argnums, scope })`.
   */
  grad?: (...args: never[]) => unknown;
  /** Passed on to the default `grad`. */
  scope?: Readonly<Record<string, unknown>>;
}

/**
 * What `checkGrad` found.
 *
 * @example
 * const { ok, maxError, worst } = checkGrad(loss, [params]);
 */
export interface CheckGradResult {
  /** True when `maxError <= tol`. */
  ok: boolean;
  /**
   * The largest error over all checked entries: `|analytic − numeric| / max(1, |analytic|, |numeric|)`,
   * relative for large gradients and absolute below 1 (so tiny gradients are not judged by noise);
   * Infinity when either side is NaN.
   */
  maxError: number;
  /** The entry with the largest error (null when there are no entries): `path` is like `args[0].w[1, 2]`. */
  worst: { path: string; analytic: number; numeric: number } | null;
  /** How many entries were compared. */
  checked: number;
}

/**
 * Compares the gradient of `f` at `args` with central finite differences
 * `(f(x + eps) − f(x − eps)) / 2eps`, for every number and tensor entry of the checked
 * arguments, and reports the worst entry. `f` is called directly on plain values; `args` are
 * not modified.
 *
 * @example
 * const r = checkGrad((w: Tensor<[3]>) => sum(square(w)), [tensor([1, 2, 3])]);
 * if (!r.ok) console.error(`gradient off at ${r.worst?.path}`, r.worst);
 */
export function checkGrad(f: LossFn, args: readonly unknown[], options: CheckGradOptions = {}): CheckGradResult {
  const argnums = options.argnums ?? 0;
  const indices = typeof argnums === "number" ? [argnums] : [...argnums];
  const gradFn = options.grad ?? fallbackGrad(f, { argnums, ...(options.scope ? { scope: options.scope } : {}) });
  const analyticRaw = (gradFn as (...a: unknown[]) => unknown)(...args);
  const analytic = typeof argnums === "number" ? [analyticRaw] : (analyticRaw as unknown[]);
  if (!Array.isArray(analytic) || analytic.length !== indices.length)
    throw new GradcError(`checkGrad: the gradient function returned ${analytic?.length ?? "no"} gradients for ${indices.length} arguments`);

  let f32 = false;
  for (const i of indices) forEachLeaf(args[i], (leaf) => (f32 ||= isTensor(leaf) && leaf.data instanceof Float32Array));
  const eps = options.eps ?? (f32 ? 1e-3 : 1e-6);
  const tol = options.tol ?? (f32 ? 1e-2 : 1e-5);

  // Perturb a private copy, so the caller's arguments are never touched.
  const work = args.map((a, i) => (indices.includes(i) ? clone(a) : a));
  const evaluate = (): number => {
    const v = f(...work);
    if (typeof v !== "number") throw new GradcError("checkGrad: f must return a number");
    return v;
  };

  const result: CheckGradResult = { ok: true, maxError: 0, worst: null, checked: 0 };
  const compare = (path: string, a: number, n: number): void => {
    const relative = Math.abs(a - n) / Math.max(1, Math.abs(a), Math.abs(n));
    // A NaN on either side is as wrong as it gets (and would compare false everywhere).
    const error = Number.isNaN(relative) ? Infinity : relative;
    result.checked++;
    if (result.worst === null || error > result.maxError) {
      result.maxError = error;
      result.worst = { path, analytic: a, numeric: n };
    }
  };

  indices.forEach((argIndex, k) => {
    const gradTree = analytic[k];
    const gradLeaves = new Map<string, unknown>();
    forEachLeaf(gradTree, (leaf, path) => gradLeaves.set(formatPath(path), leaf));
    forEachLeaf(work[argIndex], (leaf, path) => {
      const key = formatPath(path);
      const g = gradLeaves.get(key);
      const where = `args[${argIndex}]${key === "(root)" ? "" : key}`;
      if (typeof leaf === "number") {
        if (typeof g !== "number") throw new GradcError(`checkGrad: no number gradient at ${where}`);
        const set = setter(work, argIndex, path);
        const n = (set(leaf + eps), evaluate()) - (set(leaf - eps), evaluate());
        set(leaf);
        compare(where, g, n / (2 * eps));
        return;
      }
      if (!isTensor(g) || g.data.length !== leaf.data.length)
        throw new GradcError(`checkGrad: no tensor gradient of shape [${leaf.shape.join(", ")}] at ${where}`);
      const data = leaf.data;
      for (let i = 0; i < data.length; i++) {
        const x = data[i]!;
        data[i] = x + eps;
        const up = evaluate();
        data[i] = x - eps;
        const down = evaluate();
        data[i] = x;
        compare(`${where}[${unravel(i, leaf.shape).join(", ")}]`, g.data[i]!, (up - down) / (2 * eps));
      }
    });
  });
  result.ok = result.maxError <= tol;
  return result;
}

/** A deep copy of a pytree (tensor data copied, other leaves shared). */
function clone(tree: unknown): unknown {
  return mapLeaves(tree, (leaf) => (typeof leaf === "number" ? leaf : { shape: [...leaf.shape], data: leaf.data.slice() }));
}

/** Writes a number leaf at `path` of argument `argIndex` (which may itself be the number). */
function setter(work: unknown[], argIndex: number, path: Path): (v: number) => void {
  if (path.length === 0) return (v) => (work[argIndex] = v);
  let container = work[argIndex];
  for (const k of path.slice(0, -1)) container = (container as Record<string | number, unknown>)[k];
  if (!isContainer(container)) throw new GradcError(`checkGrad: cannot reach ${formatPath(path)}`);
  const last = path[path.length - 1]!;
  return (v) => ((container as Record<string | number, unknown>)[last] = v);
}

function unravel(i: number, shape: readonly number[]): number[] {
  const idx = new Array<number>(shape.length);
  for (let ax = shape.length - 1; ax >= 0; ax--) {
    idx[ax] = i % shape[ax]!;
    i = Math.floor(i / shape[ax]!);
  }
  return idx;
}

registerExports({ checkGrad });
