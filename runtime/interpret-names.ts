// The names interpreted code may use without defining them, and how each is treated: gradc's
// ops (called on traced values), its transformations, the few globals of the compiler's
// language (Math, undefined, NaN, Infinity), and the lexical scopes of the evaluator. Anything
// else must come from the function itself or from `scope`.

import { MATH_CONSTANTS as LANGUAGE_CONSTANTS, type OpDef, gradcOpNames, gradcOps, mathOps } from "../compiler/ops/index.js";
import * as labels from "./labels.js";
import * as ops from "./ops.js";
import * as modelOps from "./ops-models.js";
import { ones, zeros } from "./tensor.js";

const RUNTIME_OPS: Readonly<Record<string, unknown>> = { ...ops, ...modelOps, ...labels };

/** gradc's ops, by the names user code imports them under: the registry's list (ops/exposure.ts). */
export const GRADC: Readonly<Record<string, unknown>> = Object.freeze(
  Object.fromEntries([
    ...gradcOpNames().map((name) => {
      const fn = RUNTIME_OPS[name];
      if (typeof fn !== "function") throw new Error(`internal: gradc exposes ${name}, but runtime/ops.ts, ops-models.ts and labels.ts do not export it`);
      return [name, fn] as const;
    }),
    ["zeros", zeros],
    ["ones", ones],
  ]),
);

/**
 * Argument counts of the ops that take exactly their values (the others, with an axis, a shape
 * or options after them, or a list, check their own arguments): the registry's arity, where the
 * runtime's function takes no more.
 */
export const GRADC_ARITY: Readonly<Record<string, number>> = Object.freeze(
  Object.fromEntries(
    [...gradcOps()]
      // An op of a list (concat) counts the tensors in it, not its arguments.
      .filter(([name, def]) => def.listArgs !== true && (GRADC[name] as (...a: unknown[]) => unknown).length === def.arity)
      .map(([name, def]) => [name, def.arity]),
  ),
);

/** gradc exports that are not ops of the language, and what to do instead (GRADC1028). */
export const GRADC_ELSEWHERE: Readonly<Record<string, string>> = Object.freeze({
  tensor: "Build the tensor outside the function and pass it as an argument (one not listed in argnums).",
  randn: "Draw the random tensor outside the function and pass it as an argument (one not listed in argnums).",
  isTensor: "Call it outside the differentiable function.",
  GradcError: "Call it outside the differentiable function.",
  gradcErrorPrelude: "Call it outside the differentiable function.",
  checkGrad: "Call it outside the differentiable function.",
  adam: "Call it outside the differentiable function.",
  sgd: "Call it outside the differentiable function.",
});

/** gradc's exports that are not ops, by value (registered by index.ts), for GRADC1028 wherever they are reached. */
export const elsewhere = new Map<unknown, string>();

/** Registers gradc's exports so that the ones that are not ops of the language are refused (GRADC1028). */
export function registerExports(exports: Readonly<Record<string, unknown>>): void {
  for (const [name, value] of Object.entries(exports))
    if (Object.prototype.hasOwnProperty.call(GRADC_ELSEWHERE, name) && (typeof value === "function" || typeof value === "object")) elsewhere.set(value, name);
}

/** Functions that handle traced values themselves: called, not interpreted. */
export const tapeAware = new WeakSet<object>(Object.values(GRADC).filter((v): v is object => typeof v === "function"));

/** gradc's transformations (grad, jvp, …), registered by the files defining them. */
export const TRANSFORMS: Record<string, unknown> = {};
const transformFns = new WeakSet<object>();

/** Makes `grad` & co. resolvable in interpreted code, and called rather than interpreted. */
export function registerTransforms(fns: Readonly<Record<string, object>>): void {
  Object.assign(TRANSFORMS, fns);
  for (const f of Object.values(fns)) {
    tapeAware.add(f);
    transformFns.add(f);
  }
}

/** True for grad, valueAndGrad, jvp and customVjp themselves. */
export const isTransform = (fn: unknown): boolean => typeof fn === "function" && transformFns.has(fn);

/** Marks a function that handles traced values itself (what a transformation returns). */
export function callNatively<T extends object>(fn: T): T {
  tapeAware.add(fn);
  return fn;
}

