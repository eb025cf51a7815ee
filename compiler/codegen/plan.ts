// Fusion and memory planning for tensor code, decided once per function before emission.
//
// Fusion: an elementwise tensor value used exactly once, by an elementwise op or a reduction
// in the same block over the same iteration space, is not stored: its expression is inlined
// into the consumer's loop. Chains of elementwise ops (forward and backward) thus become one
// loop, and a max gate's mask is recomputed inside the loop that consumes it. An outer product
// (a matrix product over an inner dimension of 1, common in backward passes: `g ⊗ x`) counts
// as elementwise: it is inlined into its consumer, and its factors into it.
//
// Memory: every other tensor gets storage. Values returned to the caller are allocated fresh
// per call (the caller keeps them); intermediates live in buffers allocated once per set of
// dimension values and shared between values whose lifetimes do not overlap; an elementwise
// loop may write over an operand that dies in it. `reshape` and tensor `if` results alias the
// storage they come from.

import { type Block, type Dim, type DType, type Func, type Node, type Value, IF, LOOP, WHILE, isRegionOp, walkValues } from "../ir/types.js";
import { getOp } from "../ops/index.js";

export type Storage =
  | { readonly kind: "param" }
  | { readonly kind: "fresh" }
  | { readonly kind: "slot"; readonly slot: number }
  | { readonly kind: "alias"; readonly of: Value }
  /** An `if` result: whichever (pinned) branch buffer was yielded. */
  | { readonly kind: "branch" }
  /** A `while` loop's history: module-level storage that grows with the trip count (codegen/while.ts). */
  | { readonly kind: "history" };

export interface Slot {
  readonly dtype: DType;
  readonly shape: readonly Dim[];
}

export interface TensorPlan {
  readonly inlined: ReadonlySet<Value>;
  readonly storage: ReadonlyMap<Value, Storage>;
  readonly slots: readonly Slot[];
}

const isTensor = (v: Value): boolean => v.type.shape.length > 0;

/**
 * Deepest fused expression: a longer chain is stored part way. Each fused op nests its
 * operands one level deeper in the generated expression, and a chain of thousands (a long
 * unrolled elementwise recurrence) gives an expression no JavaScript parser can take.
 */
export const MAX_FUSED_DEPTH = 32;

/** Ops whose loop reads operands at the output's index (after broadcasting). */
export function isPointwise(node: Node): boolean {
  if (isRegionOp(node.op)) return false;
  // Reshaping a number into a tensor fills it, like a broadcast.
  return getOp(node.op).kind === "elementwise" || node.op === "broadcast_to" || (node.op === "reshape" && node.args[0]!.type.shape.length === 0);
}

/**
 * A matrix product over an inner dimension of 1: an outer product, each entry one multiply of
 * a row factor by a column factor. It fuses like an elementwise op: into its consumer's loop,
 * and its factors' elementwise producers into its own (the row factor computed once per row).
 */
export function isOuterProduct(node: Node): boolean {
  if (node.op !== "matmul") return false;
  const a = node.args[0]!.type.shape;
  // Batched products have loop kernels of their own (loops.ts).
  if (a.length !== 2 || node.args[1]!.type.shape.length !== 2) return false;
  return (node.attrs["ta"] === true ? a[0] : a[1]) === 1;
}

const sameDims = (a: readonly Dim[], b: readonly Dim[]): boolean => a.length === b.length && a.every((d, i) => d === b[i]);

/** One more than the largest value id of a function (ids are unique within it). */
function idBound(fn: Func): number {
  let max = -1;
  walkValues(fn.body, (v) => {
    if (v.id > max) max = v.id;
  });
  return max + 1;
}

function countUses(block: Block, uses: Int32Array): void {
  for (const node of block.nodes) {
    for (const a of node.args) uses[a.id]!++;
    for (const b of node.blocks) countUses(b, uses);
  }
  for (const r of block.results) uses[r.id]!++;
}

