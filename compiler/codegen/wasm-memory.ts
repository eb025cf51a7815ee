// Where a function that calls WebAssembly kernels keeps its tensors: in the kernels' linear
// memory, so that kernels read and write them in place.
//
// - Every planned f32/f64 buffer of such a function (plan.ts's slots) is a typed-array view on
//   the linear memory, at an address laid out here: 16-byte aligned, from 16 upward, in slot
//   order. Each function lays out its own buffers from the same base: they hold nothing between
//   calls, so the functions of one module share the addresses.
// - The layout is made at call entry, never during a call: when a symbolic dimension changed or
//   the memory's buffer is not the one the views were made on (some call grew the memory: a
//   non-shared memory's growth detaches every view; a shared one's views keep their old length
//   and are re-made too). `$gradc_wasm_layout` computes the addresses and grows the memory for
//   the buffers plus the call's staging room (below), then the views are re-created.
// - A parameter a kernel reads is staged: copied once per call into a buffer of its own (before
//   the first top-level kernel that is sure to run reads it), and every later kernel reads the
//   copy in place. Other operands not in the memory (a parameter before it is staged, a value
//   of an `if`), and a result the caller keeps (a fresh or reused result tensor, an ordinary
//   typed array), are staged by the kernel's helper in the room after the buffers: copied in,
//   or written there and copied out. The room is the largest any kernel call of the function
//   needs, so it never grows during the call.
// Results handed to the caller are never views on the memory (returned buffers are sliced,
// results.ts copies into its own arrays), so a later call cannot overwrite them.

import type { Dim, Func, Node, Value } from "../ir/types.js";
import { type Emitter, arrayType } from "./emitter.js";
import type { TensorPlan } from "./plan.js";
import { isTripDim } from "../ir/while.js";
import { type KernelSite, WASM_STATE, wasmKernelNodes } from "./wasm-backend.js";
import { windowScratch } from "./wasm-conv.js";

export interface MemoryPlan {
  /** The kernel `node` may run as, if any. */
  site(node: Node): KernelSite | undefined;
  /** True when planned slot `i` is a view on the linear memory. */
  has(slot: number): boolean;
  /** The array a kernel of `node` reads for `v`: a parameter's staged copy (copied here on the first read), or the value itself. */
  operand(node: Node, v: Value): string;
  /** Lines after the argument checks: the layout, made when stale, and the start of the room. */
  prologue(): void;
  /** Module-level declarations: the views and the state of the layout. */
  declarations(): string[];
}

const width = (v: { type: { dtype: string } }): number => (v.type.dtype === "f32" ? 4 : 8);
const isFloat = (dtype: string): boolean => dtype === "f32" || dtype === "f64";

/**
 * The memory plan of a function, or undefined when it calls no kernel (its buffers then stay
 * ordinary typed arrays).
 */
