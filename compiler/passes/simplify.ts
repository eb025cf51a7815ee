// Constant folding and algebraic identities.
//
// Guarantees: no elementwise node has only constant operands; no `x+0`, `x-0`, `x*1`, `x/1`,
// `--x`, `x**1`; an `if` on a constant condition is replaced by its taken branch and an `if`
// result both branches agree on is the agreed value; a boolean result that is true on one
// branch and false on the other is the condition (or its negation). Identities apply only where the result
// has exactly the operand's type, so broadcasting is never lost. Folding keeps NaN and
// infinity semantics (`x*0` is not folded: it is NaN for infinite x); the sign of a zero is
// not kept (`x+0 → x` turns -0+0 = 0 into -0). After AD, stop_gradient is the identity.
// `1/(1+exp(-z))` is recognized as sigmoid, so its backward reuses the forward output.
// A reduction of a number is that number and its argmax mask is 1: no kernel op is left with
// only numbers for operands and result (codegen plans no storage for numbers).

import { type Node, type Value, sameType, CUSTOM, IF, LOOP, WHILE } from "../ir/types.js";
import { getOp } from "../ops/index.js";
import { type RewriteScope, type RuleResult, rewrite } from "./rewrite.js";
import type { Func } from "../ir/types.js";

export interface SimplifyOptions {
  /** After differentiation stop_gradient has done its job and is dropped. */
  afterAD?: boolean;
}

/** The value of a constant, seen through reshapes and broadcasts (which keep it uniform). */
function constOf(scope: RewriteScope, v: Value): number | undefined {
  const d = scope.def(v);
  if (d?.op === "const") return d.attrs["value"] as number;
  if (d?.op === "reshape" || d?.op === "broadcast_to") return constOf(scope, d.args[0]!);
  return undefined;
}

const keep = (node: Node): RuleResult => ({ keep: node });
const use = (v: Value): RuleResult => ({ replace: [v] });

function makeConst(scope: RewriteScope, value: number, out: Value): Value {
  const dtype = out.type.dtype;
  const v = dtype === "f32" ? Math.fround(value) : dtype === "bool" ? (value !== 0 ? 1 : 0) : value;
  return scope.b.op("const", [], dtype === "f64" ? { value: v } : { value: v, dtype });
}

function simplifyIf(node: Node, scope: RewriteScope): RuleResult {
  const cond = constOf(scope, node.args[0]!);
  if (cond !== undefined) {
    const taken = node.blocks[cond !== 0 ? 0 : 1]!;
    taken.nodes.forEach((n) => scope.b.push(n));
    return { replace: taken.results };
  }
  const [then, otherwise] = node.blocks as [Node["blocks"][0], Node["blocks"][0]];
  const agreed = node.outs.map((_o, i): Value | undefined => {
    const a = then.results[i]!;
    const c = otherwise.results[i]!;
    if (a === c && !then.nodes.some((n) => n.outs.includes(a))) return a;
    const ca = innerConst(then, a);
    const cc = innerConst(otherwise, c);
    if (ca !== undefined && cc !== undefined && Object.is(ca.value, cc.value) && ca.dtype === cc.dtype)
      return scope.b.op("const", [], ca.node.attrs);
    // A flag set on one branch only (break, continue): the condition itself, or its negation.
    if (a.type.dtype === "bool" && a.type.shape.length === 0) {
      const [ta, tc] = [constOf(scope, a), constOf(scope, c)];
      if (ta !== undefined && tc !== undefined && (ta !== 0) !== (tc !== 0)) return ta !== 0 ? node.args[0]! : scope.b.op("not", [node.args[0]!]);
    }
    return undefined;
  });
  if (agreed.every((v) => v === undefined)) return keep(node);
  const kept = node.outs.map((_o, i) => i).filter((i) => agreed[i] === undefined);
  if (kept.length === 0) return { replace: agreed };
  const pick = <T,>(xs: readonly T[]): T[] => kept.map((i) => xs[i]!);
  const slim: Node = {
    ...node,
    outs: pick(node.outs),
    blocks: node.blocks.map((blk) => ({ ...blk, results: pick(blk.results) })),
  };
  return { keep: slim, replace: agreed };
}

function innerConst(block: Node["blocks"][0], v: Value): { value: number; dtype: unknown; node: Node } | undefined {
  const d = block.nodes.find((n) => n.outs[0] === v);
  return d?.op === "const" ? { value: d.attrs["value"] as number, dtype: d.attrs["dtype"], node: d } : undefined;
}

