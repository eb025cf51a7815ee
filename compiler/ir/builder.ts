// Builds IR: appends nodes to the block being filled, typed by the primitives' type rules
// (`OpTypes`, injected: the op registry passes its own, `opTypes` in compiler/ops/). The builder
// fits the registry's `Builder<Value>` interface, so one VJP rule builds IR and tape values alike.

import { type Attrs, type Block, IF, IdSource, LOOP, type Loc, type Node, type OpTypes, type Type, type Value } from "./types.js";

interface Frame {
  nodes: Node[];
}

export class IRBuilder {
  private frames: Frame[] = [{ nodes: [] }];
  /** Location stamped on new nodes: the source construct being lowered. */
  loc: Loc | undefined;

  constructor(
    private readonly types: OpTypes,
    readonly ids: IdSource = new IdSource(),
  ) {}

  param(type: Type, name?: string): Value {
    return this.ids.value(type, name);
  }

  op(name: string, args: readonly Value[], attrs: Attrs = {}): Value {
    const type = this.types.infer(
      name,
      args.map((a) => a.type),
      attrs,
    );
    const out = this.ids.value(type);
    // Not a spread of an optional `loc`: this runs for every node the passes build.
    const loc = this.loc;
    this.push(loc ? { op: name, args, attrs, outs: [out], blocks: [], loc } : { op: name, args, attrs, outs: [out], blocks: [] });
    return out;
  }

  constant(value: number, like: Value): Value {
    const dtype = like.type.dtype === "bool" ? "f64" : like.type.dtype;
    return this.op("const", [], dtype === "f64" ? { value } : { value, dtype });
  }

  typeOf(v: Value): Type {
    return v.type;
  }

  /**
   * The defining node of each value this builder appended, by value id (ids are unique within
   * a function): an array, because a Map keyed by the values themselves was a fifth of a
   * rewriting pass on large functions.
   */
  private defs: (Node | undefined)[] = [];
  private outs = 0;
  /** How many values the nodes this builder appended define. */
  get size(): number {
    return this.outs;
  }

  push(node: Node): void {
    this.frames[this.frames.length - 1]!.nodes.push(node);
    const defs = this.defs;
    for (const o of node.outs) {
      // Grown one entry at a time: writing far past the end (a new value's id while the
      // copied ones are still low) would turn the array into a slow dictionary.
      while (defs.length <= o.id) defs.push(undefined);
      if (defs[o.id] === undefined) this.outs++;
      defs[o.id] = node;
    }
  }

  /** The node that defined `v`, if this builder appended it. */
  defOf(v: Value): Node | undefined {
    const node = this.defs[v.id];
    return node !== undefined && node.outs.includes(v) ? node : undefined;
  }

  /** Collects the nodes built by `fill` into a block that yields what `fill` returns. */
  block(fill: () => readonly Value[], params: readonly Value[] = []): Block {
    const frame: Frame = { nodes: [] };
    this.frames.push(frame);
    try {
      return { params, nodes: frame.nodes, results: fill() };
    } finally {
      // Popped even when lowering throws, so the builder stays usable for the next statement.
      this.frames.pop();
    }
  }

  /** An `if` node with results typed like the then-block's. */
  ifNode(cond: Value, then: Block, otherwise: Block, names: readonly (string | undefined)[] = []): Value[] {
    const outs = then.results.map((r, i) => this.ids.value(r.type, names[i]));
    this.push({ op: IF, args: [cond], attrs: {}, outs, blocks: [then, otherwise], ...(this.loc ? { loc: this.loc } : {}) });
    return outs;
  }

  /**
   * A `loop` node: `inits` are the carries' initial values; `body` has params (k, ...carries)
   * and yields the next carries. `history` lists carries whose value at the start of every
   * iteration is also returned, stacked along a new leading axis (for the reverse pass).
   */
  loopNode(inits: readonly Value[], body: Block, attrs: Attrs, history: readonly number[] = [], names: readonly (string | undefined)[] = []): Value[] {
    const trips = attrs["trips"] as number | string;
    const outs = inits.map((v, j) => this.ids.value(v.type, names[j] ?? v.name));
    const hist = history.map((j) => this.ids.value({ dtype: inits[j]!.type.dtype, shape: [trips, ...inits[j]!.type.shape] }));
    const full = history.length > 0 ? { ...attrs, record: history } : attrs;
    this.push({ op: LOOP, args: inits, attrs: full, outs: [...outs, ...hist], blocks: [body], ...(this.loc ? { loc: this.loc } : {}) });
    return [...outs, ...hist];
  }

  /** The nodes of the outermost block, for finishing a function. */
  finish(results: readonly Value[], params: readonly Value[]): Block {
    if (this.frames.length !== 1) throw new Error("unbalanced blocks in IRBuilder");
    return { params, nodes: this.frames[0]!.nodes, results };
  }
}
