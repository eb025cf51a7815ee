// Compile-time index checks. An index the compiler can evaluate (a constant, or an expression
// of the counters of loops with constant trip counts) is checked against the dimension it
// indexes, with the eager op's own words, so a model that would read out of range is refused
// at the call instead of compiling to code that reads past the data. Indices computed at run
// time are checked by the generated code.

import type { IRBuilder } from "../ir/builder.js";
import type { Dim, Value } from "../ir/types.js";
import { getOp, hasOp } from "../ops/index.js";

import { indexProblem } from "../ops/index-check.js";

/** Trip counts of the loop counters in scope (the `k` of each lowered constant loop). */
export type Counters = ReadonlyMap<Value, number>;
/** Symbolic trip counts of the counters of loops that run exactly a dimension's trips. */
export type SymbolicCounters = ReadonlyMap<Value, string>;

/** At most this many index values are enumerated (the product of the counters' trips). */
const MAX_ENUMERATED = 100_000;

/** The counters `v` depends on, or undefined when it depends on anything else. */
function countersIn(b: IRBuilder, v: Value, counters: Counters, found: Set<Value>, depth = 0): boolean {
  if (counters.has(v)) {
    found.add(v);
    return true;
  }
  const def = b.defOf(v);
  if (!def || depth > 64) return false;
  if (def.op === "const") return true;
  // Region results (`if`, `loop`) and ops outside the registry are run-time values here.
  if (!hasOp(def.op)) return false;
  const op = getOp(def.op);
  if (op.kind !== "elementwise") return false;
  return def.args.every((a) => countersIn(b, a, counters, found, depth + 1));
}

function evaluate(b: IRBuilder, v: Value, env: ReadonlyMap<Value, number>): number {
  const bound = env.get(v);
  if (bound !== undefined) return bound;
  const def = b.defOf(v)!;
  if (def.op === "const") return def.attrs["value"] as number;
  const op = getOp(def.op);
  if (op.kind !== "elementwise") throw new Error(`index-bounds: ${def.op} cannot be evaluated`);
  return op.scalar(...def.args.map((a) => evaluate(b, a, env)));
}

/**
 * Every value the scalar `v` takes, with the counter values giving it, when it is known at
 * compile time; undefined when it depends on run-time data or symbolic sizes.
 */
export function knownValues(b: IRBuilder, v: Value, counters: Counters): { value: number; at: [Value, number][] }[] | undefined {
  const found = new Set<Value>();
  if (v.type.shape.length !== 0 || !countersIn(b, v, counters, found)) return undefined;
  const ks = [...found];
  const total = ks.reduce((n, k) => n * counters.get(k)!, 1);
  if (total > MAX_ENUMERATED) return undefined;
  const out: { value: number; at: [Value, number][] }[] = [];
  for (let flat = 0; flat < total; flat++) {
    const env = new Map<Value, number>();
    let rest = flat;
    for (const k of ks) {
      const trips = counters.get(k)!;
      env.set(k, rest % trips);
      rest = Math.floor(rest / trips);
    }
    out.push({ value: evaluate(b, v, env), at: [...env] });
  }
  return out;
}

/** `coef * k + off` for one loop counter `k` (absent when the value is a constant). */
function linearIn(b: IRBuilder, v: Value, counters: SymbolicCounters, depth = 0): { k?: Value; coef: number; off: number } | undefined {
  if (counters.has(v)) return { k: v, coef: 1, off: 0 };
  const def = b.defOf(v);
  if (!def || depth > 16) return undefined;
  if (def.op === "const" && def.attrs["dtype"] === undefined) return { coef: 0, off: def.attrs["value"] as number };
  if (def.op !== "add" && def.op !== "sub" && def.op !== "mul") return undefined;
  const x = linearIn(b, def.args[0]!, counters, depth + 1);
  const y = linearIn(b, def.args[1]!, counters, depth + 1);
  if (!x || !y || (x.k && y.k)) return undefined;
  const k = x.k ?? y.k;
  const at = k ? { k } : {};
  if (def.op === "add") return { ...at, coef: x.coef + y.coef, off: x.off + y.off };
  if (def.op === "sub") return { ...at, coef: x.coef - y.coef, off: x.off - y.off };
  if (x.k) return { ...at, coef: x.coef * y.off, off: x.off * y.off };
  return { ...at, coef: y.coef * x.off, off: y.off * x.off };
}

/**
 * What is wrong with index `i` into a leading dimension `n` when the compiler can tell: a
 * constant; every value it takes in constant loops; or `k + c` in a loop of exactly `n`
 * trips (a symbolic dimension), out of range on its first or last trip whenever it runs.
 */
export function compileTimeIndexProblem(b: IRBuilder, i: Value, n: Dim, counters: Counters, symbolic: SymbolicCounters): string | undefined {
  for (const { value, at } of knownValues(b, i, counters) ?? []) {
    const problem = indexProblem(value, n);
    if (problem !== undefined) return at.length === 1 ? `${problem} (on trip ${at[0]![1] + 1} of the loop)` : problem;
  }
  const lin = linearIn(b, i, symbolic);
  if (!lin?.k || lin.coef !== 1 || symbolic.get(lin.k) !== n) return undefined;
  if (lin.off < 0 || !Number.isInteger(lin.off)) return `${indexProblem(lin.off, n)!} (on the first trip of the loop)`;
  if (lin.off >= 1) return `index ${n}${lin.off > 1 ? ` + ${lin.off - 1}` : ""} is out of range [0, ${n}) (on the last trip of the loop)`;
  return undefined;
}
