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

/** Each op name's number, for the table's integer keys (op names are few). */
const opNumbers = new Map<string, number>();
const opNumber = (op: string): number => {
  let n = opNumbers.get(op);
  if (n === undefined) opNumbers.set(op, (n = opNumbers.size));
  return n;
};

/**
 * One scope's nodes by key. The common node (at most two operands, no attributes) is found in
 * an open-addressing hash table of integers (op number and both operand ids), with nothing
 * allocated per lookup; the rest by their whole key text. (A Map keyed by one number packing
 * both ids was half of CSE on large functions: such numbers are heap numbers to a Map.)
 */
class Table {
  private ops = new Int32Array(16).fill(-1);
  private as = new Int32Array(16);
  private bs = new Int32Array(16);
  private nodes: (Node | undefined)[] = new Array<Node | undefined>(16).fill(undefined);
  private count = 0;
  private readonly other = new Map<string, Node>();

  private static hash(op: number, a: number, b: number): number {
    let h = Math.imul(op + 1, 0x9e3779b1) ^ Math.imul(a + 2, 0x85ebca6b) ^ Math.imul(b + 2, 0xc2b2ae35);
    h ^= h >>> 15;
    return Math.imul(h, 0x2c1b3c6d) ^ (h >>> 12);
  }

  get(k: Key): Node | undefined {
    if (k.rest !== "") return this.other.get(`${k.op}(${k.a},${k.b})${k.rest}`);
    const op = opNumber(k.op);
    const mask = this.ops.length - 1;
    for (let i = Table.hash(op, k.a, k.b) & mask; ; i = (i + 1) & mask) {
      const o = this.ops[i]!;
      if (o === -1) return undefined;
      if (o === op && this.as[i] === k.a && this.bs[i] === k.b) return this.nodes[i];
    }
  }

  set(k: Key, node: Node): void {
    if (k.rest !== "") {
      this.other.set(`${k.op}(${k.a},${k.b})${k.rest}`, node);
      return;
    }
    if (2 * (this.count + 1) > this.ops.length) this.grow();
    this.insert(opNumber(k.op), k.a, k.b, node);
    this.count++;
  }

  private insert(op: number, a: number, b: number, node: Node): void {
    const mask = this.ops.length - 1;
    let i = Table.hash(op, a, b) & mask;
    while (this.ops[i] !== -1) i = (i + 1) & mask;
    this.ops[i] = op;
    this.as[i] = a;
    this.bs[i] = b;
    this.nodes[i] = node;
  }

  private grow(): void {
    const { ops, as, bs, nodes } = this;
    const size = 2 * ops.length;
    this.ops = new Int32Array(size).fill(-1);
    this.as = new Int32Array(size);
    this.bs = new Int32Array(size);
    this.nodes = new Array<Node | undefined>(size).fill(undefined);
    for (let i = 0; i < ops.length; i++) if (ops[i] !== -1) this.insert(ops[i]!, as[i]!, bs[i]!, nodes[i]!);
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