export function simplify(fn: Func, options: SimplifyOptions = {}): Func {
  return rewrite(fn, (node, scope) => {
    if (node.op === IF) return simplifyIf(node, scope);
    if (node.op === LOOP || node.op === WHILE || node.op === CUSTOM) return keep(node);
    const def = getOp(node.op);
    const out = node.outs[0]!;
    const consts = node.args.map((a) => constOf(scope, a));
    if (def.kind === "elementwise" && node.args.length > 0 && consts.every((c) => c !== undefined) && node.args.every((a) => a.type.shape.length === 0))
      return use(makeConst(scope, def.scalar(...(consts as number[])), out));
    const [x, y] = node.args;
    const [cx, cy] = consts;
    // Replaces the node by an operand only when that loses no broadcasting or dtype change.
    const same = (v: Value | undefined): v is Value => v !== undefined && sameType(v.type, out.type);
    const b = scope.b;
    const producer = (v: Value | undefined): Node | undefined => (v === undefined ? undefined : scope.def(v));
    switch (node.op) {
      case "add":
        if (cy === 0 && same(x)) return use(x);
        if (cx === 0 && same(y)) return use(y);
        if (producer(y)?.op === "neg") return use(b.op("sub", [x!, producer(y)!.args[0]!]));
        if (producer(x)?.op === "neg") return use(b.op("sub", [y!, producer(x)!.args[0]!]));
        break;
      case "sub":
        if (cy === 0 && same(x)) return use(x);
        if (cx === 0 && same(y)) return use(b.op("neg", [y!]));
        if (producer(y)?.op === "neg") return use(b.op("add", [x!, producer(y)!.args[0]!]));
        break;
      case "mul":
        // Pull negations out so that they cancel: (-a)*b = -(a*b).
        if (producer(x)?.op === "neg") return use(b.op("neg", [b.op("mul", [producer(x)!.args[0]!, y!])]));
        if (producer(y)?.op === "neg") return use(b.op("neg", [b.op("mul", [x!, producer(y)!.args[0]!])]));
        if (cy === 1 && same(x)) return use(x);
        if (cx === 1 && same(y)) return use(y);
        if (cy === -1 && same(x)) return use(b.op("neg", [x!]));
        if (cx === -1 && same(y)) return use(b.op("neg", [y!]));
        break;
      case "div": {
        if (cy === 1 && same(x)) return use(x);
        // 1 / (1 + exp(-z)) is the sigmoid: its gradient then reuses its output.
        const denom = producer(y);
        if (cx === 1 && denom?.op === "add") {
          const [p, q] = denom.args;
          const e = constOf(scope, p!) === 1 ? producer(q) : constOf(scope, q!) === 1 ? producer(p) : undefined;
          const n = e?.op === "exp" ? producer(e.args[0]) : undefined;
          if (n?.op === "neg" && same(n.args[0])) return use(b.op("sigmoid", [n.args[0]!]));
        }
        break;
      }
      case "neg":
        if (producer(x)?.op === "neg" && same(producer(x)!.args[0])) return use(producer(x)!.args[0]!);
        break;
      case "pow":
        // Each rewrite has x's type: only where that is the result's (a tensor exponent
        // broadcasts a number x; an f64 one promotes an f32 x).
        if (!same(x)) break;
        if (cy === 1) return use(x);
        if (cy === 2) return use(b.op("square", [x]));
        if (cy === 0.5) return use(b.op("sqrt", [x]));
        if (cy === -1) return use(b.op("div", [b.constant(1, x), x]));
        break;
      case "sum":
      case "max":
        if (x!.type.shape.length === 0 && same(x)) return use(x);
        break;
      case "argmax_mask":
        if (x!.type.shape.length === 0) return use(makeConst(scope, 1, out));
        break;
      case "select":
        if (node.args[1] === node.args[2]) return use(node.args[1]!);
        if (cx !== undefined && same(node.args[cx !== 0 ? 1 : 2])) return use(node.args[cx !== 0 ? 1 : 2]!);
        break;
      case "stop_gradient":
        if (options.afterAD) return use(x!);
        break;
      case "reshape":
      case "broadcast_to":
        if (same(x)) return use(x);
        break;
      case "matmul": {
        // Read a transposed operand in place instead of materializing the transpose.
        const ta = node.attrs["ta"] === true;
        const tb = node.attrs["tb"] === true;
        if (producer(x)?.op === "transpose") return use(b.op("matmul", [producer(x)!.args[0]!, y!], { ta: !ta, tb }));
        if (producer(y)?.op === "transpose") return use(b.op("matmul", [x!, producer(y)!.args[0]!], { ta, tb: !tb }));
        break;
      }
      case "transpose":
        if (producer(x)?.op === "transpose") return use(producer(x)!.args[0]!);
        break;
    }
    return keep(node);
  });
}