export function planTensors(fn: Func): TensorPlan {
  // Per-value facts live in arrays indexed by value id: Maps keyed by the values themselves
  // were most of planning on large functions.
  const bound = idBound(fn);
  const uses = new Int32Array(bound);
  countUses(fn.body, uses);
  const inlined = new Set<Value>();
  const isInlined = new Uint8Array(bound);
  const storage = new Map<Value, Storage>();
  const slots: Slot[] = [];

  // Fusion decisions, block by block: a producer is inlined into its only consumer.
  const consumerOf: (Node | undefined)[] = new Array<Node | undefined>(bound);
  /** How deeply a value's fused expression nests (0 for a stored value). */
  const fusedDepth = new Int32Array(bound);
  /** The node defining a value, and the block it is in (set as decideFusion reaches it). */
  const producerOf: (Node | undefined)[] = new Array<Node | undefined>(bound);
  const blockOf: (Block | undefined)[] = new Array<Block | undefined>(bound);
  const decideFusion = (block: Block): void => {
    for (const node of block.nodes) {
      for (const o of node.outs) {
        producerOf[o.id] = node;
        blockOf[o.id] = block;
      }
      for (const b of node.blocks) decideFusion(b);
      if (isRegionOp(node.op)) continue;
      const outer = isOuterProduct(node);
      const fusesInto = isPointwise(node) || node.op === "sum" || node.op === "max" || outer;
      if (!fusesInto) continue;
      const space = node.op === "sum" || node.op === "max" ? node.args[0]!.type.shape : node.outs[0]!.type.shape;
      let depth = 1;
      const args = node.args;
      for (let k = 0; k < args.length; k++) {
        const a = args[k]!;
        if (!isTensor(a) || blockOf[a.id] !== block || uses[a.id] !== 1) continue;
        const producer = producerOf[a.id];
        if (!producer || !(isPointwise(producer) || isOuterProduct(producer))) continue;
        // An outer product evaluates its row factor once per row, its column factor once per
        // entry: the column factor is fused only when there is one row (nothing recomputed).
        if (outer ? k === 1 && space[0] !== 1 : !sameDims(a.type.shape, space)) continue;
        if (fusedDepth[a.id]! >= MAX_FUSED_DEPTH) continue;
        inlined.add(a);
        isInlined[a.id] = 1;
        consumerOf[a.id] = node;
        depth = Math.max(depth, fusedDepth[a.id]! + 1);
      }
      for (const o of node.outs) fusedDepth[o.id] = depth;
    }
  };
  decideFusion(fn.body);

  fn.body.params.forEach((p) => isTensor(p) && storage.set(p, { kind: "param" }));

  // Returned values are fresh when this function computes them and returns them once.
  const resultCount = new Map<Value, number>();
  fn.body.results.forEach((r) => resultCount.set(r, (resultCount.get(r) ?? 0) + 1));

  // Lifetimes over top-level positions; values touched inside a block count at its if node.
  const lastUseOf = new Float64Array(bound).fill(-1);
  const pinnedIds = new Uint8Array(bound);
  const lastUse = { get: (v: Value): number => lastUseOf[v.id]!, set: (v: Value, at: number): void => void (lastUseOf[v.id] = at) };
  const pinned = { has: (v: Value): boolean => pinnedIds[v.id] === 1, add: (v: Value): void => void (pinnedIds[v.id] = 1) };
  // An inlined node is evaluated inside its consumer's loop, so its operands live until then:
  // at the position of the end of its chain of consumers (all in the top-level block), found
  // from the last node back.
  const topNodes = fn.body.nodes;
  const topPosition = new Int32Array(bound);
  topNodes.forEach((n, i) => n.outs.forEach((o) => (topPosition[o.id] = i)));
  const evaluatedAt = new Int32Array(topNodes.length);
  for (let i = topNodes.length - 1; i >= 0; i--) {
    const first = topNodes[i]!.outs[0];
    const consumer = first === undefined ? undefined : consumerOf[first.id];
    evaluatedAt[i] = consumer === undefined ? i : evaluatedAt[topPosition[consumer.outs[0]!.id]!]!;
  }
  const markUses = (block: Block, pos: number | undefined): void => {
    const nodes = block.nodes;
    for (let i = 0; i < nodes.length; i++) {
      const node = nodes[i]!;
      const at = pos ?? evaluatedAt[i]!;
      for (const a of node.args) if (lastUseOf[a.id]! < at) lastUseOf[a.id] = at;
      for (const b of node.blocks) markUses(b, at);
      if (pos !== undefined) for (const o of node.outs) pinnedIds[o.id] = 1;
    }
    for (const r of block.results) {
      const at = pos ?? Infinity;
      if (lastUseOf[r.id]! < at) lastUseOf[r.id] = at;
      if (pos !== undefined) pinnedIds[r.id] = 1;
    }
  };
  markUses(fn.body, undefined);

  // Aliases keep what they alias alive.
  const rootOf = (v: Value): Value => {
    const s = storage.get(v);
    return s?.kind === "alias" ? rootOf(s.of) : v;
  };

  const free: number[] = [];
  const owner = new Map<number, Value>();
  // Owned slots by the last use of their value, so that releasing does not scan every owned
  // slot at every position (quadratic in long functions). `order` is a slot's position in
  // `owner`, whose iteration order decides which free slot is reused first.
  const expiring = new Map<number, [number, Value][]>();
  const order = new Map<number, number>();
  let inserted = 0;
  let scannedUpTo = -1;
  const late: [number, Value][] = [];
  const setOwner = (slot: number, v: Value): void => {
    if (!owner.has(slot)) order.set(slot, inserted++);
    owner.set(slot, v);
    const last = lastUse.get(v);
    if (last === Infinity) return;
    if (last <= scannedUpTo) late.push([slot, v]);
    else {
      if (!expiring.has(last)) expiring.set(last, []);
      expiring.get(last)!.push([slot, v]);
    }
  };
  const slotOf = (v: Value): number | undefined => {
    const s = storage.get(rootOf(v));
    return s?.kind === "slot" ? s.slot : undefined;
  };
  const release = (pos: number): void => {
    // Most positions free nothing: no arrays are made for them.
    let due = late.length > 0 ? late.splice(0) : undefined;
    for (; scannedUpTo < pos - 1; scannedUpTo++) {
      const entries = expiring.get(scannedUpTo + 1);
      if (entries === undefined) continue;
      expiring.delete(scannedUpTo + 1);
      if (due === undefined) due = entries;
      else for (const entry of entries) due.push(entry);
    }
    if (due === undefined) return;
    const freed: number[] = [];
    for (const [slot, v] of due) {
      if (owner.get(slot) !== v || pinned.has(v) || freed.includes(slot)) continue;
      const last = lastUse.get(v);
      // Kept alive longer since it was scheduled (an alias of it is read later).
      if (last >= pos) {
        if (last !== Infinity) {
          if (!expiring.has(last)) expiring.set(last, []);
          expiring.get(last)!.push([slot, v]);
        }
        continue;
      }
      freed.push(slot);
    }
    if (freed.length > 1) freed.sort((a, b) => order.get(a)! - order.get(b)!);
    for (const slot of freed) {
      owner.delete(slot);
      free.push(slot);
    }
  };
  const takeSlot = (v: Value): number => {
    const i = free.findIndex((s) => slots[s]!.dtype === v.type.dtype && sameDims(slots[s]!.shape, v.type.shape));
    const slot = i >= 0 ? free.splice(i, 1)[0]! : slots.push({ dtype: v.type.dtype, shape: v.type.shape }) - 1;
    setOwner(slot, v);
    return slot;
  };

  const assign = (block: Block, top: boolean): void => {
    block.nodes.forEach((node, pos) => {
      if (top) release(pos);
      node.blocks.forEach((b) => assign(b, false));
      for (const out of node.outs) {
        if (!isTensor(out) || isInlined[out.id] === 1) continue;
        if (node.op === IF) {
          storage.set(out, { kind: "branch" });
          continue;
        }
        if (node.op === WHILE && node.outs.indexOf(out) >= node.args.length) {
          storage.set(out, { kind: "history" });
          continue;
        }
        if (node.op === LOOP || node.op === WHILE) {
          // Carry buffers and histories live as long as the function: the body reads and
          // rewrites them on every trip.
          storage.set(out, { kind: "slot", slot: takeSlot(out) });
          pinned.add(out);
          const j = node.outs.indexOf(out);
          const param = node.blocks[node.op === WHILE ? 1 : 0]!.params[j + 1];
          if (j < node.args.length && param) storage.set(param, { kind: "alias", of: out });
          if (node.op === WHILE && j < node.args.length) storage.set(node.blocks[0]!.params[j]!, { kind: "alias", of: out });
          continue;
        }
        if (node.op === "reshape" && !isPointwise(node)) {
          storage.set(out, { kind: "alias", of: node.args[0]! });
          const root = rootOf(out);
          lastUse.set(root, Math.max(lastUse.get(root), lastUse.get(out)));
          if (pinned.has(out)) pinned.add(root);
          continue;
        }
        if (top && resultCount.get(out) === 1 && !pinned.has(out)) {
          storage.set(out, { kind: "fresh" });
          continue;
        }
        // In place: an elementwise loop may overwrite a same-shaped operand that dies here.
        if (top && isPointwise(node)) {
          const dying = node.args.filter((a) => isInlined[a.id] !== 1).find(
            (a) =>
              slotOf(a) !== undefined &&
              rootOf(a) === a &&
              sameDims(a.type.shape, out.type.shape) &&
              a.type.dtype === out.type.dtype &&
              lastUse.get(a) === pos &&
              !pinned.has(a),
          );
          if (dying) {
            const slot = slotOf(dying)!;
            setOwner(slot, out);
            storage.set(out, { kind: "slot", slot });
            continue;
          }
        }
        storage.set(out, { kind: "slot", slot: takeSlot(out) });
        if (!top) pinned.add(out);
      }
    });
  };
  assign(fn.body, true);
  return { inlined, storage, slots };
}
