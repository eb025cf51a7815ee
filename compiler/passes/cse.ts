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

function keyOf(node: Node): string {
  const ids = node.args.map((a) => a.id);
  if (COMMUTATIVE.has(node.op)) ids.sort((a, b) => a - b);
  return `${node.op}(${ids.join(",")})${formatAttrs(node.attrs)}`;
}

export function cse(fn: Func): Func {
  const scopes: Map<string, Node>[] = [];
  const lookup = (key: string): Node | undefined => {
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
    { enterBlock: () => scopes.push(new Map()), exitBlock: () => scopes.pop() },
  );
}
