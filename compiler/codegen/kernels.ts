// Tensor code generation: the one small interface the node dispatch calls for anything that
// is not a scalar expression. Each kernel op of the registry is emitted through a
// `KernelBackend` (JS loops here; a WebAssembly backend can implement the same seam for heavy
// kernels). Loops run over row-major typed arrays; fused elementwise trees are inlined into one
// loop body; matrix products are in matmul.ts.

import { type Dim, type Node, type Type, type Value, walkNodes } from "../ir/types.js";
import { getOp, type KernelBackend } from "../ops/index.js";
import { emitOpLoops } from "./op-loops.js";
import { reducedAxes } from "../ops/reduce.js";
import { indexRanges, indexedSize } from "../passes/indexrange.js";
import type { Buffers } from "./buffers.js";
import { UNROLL, openNest } from "./control.js";
import type { Emitter } from "./emitter.js";
import { CodegenError } from "./errors.js";
import { indexGuard, loopPrechecks } from "./indexcheck.js";
import { emitMatmul } from "./matmul.js";
import { emitLoops } from "./loops.js";
import { isOuterProduct } from "./plan.js";
import { emitMatmulKernel, WASM_MIN_WORK } from "./wasm-backend.js";

import { type At, type Expr, type KernelEmitter, OUTLINE_AFTER, wrap } from "./kernel-parts.js";

export { type KernelEmitter, LOOP_NAMES, OUTLINE_AFTER } from "./kernel-parts.js";

