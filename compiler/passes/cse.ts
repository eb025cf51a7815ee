// Common-subexpression elimination, in the manner of hash-consing.
//
// Guarantees: within a block and the blocks nested in it, no two pure nodes have the same op,
// attributes and operands; the later one is replaced by the earlier. Values defined inside a
// branch are never reused outside it. Commutative ops are keyed with sorted operands.

import { type Func, type Node, isRegionOp } from "../ir/types.js";
import { formatAttrs } from "../ir/print.js";
import { getOp, hasOp } from "../ops/index.js";
import { rewrite } from "./rewrite.js";

// Commutativity is a fact of the op's registry entry. Not maximum/minimum: their values commute
// but their gradients do not (a tie routes the gradient to the first argument), and CSE runs
// before AD. Region ops (if, loop) have no entry.
const commutative = (op: string): boolean => hasOp(op) && getOp(op).commutative === true;

/**
 * A node's key in parts: op, the first two operand ids (-1 when absent; sorted for commutative
 * ops) and the rest (further operands and the attributes) as text, "" for most nodes.
 */
interface Key {
  readonly op: string;
  readonly a: number;
  readonly b: number;
  readonly rest: string;
}

function keyOf(node: Node): Key {
  const { args, op } = node;
  const attrs = hasAttrs(node.attrs) ? formatAttrs(node.attrs) : "";
  if (args.length <= 2) {
    let a = args[0]?.id ?? -1;
    let b = args[1]?.id ?? -1;
    if (b >= 0 && b < a && commutative(op)) [a, b] = [b, a];
    return { op, a, b, rest: attrs };
  }
  let ids = args.map((v) => v.id);
  if (commutative(op)) ids = ids.sort((x, y) => x - y);
  return { op, a: ids[0]!, b: ids[1]!, rest: `${ids.slice(2).join(",")}${attrs}` };
}

function hasAttrs(attrs: Node["attrs"]): boolean {
  for (const _ in attrs) return true;
  return false;
}

/** Operand ids below this pack two to a number exactly (2·26 bits < 2⁵³). */
const PACK = 2 ** 26;

/**
 * One scope's nodes by key. The common node (at most two operands, no attributes) is found by
 * its op and one number packing both operand ids, so it costs two lookups of an interned string
 * and a number rather than building and hashing a new string; the rest by their whole key text.
 */
class Table {
  private readonly plain = new Map<string, Map<number, Node>>();
  private readonly other = new Map<string, Node>();

  private static packed(k: Key): number | undefined {
    return k.rest === "" && k.a < PACK - 1 && k.b < PACK - 1 ? (k.a + 1) * PACK + (k.b + 1) : undefined;
  }

  get(k: Key): Node | undefined {
    const n = Table.packed(k);
    if (n !== undefined) return this.plain.get(k.op)?.get(n);
    return this.other.get(`${k.op}(${k.a},${k.b})${k.rest}`);
  }

  set(k: Key, node: Node): void {
    const n = Table.packed(k);
    if (n === undefined) {
      this.other.set(`${k.op}(${k.a},${k.b})${k.rest}`, node);
      return;
    }
    let byOperands = this.plain.get(k.op);
    if (!byOperands) this.plain.set(k.op, (byOperands = new Map()));
    byOperands.set(n, node);
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
