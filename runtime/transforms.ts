// `jvp` and `customVjp` without compilation, on the tape. When gradc compiles a program these
// are replaced by generated code; here they give the same results, only slower.

import type { OpDef } from "../compiler/ops/index.js";
import type { Val } from "../compiler/ops/values.js";
import { GradcError } from "./error.js";
import { coded } from "./codes.js";
import { grad, runner, valueAndGrad } from "./grad.js";
import { callNatively, registerTransforms } from "./interpret.js";
import { containsVar, inputVar, mapTraced, zerosLike } from "./nested.js";
import { Var, eager, isRecording, record, tracing, valueOf } from "./tape.js";

/** Options of `jvp`. */
export interface JvpOptions<A extends number | readonly number[]> {
  /** Which arguments get a tangent: one index or several. Default 0. */
  argnums?: A;
  /** Free identifiers the uncompiled fallback cannot see (see `grad`). Ignored by compiled code. */
  scope?: Readonly<Record<string, unknown>>;
  /**
   * Compiled code returns the same `[value, tangent]` objects on every call, overwritten in
   * place (valid until the next call; see `grad`). Uncompiled, results are fresh each call.
   */
  reuse?: boolean;
}

/** Argument positions from `argnums`, checked. */
function positions(argnums: number | readonly number[]): number[] {
  const indices = typeof argnums === "number" ? [argnums] : [...argnums];
  for (const i of indices) if (!Number.isInteger(i) || i < 0) throw new GradcError(`argnums: ${String(i)} is not an argument index`);
  if (indices.length === 0) throw new GradcError("argnums: name at least one argument to differentiate");
  if (new Set(indices).size !== indices.length) throw new GradcError("argnums: an argument is listed twice");
  return indices;
}

/** The leaves of a pytree, in order. */
function leavesOf(tree: unknown): (Val | Var)[] {
  const out: (Val | Var)[] = [];
  mapTraced(tree, (leaf) => out.push(leaf));
  return out;
}

/**
 * Forward mode: the function computing `f` and its directional derivative,
 * `(primals, tangents) => [value, tangent]`. `primals` holds all of `f`'s arguments;
 * `tangents` one per differentiated argument (`argnums`), each shaped like its argument. The
 * tangent has the structure of `f`'s result. Uncompiled, it runs `f` on the tape and pushes
 * the tangents through the recording with each op's JVP rule.
 *
 * @example
 * const f = (x: number, y: number) => Math.sin(x) * y;
 * jvp(f, { argnums: [0, 1] })([1, 2], [1, 0]); // [sin(1)·2, cos(1)·2]
 */
export function jvp<F extends (...args: any[]) => unknown, const A extends number | readonly number[] = 0>( // eslint-disable-line @typescript-eslint/no-explicit-any
  f: F,
  options: JvpOptions<A> = {},
): (primals: Parameters<F>, tangents: unknown[]) => [ReturnType<F>, ReturnType<F>] {
  const indices = positions(options.argnums ?? 0);
  if (options.reuse !== undefined && typeof options.reuse !== "boolean") throw new GradcError(`reuse: expected true or false, got ${String(options.reuse)}`);
  const run = runner(f, options.scope ?? {});
  const name = f.name || "f";
  const forward = (primals: unknown[], tangents: unknown[]): [unknown, unknown] => {
    // The compiler's GRADC1032 (jvp inside a model) for the same mistake.
    if (!Array.isArray(primals)) throw coded("GRADC1032", new GradcError(`jvp(${name}): primals must be an array of ${name}'s arguments`));
    if (!Array.isArray(tangents) || tangents.length !== indices.length)
      throw new GradcError(`jvp(${name}): tangents must be an array of ${indices.length} (one per differentiated argument)`);
    // Inside another transformation the tangents are computed by traced ops, so it can differentiate them.
    const nested = isRecording() || containsVar(primals) || containsVar(tangents);
    const tan = new Map<Var, Val | Var>();
    const traced = [...primals];
    indices.forEach((i, k) => {
      if (i >= primals.length) throw new GradcError(`argnums: ${i} is out of range, ${name} got ${primals.length} arguments`);
      const ts = leavesOf(tangents[k]);
      let next = 0;
      traced[i] = mapTraced(primals[i], (leaf) => {
        const v = inputVar(leaf);
        const t = ts[next++];
        const want = typeof v.value === "number" ? [] : v.shape;
        const got = t === undefined ? undefined : typeof valueOf(t) === "number" ? [] : (valueOf(t) as { shape: readonly number[] }).shape;
        if (got === undefined || got.join() !== want.join())
          throw new GradcError(`jvp(${name}): tangents[${k}] must have the structure and shapes of argument ${i}`);
        tan.set(v, t!);
        return v;
      });
    });
    const { result: out, tape } = record(() => run(traced));

    for (const v of tape) {
      const def = v.op;
      if (def === null || def.jvp === "not-differentiable") continue;
      let any = false;
      const ts = v.args.map((a) => {
        const t = a instanceof Var ? (tan.get(a) ?? null) : null;
        any ||= t !== null;
        return t;
      });
      if (!any) continue;
      const t = nested
        ? def.jvp(tracing, ts, v.args, v, v.attrs)
        : def.jvp(eager, ts as (Val | null)[], v.args.map(valueOf), v.value, v.attrs);
      if (t !== null) tan.set(v, t as Val | Var);
    }
    const value = mapTraced(out, (x) => (nested ? x : valueOf(x)));
    const tangent = mapTraced(out, (x) => (x instanceof Var ? (tan.get(x) ?? zerosLike(x.value)) : zerosLike(x)));
    return [value, tangent];
  };
  return callNatively(forward) as unknown as (primals: Parameters<F>, tangents: unknown[]) => [ReturnType<F>, ReturnType<F>];
}