export function createKernelEmitter(e: Emitter, buffers: Buffers): KernelEmitter {
  const fn = e.unit.fn;
  const { plan, allocate } = buffers;
  const producers = new Map<Value, Node>();
  const walk = (nodes: readonly Node[]): void =>
    nodes.forEach((n) => {
      n.outs.forEach((o) => producers.set(o, n));
      n.blocks.forEach((b) => walk(b.nodes));
    });
  walk(fn.body.nodes);
  // Past this many tensor kernels a function outgrows what V8 optimizes: kernels are outlined.
  const outlined: string[] = [];
  let kernelCount = 0;
  walkNodes(fn.body, (n) => {
    if (n.outs.some((o) => o.type.shape.length > 0 && !plan.inlined.has(o))) kernelCount++;
  });
  const outline = kernelCount > OUTLINE_AFTER;
  const outlinable = (node: Node): boolean =>
    node.outs[0]!.type.shape.length > 0 && !(node.op === "reshape" && node.args[0]!.type.shape.length > 0);

  const buf = (v: Value): string => e.operand(v);
  const ranges = indexRanges(fn);
  /** Per indexing node in a loop, the flag saying its whole range was checked before the loop. */
  const prechecked = new Map<Node, string>();
  /** Checks an index not known to be in range before it is used (the eager op's error). */
  const guard = (node: Node): void => {
    const check = indexGuard(ranges, node, e.operand(node.args[1]!), e.dim(indexedSize(node)), prechecked.get(node));
    if (check === undefined) return;
    e.line(check);
    e.checksIndex();
  };

  /** Index of an operand of shape `leaf` inside a loop nest over `space` with counters `cs`. */
  const leafIndex = (leaf: readonly Dim[], space: readonly Dim[], cs: readonly string[]): string => {
    const offset = space.length - leaf.length;
    const terms: string[] = [];
    for (let k = 0; k < leaf.length; k++) {
      if (leaf[k] === 1) continue;
      const stride = e.size(leaf.slice(k + 1));
      terms.push(stride === "1" ? cs[k + offset]! : `${cs[k + offset]} * ${stride}`);
    }
    return terms.length === 0 ? "0" : terms.join(" + ");
  };

  /** The stored tensors a fused tree reads. */
  const treeLeaves = (v: Value, out: Value[] = []): Value[] => {
    if (v.type.shape.length === 0) return out;
    if (!plan.inlined.has(v)) {
      out.push(v);
      return out;
    }
    producers.get(v)!.args.forEach((a) => treeLeaves(a, out));
    return out;
  };

  /**
   * Reads at a fixed index inside a kernel's loops, while `invariant` is set: hoisted before
   * the loops into a local (V8 does not move a typed-array read past the loop's stores, which
   * could alias it), one per array and index.
   */
  let invariant: { readonly names: Map<string, string>; readonly decls: string[] } | undefined;
  const readAt = (v: Value, index: string): string => {
    const text = e.read(buf(v), index);
    if (invariant === undefined || !/^\d+$/.test(index)) return text;
    let name = invariant.names.get(text);
    if (name === undefined) {
      name = e.fresh(`${v.name ?? "t"}_at${index}`);
      invariant.names.set(text, name);
      invariant.decls.push(`${name} = ${text}`);
    }
    return name;
  };
  /** Emits `body` (a kernel's loops) with its fixed-index reads hoisted, when `loops` says it loops. */
  const hoistingReads = (loops: boolean, body: () => void): void => {
    if (!loops) return body();
    e.hoisting((hoist) => {
      const mine = (invariant = { names: new Map(), decls: [] });
      try {
        body();
      } finally {
        invariant = undefined;
      }
      if (mine.decls.length > 0) hoist(`const ${mine.decls.join(", ")};`);
    });
  };

  /** The expression computing one element of `v` at `at` (inlining fused producers). */
  const treeExpr = (v: Value, at: At): Expr => {
    if (v.type.shape.length === 0) {
      const text = e.operand(v);
      return { text, atomic: !/[\s(]/.test(text) || /^\(-?[\d.e+-]+\)$/.test(text) };
    }
    if (!plan.inlined.has(v)) return { text: readAt(v, at === "flat" ? "i" : leafIndex(v.type.shape, at.space, at.cs)), atomic: true };
    return nodeExpr(producers.get(v)!, at);
  };
  const nodeExpr = (node: Node, at: At): Expr => {
    if (node.op === "broadcast_to" || node.op === "reshape") return treeExpr(node.args[0]!, at);
    if (isOuterProduct(node)) {
      // In a flat loop every stored tensor has the loop's shape, so `i` indexes the factors too.
      const [row, col] = at === "flat" ? [undefined, undefined] : (at.cs.slice(-2) as [string, string]);
      return { text: `${wrap(factor(node, 0, row))} * ${wrap(factor(node, 1, col))}`, atomic: false };
    }
    const def = getOp(node.op);
    if (def.kind !== "elementwise") throw new CodegenError(`${node.op} cannot be fused`);
    // A call (`Math.exp(x)`, entry's `callForm`) delimits itself and its operands.
    const callForm = def.callForm === true;
    const operands = node.args.map((a) => {
      const x = treeExpr(a, at);
      return x.atomic || callForm ? x.text : `(${x.text})`;
    });
    return { text: def.expr(operands, node.attrs), atomic: callForm };
  };
  /**
   * Entry `counter` of an outer product's row factor (`k` 0: A, a column unless `ta`) or column
   * factor (`k` 1: B, a row unless `tb`); with no counter, in a flat loop.
   */
  const factor = (node: Node, k: 0 | 1, counter: string | undefined): Expr => {
    const x = node.args[k]!;
    if (counter === undefined) return treeExpr(x, "flat");
    const column = (k === 0) !== (node.attrs[k === 0 ? "ta" : "tb"] === true);
    return treeExpr(x, { space: x.type.shape, cs: column ? [counter, "0"] : ["0", counter] });
  };

  const pointwise = (node: Node): void => {
    const out = node.outs[0]!;
    const space = out.type.shape;
    const target = allocate(out);
    const stored = node.args.flatMap((a) => treeLeaves(a));
    // A stored mask is a Uint8Array: its elements are written as 1 and 0, not true and false.
    const element = (text: string): string => (out.type.dtype === "bool" ? `(${text}) ? 1 : 0` : text);
    const flat = stored.every((l) => l.type.shape.length === space.length && l.type.shape.every((d, k) => d === space[k]));
    if (flat) {
      e.line(`for (let i = 0; i < ${e.size(space)}; i++) {`);
      e.nested(() => e.line(`${target}[i] = ${element(nodeExpr(node, "flat").text)};`));
      e.line("}");
      return;
    }
    hoistingReads(space.some((d) => d !== 1), () => {
      const { cs, close } = openNest(e, space);
      e.line(`${target}[${leafIndex(space, space, cs)}] = ${element(nodeExpr(node, { space, cs }).text)};`);
      close();
    });
  };

  const reduce = (node: Node, kind: "sum" | "max"): void => {
    const x = node.args[0]!;
    const out = node.outs[0]!;
    const space = x.type.shape;
    const axes = reducedAxes(node.attrs, space.length);
    const kept = space.map((_d, k) => k).filter((k) => !axes.includes(k));
    const init = kind === "sum" ? "0" : "-Infinity";
    const cs = space.map((_d, k) => `i${k}`);
    const element = (): string => treeExpr(x, { space, cs }).text;
    const accumulate = (acc: string): void =>
      e.line(kind === "sum" ? `${acc} += ${element()};` : `${acc} = Math.max(${acc}, ${element()});`);
    if (out.type.shape.length === 0) {
      // A full reduction to a number accumulates in a local of its own.
      const total = e.freshName(out);
      e.line(`let ${total} = ${init};`);
      const nest = openNest(e, space, cs);
      accumulate(total);
      nest.close();
      if (out.type.dtype === "f32") e.line(`${total} = Math.fround(${total});`);
      e.bind(out, total);
      return;
    }
    // Outer loops over the kept axes (the output, in order), inner loops over the reduced ones.
    const target = allocate(out);
    e.line("{");
    e.nested(() => {
      e.line("let o = 0;");
      const outer = openNest(e, kept.map((k) => space[k]!), kept.map((k) => cs[k]!));
      e.line(`let acc = ${init};`);
      const inner = openNest(e, axes.map((k) => space[k]!), axes.map((k) => cs[k]!));
      accumulate("acc");
      inner.close();
      e.line(`${target}[o++] = acc;`);
      outer.close();
    });
    e.line("}");
  };

  const argmaxMask = (node: Node): void => {
    const x = node.args[0]!;
    const out = node.outs[0]!;
    const space = x.type.shape;
    const axes = reducedAxes(node.attrs, space.length);
    const kept = space.map((_d, k) => k).filter((k) => !axes.includes(k));
    const cs = space.map((_d, k) => `i${k}`);
    const target = allocate(out);
    const index = leafIndex(space, space, cs);
    e.line(`${target}.fill(0);`);
    e.line("{");
    e.nested(() => {
      const outer = openNest(e, kept.map((k) => space[k]!), kept.map((k) => cs[k]!));
      // The first maximal entry of each slice gets the gradient, as with the max gate.
      e.line("let best = -Infinity;");
      e.line("let at = -1;");
      const inner = openNest(e, axes.map((k) => space[k]!), axes.map((k) => cs[k]!));
      e.line(`if (at < 0 || ${e.read(buf(x), index)} > best) {`);
      e.nested(() => {
        e.line(`best = ${e.read(buf(x), index)};`);
        e.line(`at = ${index};`);
      });
      e.line("}");
      inner.close();
      e.line(`${target}[at] = 1;`);
      outer.close();
    });
    e.line("}");
  };

  /**
   * An outer product: per row, the row factor once (`a`), then the row written as `a` times the
   * column factor, written out when the row is short. Either factor may be a fused expression.
   */
  const outerProduct = (node: Node): void => {
    const [M, N] = node.outs[0]!.type.shape.map((d) => e.dim(d)) as [string, string];
    const C = allocate(node.outs[0]!);
    const row = (i: string, base: string): void => {
      e.line(`const a = ${factor(node, 0, i).text};`);
      const at = (j: string): string => (base === "0" ? j : j === "0" ? base : `${base} + ${j}`);
      if (/^\d+$/.test(N) && Number(N) <= UNROLL) {
        e.line(Array.from({ length: Number(N) }, (_x, j) => `${C}[${at(String(j))}] = a * ${wrap(factor(node, 1, String(j)))};`).join(" "));
      } else e.line(`for (let j = 0; j < ${N}; j++) ${C}[${at("j")}] = a * ${wrap(factor(node, 1, "j"))};`);
    };
    hoistingReads(M !== "1", () => {
      e.line(M === "1" ? "{" : `for (let i = 0; i < ${M}; i++) {`);
      e.nested(() => {
        if (M === "1") return row("0", "0");
        if (N !== "1") e.line(`const o = i * ${N};`);
        row("i", N === "1" ? "i" : "o");
      });
      e.line("}");
    });
  };

  /** Kernels with loop nests of their own (loops.ts, windows.ts). */
  const loops = (node: Node): void =>
    emitLoops({ line: (t) => e.line(t), nested: (f) => e.nested(f), allocate, buf, read: (a, i) => e.read(a, i), bang: e.bang, dim: (d) => e.dim(d), size: (s) => e.size(s),
      backend: e.backend, wasmMinWork: e.wasmMinWork ?? WASM_MIN_WORK }, node);

  const transpose = (node: Node): void => {
    const x = node.args[0]!;
    // Other ranks and permutations walk the result through permuted strides.
    const perm = node.attrs["perm"] as readonly number[] | undefined;
    if (x.type.shape.length !== 2 || (perm !== undefined && perm[0] !== 1)) return loops(node);
    const [M, N] = x.type.shape.map((d) => e.dim(d)) as [string, string];
    const target = allocate(node.outs[0]!);
    e.line(`for (let i = 0; i < ${M}; i++) {`);
    e.nested(() => e.line(`for (let j = 0; j < ${N}; j++) ${target}[j * ${M} + i] = ${e.read(buf(x), `i * ${N} + j`)};`));
    e.line("}");
  };

  /** x[i] along the leading axis: a number read, or a slice copied. */
  const take = (node: Node): void => {
    const [x, i] = node.args as [Value, Value];
    const out = node.outs[0]!;
    const n = e.size(out.type.shape);
    const at = e.operand(i);
    guard(node);
    if (out.type.shape.length === 0) {
      const name = e.freshName(out);
      e.line(`const ${name} = ${e.read(buf(x), at)};`);
      e.bind(out, name);
      return;
    }
    const target = allocate(out);
    e.line(`for (let j = 0; j < ${n}; j++) ${target}[j] = ${e.read(buf(x), `${at} * ${n} + j`)};`);
  };

  const put = (node: Node): void => {
    const [g, i] = node.args as [Value, Value];
    const out = node.outs[0]!;
    const n = e.size(g.type.shape);
    guard(node);
    const target = allocate(out);
    e.line(`${target}.fill(0);`);
    if (g.type.shape.length === 0) e.line(`${target}[${e.operand(i)}] = ${e.operand(g)};`);
    else e.line(`for (let j = 0; j < ${n}; j++) ${target}[${e.operand(i)} * ${n} + j] = ${e.read(buf(g), "j")};`);
  };

  const backend: KernelBackend<Node> = {
    take,
    put,
    pointwise,
    reduce,
    argmaxMask,
    matmul(node) {
      // Batched products (rank above 2) take the loop kernel of loops.ts.
      if (node.outs[0]!.type.shape.length > 2) return loops(node);
      if (isOuterProduct(node)) return outerProduct(node);
      const C = allocate(node.outs[0]!);
      const [A, B] = node.args as [Value, Value];
      // Large products as WebAssembly kernels (wasm-backend.ts), the rest as JavaScript loops.
      emitMatmulKernel(e, node, C, () =>
        hoistingReads(node.outs[0]!.type.shape.some((d) => d !== 1), () => emitMatmul(e, node, C, (x, index) => readAt(x === 0 ? A : B, index))),
      );
    },
    transpose,
    // The op's own loops (indexing by i32 tensors, op-loops.ts), or the backend's kernel for it.
    loops: (node, write) => (write === undefined ? loops(node) : emitOpLoops(e, node, allocate(node.outs[0]!), getOp(node.op).label ?? node.op, write)),
    alias(node) {
      const [x, out] = [node.args[0]!, node.outs[0]!];
      if (x.type.shape.length === 0) return pointwise(node);
      if (out.type.shape.length === 0) {
        // A one-element tensor reshaped to a number.
        const name = e.freshName(out);
        e.line(`const ${name} = ${e.read(buf(x), "0")};`);
        return e.bind(out, name);
      }
      e.bind(out, buf(x));
    },
  };

  /**
   * The locals an outlined kernel of `node` reads, from the IR: its result's storage, the
   * stored values its (fused) operands read, the symbolic dimensions of their shapes and the
   * flag of a hoisted index check. Module-level buffers and literals are not locals.
   */
  const kernelLocals = (node: Node): string[] => {
    const locals: string[] = [];
    const add = (text: string): void => {
      if (e.isLocal(text) && !locals.includes(text)) locals.push(text);
    };
    const dims = (t: Type): void => t.shape.forEach((d) => typeof d === "string" && add(e.dim(d)));
    const read = (v: Value): void => {
      dims(v.type);
      if (v.type.shape.length > 0 && plan.inlined.has(v)) producers.get(v)!.args.forEach(read);
      else add(e.operand(v));
    };
    node.outs.forEach((o) => {
      dims(o.type);
      add(e.operand(o));
    });
    node.args.forEach(read);
    const flag = prechecked.get(node);
    if (flag !== undefined) add(flag);
    return locals;
  };

  return {
    emit(node) {
      const out = node.outs[0]!;
      if (plan.inlined.has(out)) return;
      const def = getOp(node.op);
      if (def.kind !== "elementwise" && def.kind !== "kernel") throw new CodegenError(`${node.op} has no tensor code`);
      const run = (): void => (def.kind === "elementwise" ? pointwise(node) : def.emit(backend, node));
      if (!outline || !outlinable(node)) return run();
      // A function too large for V8 to optimize runs in its interpreter: each kernel's loops go
      // into a module-level function of their own, which V8 optimizes, called with the locals
      // they read.
      allocate(out);
      const body = e.capture(run);
      const locals = kernelLocals(node);
      const name = `${buffers.prefix}_k${outlined.length}`;
      outlined.push(`function ${name}(${locals.map((l) => l + e.typed(e.localType(l))).join(", ")}) {`, ...body, "}");
      e.line(`${name}(${locals.join(", ")});`);
    },
    loopPrechecks(node, trips) {
      const pre = loopPrechecks(ranges, node, { operand: (v) => e.operand(v), size: (n) => e.dim(indexedSize(n)), trips, fresh: (hint) => e.fresh(hint) });
      pre.lines.forEach((l) => e.line(l));
      pre.flags.forEach((flag, n) => prechecked.set(n, flag));
    },
    declarations() {
      if (outlined.length === 0) return [];
      return ["// Kernels of a function too large for V8 to optimize whole.", ...outlined];
    },
  };
}