export function planMemory(e: Emitter, plan: TensorPlan, slotName: (i: number) => string, prefix: string): MemoryPlan | undefined {
  const fn: Func = e.unit.fn;
  const kernels = wasmKernelNodes(fn, e.backend, e.wasmMinWork, plan);
  if (kernels.size === 0) return undefined;
  const inMemory = new Set<number>();
  // A slot shaped by a while loop's trip count is sized only once the loop has run (buffers.ts).
  plan.slots.forEach((s, i) => isFloat(s.dtype) && !s.shape.some(isTripDim) && inMemory.add(i));

  const rootOf = (v: Value): Value => {
    const s = plan.storage.get(v);
    return s?.kind === "alias" ? rootOf(s.of) : v;
  };
  const memorySlot = (v: Value): boolean => {
    const s = plan.storage.get(rootOf(v));
    return s?.kind === "slot" && inMemory.has(s.slot);
  };
  const isParam = (v: Value): boolean => plan.storage.get(rootOf(v))?.kind === "param";

  // Parameters staged once per call: at the first top-level kernel sure to run that reads them.
  const staged = new Map<Value, string>();
  /** Per kernel node: the parameters staged (copied) just before it, and those already staged. */
  const copyAt = new Map<Node, Value[]>();
  const stagedAt = new Map<Node, ReadonlySet<Value>>();
  /** Per fused kernel: parameters not staged yet, copied into views of their own at each run. */
  const copyEach = new Map<Node, Map<Value, string>>();
  let eachCount = 0;
  const visit = (nodes: readonly Node[], top: boolean): void => {
    for (const node of nodes) {
      const site = kernels.get(node);
      if (site !== undefined) {
        const params = [...new Set(site.operands.map(rootOf).filter((a) => isParam(a) && a.type.shape.length > 0))];
        if (top && site.choice === "wasm" && !site.window && !site.batched) {
          const fresh = params.filter((a) => !staged.has(a));
          fresh.forEach((a) => staged.set(a, `${prefix}_in${staged.size}`));
          if (fresh.length > 0) copyAt.set(node, fresh);
        }
        stagedAt.set(node, new Set(staged.keys()));
        // A fused kernel reads nothing outside the memory: its parameters not staged are copied here.
        const missing = site.fused ? params.filter((a) => !staged.has(a)) : [];
        if (missing.length > 0) copyEach.set(node, new Map(missing.map((a) => [a, `${prefix}_each${eachCount++}`])));
      }
      node.blocks.forEach((b) => visit(b.nodes, false));
    }
  };
  visit(fn.body.nodes, true);

  /** Bytes a kernel call stages in the room after the buffers (operands and result not in the memory). */
  const roomOf = (node: Node): Dim[][] => {
    const ready = stagedAt.get(node)!;
    // A fused kernel reads only the memory; a result the caller keeps is written in the room.
    const site = kernels.get(node)!;
    if (site.fused) return node.outs.filter((o) => !memorySlot(o)).map((v) => [...v.type.shape, width(v)]);
    // Window kernels and batched products get their operands as they are; a window kernel needs
    // its im2col scratch area after them.
    const outside = [...node.args.filter((a) => !memorySlot(a) && (site.window || site.batched || !ready.has(rootOf(a)))), ...node.outs.filter((o) => !memorySlot(o))];
    const scratch = site.window ? [[windowScratch(node), width(node.outs[0]!)]] : [];
    return [...outside.filter((v) => v.type.shape.length > 0).map((v) => [...v.type.shape, width(v)]), ...scratch];
  };
  const bytes = (shape: readonly Dim[], w: number): string => {
    const n = e.size(shape);
    return /^\d+$/.test(n) ? String(Math.ceil((Number(n) * w) / 16) * 16) : `Math.ceil(${n} / ${16 / w}) * 16`;
  };
  const sum = (terms: string[]): string => {
    const literal = terms.filter((t) => /^\d+$/.test(t)).reduce((a, t) => a + Number(t), 0);
    const rest = terms.filter((t) => !/^\d+$/.test(t));
    return [...rest, ...(literal > 0 || rest.length === 0 ? [String(literal)] : [])].join(" + ");
  };

  const mem = `${prefix}_mem`;
  const end = `${prefix}_end`;
  const views = (): { name: string; dtype: string; shape: readonly Dim[] }[] => [
    ...plan.slots.flatMap((s, i) => (inMemory.has(i) ? [{ name: slotName(i), dtype: s.dtype, shape: s.shape }] : [])),
    ...[...staged].map(([v, name]) => ({ name, dtype: v.type.dtype, shape: v.type.shape })),
    ...[...copyEach.values()].flatMap((m) => [...m].map(([v, name]) => ({ name, dtype: v.type.dtype, shape: v.type.shape }))),
  ];

  return {
    site: (node) => kernels.get(node),
    has: (slot) => inMemory.has(slot),
    operand(node, v) {
      const root = rootOf(v);
      for (const a of copyAt.get(node) ?? []) e.line(`${staged.get(a)!}.set(${e.operand(a)});`);
      copyAt.delete(node);
      const each = copyEach.get(node)?.get(root);
      if (each !== undefined) {
        e.line(`${each}.set(${e.operand(root)});`);
        return each;
      }
      const view = stagedAt.get(node)?.has(root) ? staged.get(root) : undefined;
      // A reshaped parameter reads the same elements: its staged copy serves as it is.
      return view ?? e.operand(v);
    },
    prologue() {
      const list = views();
      const rooms = [...kernels.keys()].map((n) => sum(roomOf(n).map((s) => bytes(s.slice(0, -1), s[s.length - 1] as number))));
      const literalRooms = rooms.filter((r) => /^\d+$/.test(r)).map(Number);
      const symbolicRooms = rooms.filter((r) => !/^\d+$/.test(r));
      const maxLiteral = literalRooms.length > 0 ? [String(Math.max(...literalRooms))] : [];
      const all = [...symbolicRooms, ...maxLiteral];
      const room = all.length === 1 ? all[0]! : `Math.max(${all.join(", ")})`;
      e.line(`if (${mem} !== ${WASM_STATE}.memory.buffer) {`);
      e.nested(() => {
        e.line(`const at = $gradc_wasm_layout([${list.map((b) => bytes(b.shape, b.dtype === "f32" ? 4 : 8)).join(", ")}], ${room});`);
        e.line(`const m = (${mem} = ${WASM_STATE}.memory.buffer);`);
        list.forEach((b, i) => e.line(`${b.name} = new ${arrayType(b.dtype as "f32")}(m, at[${i}]${e.bang}, ${e.size(b.shape)});`));
        e.line(`${end} = at[${list.length}]${e.bang};`);
      });
      e.line("}");
      e.line(`$gradc_wasm_room_at = ${end};`);
    },
    declarations() {
      return [
        "// Buffers in the kernels' linear memory: views re-made at call entry when the layout is stale.",
        `let ${mem}${e.typed("ArrayBufferLike | null")} = null;`,
        `let ${end} = 0;`,
        ...views().map((b) => `let ${b.name}${e.typed(arrayType(b.dtype as "f32"))};`),
      ];
    },
  };
}

/** The statement that makes a function's memory layout stale (its dimensions changed). */
export const staleLayout = (prefix: string): string => `${prefix}_mem = null;`;
