// Common-subexpression elimination, in the manner of hash-consing.
//
// Guarantees: within a block and the blocks nested in it, no two pure nodes have the same op,
// attributes and operands; the later one is replaced by the earlier. Values defined inside a
// branch are never reused outside it. Commutative ops are keyed with sorted operands.

import { isRegionOp } from "../ir/builder.js";
import type { Func, Node } from "../ir/types.js";
import { formatAttrs } from "../ir/print.js";
import { getOp } from "../ops/index.js";
import { rewrite } from "./rewrite.js";

// Not maximum/minimum: their values commute but their gradients do not (a tie routes the
// gradient to the first argument), and CSE runs before AD.
const COMMUTATIVE = new Set(["add", "mul", "eq", "ne", "and", "or"]);

/**
 * A node's key in parts: op, the first two operand ids (-1 when absent; sorted for commutative
 * ops) and the rest (further operands and the attributes) as text, "" for most nodes. Tables
 * are keyed part by part, so the common node costs a few lookups of an interned string and
 * small integers rather than building and hashing a new string.
 */
interface Key {
  readonly op: string;
  readonly a: number;
  readonly b: number;
  readonly rest: string;
}

function keyOf(node: Node): Key {
  const { args, op } = node;
  let ids = args.map((v) => v.id);
  if (COMMUTATIVE.has(op)) ids = ids.sort((x, y) => x - y);
  const attrs = hasAttrs(node.attrs) ? formatAttrs(node.attrs) : "";
  return { op, a: ids[0] ?? -1, b: ids[1] ?? -1, rest: ids.length > 2 ? `${ids.slice(2).join(",")}${attrs}` : attrs };
}

function hasAttrs(attrs: Node["attrs"]): boolean {
  for (const _ in attrs) return true;
  return false;
}

/** One scope's nodes by key. */
class Table {
  private readonly byOp = new Map<string, Map<number, Map<number, Map<string, Node>>>>();

  get(k: Key): Node | undefined {
    return this.byOp.get(k.op)?.get(k.a)?.get(k.b)?.get(k.rest);
  }

  set(k: Key, node: Node): void {
    let byA = this.byOp.get(k.op);
    if (!byA) this.byOp.set(k.op, (byA = new Map()));
    let byB = byA.get(k.a);
    if (!byB) byA.set(k.a, (byB = new Map()));
    let byRest = byB.get(k.b);
    if (!byRest) byB.set(k.b, (byRest = new Map()));
    byRest.set(k.rest, node);
  }
}

export function cse(fn: Func): Func {
  const scopes: Table[] = [];
  const lookup = (key: Key): Node | undefined => {
    for (let i = scopes.length - 1; i >= 0; i--) {
      const hit = scopes[i]!.get(key);
      if (hit) return hit;
    }
    return undefined;
  };
  return rewrite(
    fn,
    (node) => {
      if (isRegionOp(node.op) || !getOp(node.op).pure) return { keep: node };
      const key = keyOf(node);
      const prior = lookup(key);
      if (prior) return { replace: prior.outs };
      scopes[scopes.length - 1]!.set(key, node);
      return { keep: node };
    },
    { enterBlock: () => scopes.push(new Table()), exitBlock: () => scopes.pop() },
  );
}
