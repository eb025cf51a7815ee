// The one way values leave a region. An `if`'s branches and a `loop`'s body each yield
// structured values (a return value, the outer variables they assign, the loop's carries),
// flattened to IR values; the node's results are put back into that structure. Every region
// node the frontend builds goes through `region` and `merge`, so the checks (one structure,
// one type per leaf) and the naming of the results are the same for all of them.

import type { Node } from "ts-morph";
import type { Block, Value } from "../ir/types.js";
import { LowerError } from "./errors.js";
import type { Host } from "./host.js";
import { describeType } from "./lower-support.js";
import { leaves, rebuild, structureKey } from "./pytrees.js";
import type { LV, Var } from "./types.js";
import { nameValue } from "./types.js";

export interface Region {
  readonly block: Block;
  /** The structured values the block yields, flattened into `block.results`. */
  readonly yields: readonly LV[];
}

/** Lowers `fill` into a block (with `params`) that yields the flattened leaves of what it returns. */
export function region(h: Host, at: Node, fill: () => readonly LV[], params: readonly Value[] = []): Region {
  let yields: readonly LV[] = [];
  const block = h.b.block(() => {
    yields = fill();
    return yields.flatMap((lv) => leaves(lv, (leaf) => h.asValue(leaf, at)));
  }, params);
  return { block, yields };
}

export interface Merge {
  /** What each region yields, structured: the first is the reference the results take. */
  readonly shapes: readonly [readonly LV[], readonly LV[]];
  /** The flat leaves to compare, pairwise. */
  readonly leaves: readonly [readonly Value[], readonly Value[]];
  /** What the i-th yielded value is, for GRADC1017 ("'x'", "The return value"). */
  what(i: number): string;
  /** The GRADC2005 text for leaves of different types. */
  typeMismatch(a: Value, b: Value): string;
  /** Builds the node (the builder's location is `at`'s), returning its results. */
  build(): readonly Value[];
}

/**
 * Checks that the regions agree (one structure: GRADC1017; one type per leaf: GRADC2005),
 * builds the node and returns its results in the reference structure.
 */
export function merge(h: Host, at: Node, m: Merge): LV[] {
  const [a, c] = m.shapes;
  a.forEach((lv, i) => {
    if (structureKey(lv) !== structureKey(c[i]!)) throw new LowerError("GRADC1017", at, [m.what(i)]);
  });
  const [x, y] = m.leaves;
  x.forEach((r, i) => {
    const o = y[i]!;
    if (r.type.dtype !== o.type.dtype || r.type.shape.join() !== o.type.shape.join()) throw new LowerError("GRADC2005", at, [m.typeMismatch(r, o)]);
  });
  h.b.loc = h.loc(at);
  const outs = m.build();
  let pos = 0;
  return a.map((lv) => rebuild(lv, () => outs[pos++]!));
}

/** The GRADC2005 text for two branches whose leaves differ. */
export const branchesDiffer = (a: Value, b: Value): string => `the branches give ${describeType(a)} and ${describeType(b)}`;

/** Writes merged values back into the variables they came from, naming them after them. */
export function assignMerged(h: Host, vars: readonly Var[], values: readonly LV[]): void {
  vars.forEach((v, i) => {
    const lv = values[i]!;
    h.store.set(v, lv);
    nameValue(lv, v.name);
  });
}
