// Control flow in generated code: the dispatch of each IR node to its emitter, `if` nodes as
// `if` statements (or a ternary), `loop` nodes as counted `for` loops with their carries and
// recorded histories (`while` nodes in while.ts), and the loop openers the kernels use.

import { type Block, type Dim, IF, LOOP, type Node, type Type, WHILE } from "../ir/types.js";
import { getOp, numberLiteral } from "../ops/index.js";
import { type Buffers, declareCarries, emitTrip } from "./buffers.js";
import type { Emitter } from "./emitter.js";
import type { KernelEmitter } from "./kernels.js";
import { emitWhile } from "./while.js";

/** JS text for a literal operand, parenthesized when a minus sign could merge with an operator. */
function literal(value: number, type: Type): string {
  if (type.dtype === "bool") return value !== 0 ? "true" : "false";
  const text = numberLiteral(value);
  return text.startsWith("-") ? `(${text})` : text;
}

/**
 * The emitter of one node: `if` and `loop` here, leaves (constants, dimensions) and scalar
 * elementwise ops as one `const` each, every tensor node through the kernels.
 */
export function nodeEmitter(e: Emitter, kernels: KernelEmitter, buffers: Buffers): (node: Node) => void {
  return (node) => {
    if (node.op === IF) return emitIf(e, node);
    if (node.op === LOOP) {
      e.locComment(node.loc);
      return emitLoop(e, kernels, buffers, node);
    }
    if (node.op === WHILE) {
      e.locComment(node.loc);
      return emitWhile(e, buffers, node);
    }
    const def = getOp(node.op);
    const out = node.outs[0]!;
    if (def.kind === "leaf") {
      if (node.op === "const") e.bind(out, literal(node.attrs["value"] as number, out.type));
      else e.bind(out, e.dim(String(node.attrs["name"])));
      return;
    }
    if (out.type.shape.length === 0 && def.kind === "elementwise" && node.args.every((a) => a.type.shape.length === 0)) {
      e.locComment(node.loc);
      const name = e.freshName(out);
      e.line(`const ${name} = ${def.expr(node.args.map((a) => e.operand(a)), node.attrs)};`);
      e.bind(out, name);
      return;
    }
    e.locComment(node.loc);
    kernels.emit(node);
  };
}

function emitIf(e: Emitter, node: Node): void {
  e.locComment(node.loc);
  const outs = node.outs.map((o) => {
    const name = e.freshName(o);
    e.bind(o, name);
    return name;
  });
  const [then, otherwise] = node.blocks as [Block, Block];
  // A branch-free conditional reads best as a ternary.
  if (then.nodes.length === 0 && otherwise.nodes.length === 0 && outs.length === 1) {
    const [a, b] = [then.results[0]!, otherwise.results[0]!].map((v) => e.operand(v));
    e.line(`const ${outs[0]} = ${e.operand(node.args[0]!)} ? ${a} : ${b};`);
    return;
  }
  // An `if` kept only for an index check inside it yields nothing.
  if (outs.length > 0) e.line(`let ${outs.join(", ")};`);
  e.line(`if (${e.operand(node.args[0]!)}) {`);
  e.nested(() => emitBranch(e, then, outs));
  e.line(`} else {`);
  e.nested(() => emitBranch(e, otherwise, outs));
  e.line(`}`);
}

/** A branch's nodes, then its results assigned to the `if`'s outputs. */
function emitBranch(e: Emitter, block: Block, outs: readonly string[]): void {
  e.branch(() => {
    e.emitBlock(block);
    block.results.forEach((r, i) => e.line(`${outs[i]} = ${e.operand(r)};`));
  });
}

/** A loop node: carries in locals (numbers) or carry buffers (tensors), histories stored per trip. */
function emitLoop(e: Emitter, kernels: KernelEmitter, buffers: Buffers, node: Node): void {
  const body = node.blocks[0]!;
  const m = node.args.length;
  const trips = e.dim(node.attrs["trips"] as Dim);
  const record = (node.attrs["record"] as readonly number[] | undefined) ?? [];
  const carries = declareCarries(e, buffers, node);
  const hists = record.map((j, h) => {
    const out = node.outs[m + h]!;
    return { j, name: buffers.allocate(out), size: e.size(node.args[j]!.type.shape) };
  });
  const k = e.fresh("k");
  kernels.loopPrechecks(node, trips);
  e.line(node.attrs["reverse"] === true ? `for (let ${k} = ${trips} - 1; ${k} >= 0; ${k}--) {` : `for (let ${k} = 0; ${k} < ${trips}; ${k}++) {`);
  e.nested(() => {
    for (const h of hists) {
      const c = carries[h.j]!;
      const bit = node.args[h.j]!.type.dtype === "bool" ? `${c} ? 1 : 0` : c;
      e.line(node.args[h.j]!.type.shape.length === 0 ? `${h.name}[${k}] = ${bit};` : `${h.name}.set(${c}, ${k} * ${h.size});`);
    }
    emitTrip(e, node, body, k, carries);
  });
  e.line("}");
}

/**
 * Static trip counts up to which a short innermost loop (a product's inner dimension, an outer
 * product's row) is written out: V8 does not unroll loops, and at these sizes the loop's
 * counter, test and index arithmetic cost as much as the work.
 */
export const UNROLL = 4;

/** Opens a loop; a loop of one trip is just a block with its counter at 0. */
export function openLoop(e: Emitter, counter: string, bound: string): void {
  e.line(bound === "1" ? `{ const ${counter} = 0;` : `for (let ${counter} = 0; ${counter} < ${bound}; ${counter}++) {`);
}

/** A loop whose body is `body`, one level deeper. */
export function loop(e: Emitter, counter: string, bound: string, body: () => void): void {
  openLoop(e, counter, bound);
  e.nested(body);
  e.line("}");
}

/** Opens a loop nest over `space`; returns the counters and a closer. */
export function openNest(e: Emitter, space: readonly Dim[], counters?: string[]): { cs: string[]; close: () => void } {
  const cs = counters ?? space.map((_d, k) => `i${k}`);
  const saved: (() => void)[] = [];
  space.forEach((d, k) => {
    openLoop(e, cs[k]!, e.dim(d));
    const restore = e.enter();
    saved.push(() => {
      restore();
      e.line("}");
    });
  });
  return { cs, close: () => saved.reverse().forEach((f) => f()) };
}