export const callsNatively = (fn: unknown): boolean => typeof fn === "function" && tapeAware.has(fn);

/** The globals of the compiler's language; any other global is refused (GRADC1003). */
export const GLOBALS: Readonly<Record<string, unknown>> = Object.freeze({
  Math, Infinity, NaN, undefined,
  // esbuild's keepNames wraps functions as __name(fn, "name").
  __name: <T>(fn: T) => fn,
});

/** What `Math.*` becomes on traced numbers: its registry op, folded left when variadic (max, min). */
export interface MathRule {
  readonly def: OpDef;
  readonly variadic: boolean;
}
/** The Math functions of the language: the registry's (ops/exposure.ts), by function value. */
export const MATH = new Map<unknown, MathRule>(
  [...mathOps()].map(([name, def]) => [(Math as unknown as Record<string, unknown>)[name], { def, variadic: def.variadic === true }]),
);
/** The Math constants of the language. */
export const MATH_CONSTANTS: ReadonlySet<string> = new Set(Object.keys(LANGUAGE_CONSTANTS));
/** Each Math function's name, for messages. */
export const MATH_NAMES = new Map<unknown, string>(
  Object.getOwnPropertyNames(Math).map((k) => [(Math as unknown as Record<string, unknown>)[k], k]),
);

/**
 * Internal, for tests that run generated programs: the most trips a loop may run, and the most
 * calls one evaluation may make, before the evaluator gives up (a loop that never ends, or
 * helpers that call each other 2^30 times, would hang the test rather than fail it).
 */
export const limits = { loopTrips: Infinity, calls: Infinity };

// ---- scopes ------------------------------------------------------------------------------

export interface Binding {
  value: unknown;
  readonly mutable: boolean;
  /** A parameter of the differentiated function (its fields must not be assigned). */
  readonly param?: boolean;
}

export class Scope {
  readonly vars = new Map<string, Binding>();
  constructor(
    readonly parent: Scope | null,
    /** A function's top scope, where `var` declarations live. */
    readonly isFunction = false,
  ) {}

  /** The scope `var` declares into. */
  functionScope(): Scope {
    let s: Scope = this;
    while (!s.isFunction && s.parent !== null) s = s.parent;
    return s;
  }

  lookup(name: string): Binding | undefined {
    for (let s: Scope | null = this; s !== null; s = s.parent) {
      const b = s.vars.get(name);
      if (b !== undefined) return b;
    }
    return undefined;
  }
}

/** A free identifier nothing defines. */
export const UNRESOLVED = Symbol("unresolved");

/** A free identifier: from `scope`, a global of the language, or gradc's ops and transformations. */
export function resolveFree(name: string, scope: Readonly<Record<string, unknown>>): unknown {
  if (Object.prototype.hasOwnProperty.call(scope, name)) return scope[name];
  if (Object.prototype.hasOwnProperty.call(GLOBALS, name)) return GLOBALS[name];
  if (Object.prototype.hasOwnProperty.call(GRADC, name)) return GRADC[name];
  if (Object.prototype.hasOwnProperty.call(TRANSFORMS, name)) return TRANSFORMS[name];
  // A bundler renames an import that collides with another binding (`sum` → `sum2`). Read so
  // only where a bundler can have done it: unbundled, `add3` is the program's own helper (one
  // `scope` does not supply), never gradc's `add`.
  if (!runtimeBundled) return UNRESOLVED;
  const renamed = /^(.+?)\d+$/.exec(name)?.[1];
  if (renamed !== undefined && Object.prototype.hasOwnProperty.call(GRADC, renamed)) return GRADC[renamed];
  return UNRESOLVED;
}

/**
 * Whether gradc's runtime runs from a bundle (where the bundler may have renamed its imports in
 * the program): this file's URL is then the bundle's, or absent (CommonJS). Internal: tests set
 * it to check both readings.
 */
export let runtimeBundled = !/\/interpret-names\.[cm]?[jt]s(\?.*)?$/.test(String(import.meta.url));

/** Internal, for tests: read free names as a bundle's (true) or as unbundled modules' (false). */
export function setRuntimeBundled(bundled: boolean): void {
  runtimeBundled = bundled;
}

tapeAware.add(GLOBALS["__name"] as object);