/**
 * `f` with a gradient rule of its own: `vjp(...args, out, g)` returns one cotangent per
 * argument (an array), given the arguments, `f`'s result and the cotangent of that result.
 * Both are written in the gradc language, so gradc compiles them like any model; on the tape
 * the call records one node whose backward runs `vjp`. Forward mode (`jvp`) differentiates
 * `f` itself. Arguments are numbers or tensors; the gradient flows through them only (values
 * `f` closes over are constants to the rule).
 *
 * @example
 * const softplus = customVjp(
 *   (x: number) => (x > 0 ? x + Math.log(1 + Math.exp(-x)) : Math.log(1 + Math.exp(x))),
 *   (x: number, _out: number, g: number) => [g / (1 + Math.exp(-x))],
 * );
 */
export function customVjp<F extends (...args: any[]) => unknown>( // eslint-disable-line @typescript-eslint/no-explicit-any
  f: F,
  vjp: (...args: any[]) => unknown, // eslint-disable-line @typescript-eslint/no-explicit-any
  options: { scope?: Readonly<Record<string, unknown>> } = {},
): F {
  const scope = options.scope ?? {};
  const runF = runner(f, scope);
  const runVjp = runner(vjp, scope);
  const name = f.name || "customVjp";
  const unsupported = (): never => {
    throw new Error("a customVjp node is evaluated by its own function");
  };
  const def = {
    kind: "kernel",
    name: "custom_vjp",
    arity: 0,
    pure: true,
    infer: unsupported,
    evaluate: unsupported,
    emit: unsupported,
    vjp: <V>(_b: unknown, g: V, args: readonly V[], out: V, _attrs: unknown, needs: readonly boolean[]) => {
      const r = runVjp([...args, out, g]);
      const cts = Array.isArray(r) ? r : args.length === 1 ? [r] : null;
      if (cts === null || cts.length !== args.length)
        throw coded("GRADC1033", new GradcError(`customVjp(${name}): vjp must return an array of ${args.length} cotangents, one per argument`));
      return cts.map((c, i) => (needs[i] ? (c as V) : null));
    },
    jvp: <V>(_b: unknown, ts: readonly (V | null)[], args: readonly V[]) => {
      const which = ts.map((t, i) => (t === null ? -1 : i)).filter((i) => i >= 0);
      const [, t] = jvp(f, { argnums: which, scope })(args as never, which.map((i) => ts[i]));
      return t as V;
    },
  } as unknown as OpDef;
  const call = (...args: unknown[]): unknown => {
    if (!args.some((a) => a instanceof Var)) return runF(args);
    for (const a of args)
      if (!(a instanceof Var) && typeof a !== "number" && !(typeof a === "object" && a !== null && "data" in a))
        throw new GradcError(`customVjp(${name}): arguments must be numbers or tensors`);
    const out = valueOf(runF(args.map((a) => valueOf(a as Val | Var))) as Val | Var);
    return new Var(out, def, args as (Val | Var)[]);
  };
  return callNatively(call) as unknown as F;
}

registerTransforms({ grad, valueAndGrad, jvp, customVjp });
