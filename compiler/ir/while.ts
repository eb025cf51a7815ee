// The `while` region: a loop whose trip count is decided at run time by a condition on its
// carries (`while (err > tol)`, Newton iterations run until convergence).
//
//   %x.1: f64[], %hx: f64[#x.1] = while %x {record=[0], trips="#x.1"} {
//     params %x.2: f64[]                    the condition block: carries → one bool
//     %c: bool[] = gt %x.2 %tol
//     yield %c
//   } do {
//     params %k: f64[], %x.3: f64[]         the body: (trip counter, carries) → next carries
//     ...
//     yield %x.4
//   }
//
// Semantics: k = 0; repeat { unless this is the first trip of a `do` loop (attribute
// `do=true`), stop when the condition is false; with `record`, store each listed carry's value
// at the start of the trip as row k of its history; run the body; k++ }. The results are the
// final carries, then the histories. The number of trips the loop ran is a dimension fixed at
// run time, named `#` followed by the loop's first result (`trips`): the histories' leading
// axis has that size, and the backward pass is an ordinary counted `loop` with that `trips`,
// run in reverse over the recorded trips. Nothing but a `while`'s histories and the loops over
// its trips mention such a dimension.

import type { AttrValue, Attrs, Dim, Node, Type, Value } from "./types.js";

/** A dimension fixed when a `while` loop finishes: its trip count. */
export const isTripDim = (d: Dim): d is string => typeof d === "string" && d.startsWith("#");

/** The name of the trip count of a `while` node whose first result is `first`. */
export const tripDimOf = (first: Value): string => `#${first.id}`;

export interface WhileParts {
  readonly cond: Node["blocks"][number];
  readonly body: Node["blocks"][number];
  /** Number of carries. */
  readonly m: number;
  /** Carries whose per-trip values are recorded, in the order of the history results. */
  readonly record: readonly number[];
  readonly trips: string;
}

export function whileParts(node: Node): WhileParts {
  return {
    cond: node.blocks[0]!,
    body: node.blocks[1]!,
    m: node.args.length,
    record: (node.attrs["record"] as readonly number[] | undefined) ?? [],
    trips: node.attrs["trips"] as string,
  };
}

/**
 * Trip counts renamed, in a type: a copy of a `while` (made to be reversed) names its own trip
 * count, and what the copied region built over the original's (its histories, a backward loop
 * over its trips, their adjoints) must name the copy's.
 */
export function renameTrips(t: Type, names: ReadonlyMap<string, string>): Type {
  if (names.size === 0 || !t.shape.some((d) => typeof d === "string" && names.has(d))) return t;
  return { dtype: t.dtype, shape: t.shape.map((d) => (typeof d === "string" ? (names.get(d) ?? d) : d)) };
}

/** Trip counts renamed in attributes (`trips`, and shapes such as `broadcast_to`'s). */
export function renameTripAttrs(attrs: Attrs, names: ReadonlyMap<string, string>): Attrs {
  if (names.size === 0) return attrs;
  const rename = (a: AttrValue): AttrValue =>
    typeof a === "string" ? (names.get(a) ?? a) : Array.isArray(a) ? (a as readonly Dim[]).map((d) => (typeof d === "string" ? (names.get(d) ?? d) : d)) : a;
  let changed = false;
  const out: Record<string, AttrValue> = {};
  for (const [key, a] of Object.entries(attrs)) {
    out[key] = rename(a);
    changed ||= JSON.stringify(out[key]) !== JSON.stringify(a);
  }
  return changed ? out : attrs;
}

/** The history type of a carry of type `t` in a loop running `trips` trips. */
export const historyType = (t: Type, trips: Dim): Type => ({ dtype: t.dtype, shape: [trips, ...t.shape] });

/**
 * `node` (a `while`) made to record the carries `record` (appended to what it records), with
 * fresh history values from `fresh`; `outs` replaces its carries' results (a copy), which
 * renames its trip count.
 */
export function recordWhile(node: Node, record: readonly number[], fresh: (t: Type) => Value, outs: readonly Value[] = node.outs): { node: Node; hist: Value[] } {
  const { m, record: had } = whileParts(node);
  const trips = tripDimOf(outs[0]!);
  const hist = record.map((j) => fresh(historyType(node.args[j]!.type, trips)));
  const old = outs.slice(m);
  return {
    node: { ...node, attrs: { ...node.attrs, trips, record: [...had, ...record] }, outs: [...outs.slice(0, m), ...old, ...hist] },
    hist,
  };
}

/**
 * Appends a `while` node to `b`: `inits` are the carries' initial values, `cond` has one param
 * per carry and yields a boolean, `body` has params (k, ...carries) and yields the next
 * carries. `doFirst` runs the body once before the first test (`do { } while (c)`).
 */
export function whileNode(
  b: { ids: { value(t: Type, name?: string): Value }; loc: Node["loc"]; push(n: Node): void },
  inits: readonly Value[],
  cond: Node["blocks"][number],
  body: Node["blocks"][number],
  doFirst: boolean,
  names: readonly (string | undefined)[] = [],
): Value[] {
  const outs = inits.map((v, j) => b.ids.value(v.type, names[j] ?? v.name));
  const attrs = { trips: tripDimOf(outs[0]!), ...(doFirst ? { do: true } : {}) };
  b.push({ op: "while", args: inits, attrs, outs, blocks: [cond, body], ...(b.loc ? { loc: b.loc } : {}) });
  return outs;
}
