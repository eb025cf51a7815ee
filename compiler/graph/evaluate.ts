// Runs a function's IR on concrete inputs and backpropagates through it, keeping every
// intermediate: the forward value of each node, the gradient of the output with respect to it,
// and the contribution each edge makes to that gradient. This is what `gradc graph` draws; it is
// backpropagation done by hand, node by node, with the op registry's own evaluate and VJP rules.
//
// `if` nodes run only the branch taken. Each of their results becomes a routing step whose
// inputs are the condition (no gradient) and the taken branch's result (gets the gradient).
// `loop` nodes are unrolled: every trip's nodes are steps of their own, with the counter a
// constant, so the drawing shows the recurrence and the gradient flowing back through it.
// `custom_vjp` nodes (`customVjp(f, vjp)` calls) are one step each, drawn as one gate: the
// forward block computes its value and the user's backward block its inputs' gradients, as
// compiled code does; the nodes inside either block are not drawn.

import { type AttrValue, type Attrs, type Block, type Dim, type Func, type Loc, type Node, type Type, type Value, CUSTOM, IF, LOOP, WHILE } from "../ir/types.js";
import { type Builder, getOp, sumTo } from "../ops/index.js";
import { type Val, dtypeOf, shapeOf } from "../ops/values.js";

/** A user-facing problem with the inputs or the function (bad shape, unsupported construct). */
export class GraphError extends Error {}

/** One executed operation: a primitive, a `customVjp` call, or the routing of one result of an `if`. */
export interface Step {
  readonly kind: "op" | "if" | "custom";
  /** The op name (`"if"` for routing steps, `"custom_vjp"` for customVjp calls). */
  readonly op: string;
  readonly attrs: Attrs;
  /** The values read; for `if`, [condition, taken branch's result]. */
  readonly args: readonly Value[];
  readonly out: Value;
  readonly loc?: Loc;
  /** For `if`: which branch ran. */
  readonly taken?: "then" | "else";
}

/** Everything a forward and a backward pass computed, node by node. */
export interface Evaluation {
  /** Executed steps in forward order. */
  readonly steps: readonly Step[];
  /** Forward value of every value that was computed (parameters included). */
  readonly values: ReadonlyMap<Value, Val>;
  /** Total gradient of the output with respect to each value on a path to it. */
  readonly adjoints: ReadonlyMap<Value, Val>;
  /** Per step, the gradient each argument receives through that step (null: none). */
  readonly edgeGrads: ReadonlyMap<Step, readonly (Val | null)[]>;
  /** The function's (scalar) output. */
  readonly output: Value;
  /** Symbolic dimensions, as read from the arguments. */
  readonly dims: Readonly<Record<string, number>>;
}

/** Computes with real values: what VJP rules run on here. */
/** A while loop drawn as its trips stops here: past this, the graph would not be readable anyway. */
const MAX_WHILE_TRIPS = 100_000;

const eager: Builder<Val> = {
  op: (name, args, attrs = {}) => getOp(name).evaluate(args, attrs),
  constant: (value) => value,
  typeOf: (v): Type => ({ dtype: dtypeOf(v), shape: shapeOf(v) }),
};

/** Replaces symbolic dimensions in shape-valued attributes by their values. */
function concreteAttrs(attrs: Attrs, dims: Readonly<Record<string, number>>): Attrs {
  let changed = false;
  const out: Record<string, AttrValue> = {};
  for (const [k, v] of Object.entries(attrs)) {
    if (Array.isArray(v) && v.some((d) => typeof d === "string")) {
      changed = true;
      out[k] = (v as readonly Dim[]).map((d) => (typeof d === "string" ? dimValue(dims, d) : d));
    } else out[k] = v;
  }
  return changed ? out : attrs;
}

function dimValue(dims: Readonly<Record<string, number>>, name: string): number {
  const v = dims[name];
  if (v === undefined) throw new GraphError(`symbolic dimension ${name} is not fixed by any argument`);
  return v;
}

const describe = (v: Val): string =>
  typeof v === "object" ? `a tensor of shape [${v.shape.join(", ")}]` : typeof v === "boolean" ? "a boolean" : "a number";

/** Checks each argument against its parameter's type and reads the symbolic dimensions. */
function bindDims(params: readonly Value[], args: readonly Val[], paramNames: readonly string[]): Record<string, number> {
  const dims: Record<string, number> = {};
  params.forEach((p, i) => {
    const name = paramNames[i] ?? p.name ?? `argument ${i}`;
    const a = args[i];
    if (a === undefined) throw new GraphError(`missing a value for ${name}`);
    const shape = shapeOf(a);
    const want = p.type.shape;
    const wanted = `[${want.join(", ")}]`;
    if (want.length === 0 && typeof a !== "number") throw new GraphError(`${name} must be a number, got ${describe(a)}`);
    if (shape.length !== want.length) throw new GraphError(`${name} must have shape ${wanted}, got ${describe(a)}`);
    want.forEach((d, ax) => {
      const actual = shape[ax]!;
      if (typeof d === "number") {
        if (d !== actual) throw new GraphError(`${name} must have shape ${wanted}, got ${describe(a)}`);
      } else if (dims[d] === undefined) dims[d] = actual;
      else if (dims[d] !== actual)
        throw new GraphError(`${name}: dimension ${d} is ${dims[d]} elsewhere but ${actual} here (shape ${wanted})`);
    });
  });
  return dims;
}

/**
 * Maps the IR values of a block to the values of one execution of it. Outside loops every IR
 * value runs once and stands for itself; inside a loop body each iteration gets fresh
 * instances, so an unrolled loop draws (and differentiates) like straight-line code.
 */
class Scope {
  private readonly map = new Map<Value, Value>();
  constructor(
    private readonly parent?: Scope,
    /** True inside a loop body: values need fresh instances. */
    readonly repeated = false,
  ) {}
  bind(ir: Value, instance: Value): void {
    this.map.set(ir, instance);
  }
  resolve(ir: Value): Value {
    return this.map.get(ir) ?? this.parent?.resolve(ir) ?? ir;
  }
}

/**
 * Evaluates `fn` at `args` (one value per IR parameter, in order) and backpropagates from its
 * first result with seed gradient 1. `paramNames` labels parameters in error messages. Loops
 * are unrolled; `if` runs the branch taken.
 */
export function evaluateWithGradients(fn: Func, args: readonly Val[], paramNames: readonly string[] = []): Evaluation {
  const params = fn.body.params;
  if (args.length !== params.length) throw new GraphError(`${fn.name} takes ${params.length} inputs, got ${args.length}`);
  const dims = bindDims(params, args, paramNames);
  const values = new Map<Value, Val>();
  const steps: Step[] = [];
  params.forEach((p, i) => values.set(p, args[i]!));
  let nextId = -1;
  /** The value a node defines in this execution: itself once, a fresh instance per loop trip. */
  const define = (scope: Scope, ir: Value): Value => {
    if (!scope.repeated) return ir;
    const instance: Value = { id: nextId--, type: ir.type, ...(ir.name !== undefined ? { name: ir.name } : {}) };
    scope.bind(ir, instance);
    return instance;
  };
  const read = (v: Value): Val => {
    const x = values.get(v);
    if (x === undefined) throw new Error(`IR value ${v.id} read before it was computed`);
    return x;
  };

  /** customVjp steps: the node (for its backward block) and the scope it ran in. */
  const customs = new Map<Step, { node: Node; scope: Scope }>();
  /** Runs `block` once with its params bound to `inputs`; yields the instances of its results. */
  const runBlock = (block: Block, scope: Scope, inputs: readonly Value[]): Value[] => {
    const inner = new Scope(scope, true);
    block.params.forEach((p, i) => inner.bind(p, inputs[i]!));
    run(block, inner, []);
    return block.results.map((r) => inner.resolve(r));
  };

  /** One trip of a loop body at counter `k` (drawn as a constant step) from `carries`: the next carries. */
  const trip = (body: Block, k: number, carries: readonly Value[], scope: Scope, sink: Step[], loc: { loc?: Loc }): Value[] => {
    const inner = new Scope(scope, true);
    const counter = define(inner, body.params[0]!);
    values.set(counter, k);
    sink.push({ kind: "op", op: "const", attrs: { value: k }, args: [], out: counter, ...loc });
    carries.forEach((c, j) => inner.bind(body.params[j + 1]!, c));
    run(body, inner, sink);
    return body.results.map((r) => inner.resolve(r));
  };
  const run = (block: Block, scope: Scope, sink: Step[] = steps): void => {
    for (const node of block.nodes) {
      const loc = node.loc ? { loc: node.loc } : {};
      const argv = node.args.map((a) => scope.resolve(a));
      if (node.op === IF) {
        const cond = read(argv[0]!);
        const taken = cond === true || (typeof cond === "number" && cond !== 0) ? 0 : 1;
        const branch = node.blocks[taken]!;
        const inner = new Scope(scope, scope.repeated);
        run(branch, inner, sink);
        node.outs.forEach((o, i) => {
          const r = inner.resolve(branch.results[i]!);
          const out = define(scope, o);
          values.set(out, read(r));
          sink.push({ kind: "if", op: IF, attrs: {}, args: [argv[0]!, r], out, taken: taken === 0 ? "then" : "else", ...loc });
        });
        continue;
      }
      if (node.op === LOOP) {
        const body = node.blocks[0]!;
        if (node.outs.length !== node.args.length)
          throw new GraphError("gradc graph draws a function as written; recorded loop histories only exist after AD");
        const t = node.attrs["trips"];
        const trips = typeof t === "string" ? dimValue(dims, t) : Number(t);
        let carries = argv;
        for (let k = 0; k < trips; k++) carries = trip(body, k, carries, scope, sink, loc);
        // The loop's results are the last trip's carries (the initial values after no trip).
        node.outs.forEach((o, j) => scope.bind(o, carries[j]!));
        continue;
      }
      if (node.op === CUSTOM) {
        // The forward block's nodes run but are not steps: the call is drawn as one gate.
        const r = runBlock(node.blocks[0]!, scope, argv)[0]!;
        const out = define(scope, node.outs[0]!);
        values.set(out, read(r));
        const step: Step = { kind: "custom", op: CUSTOM, attrs: {}, args: argv, out, ...loc };
        customs.set(step, { node, scope });
        sink.push(step);
        continue;
      }
      if (node.op === WHILE) {
        const [cond, body] = node.blocks as [Block, Block];
        if (node.outs.length !== node.args.length)
          throw new GraphError("gradc graph draws a function as written; recorded loop histories only exist after AD");
        let carries = argv;
        for (let k = 0; ; k++) {
          if (!(node.attrs["do"] === true && k === 0)) {
            const test = new Scope(scope, true);
            carries.forEach((c, j) => test.bind(cond.params[j]!, c));
            run(cond, test, sink);
            if (!read(test.resolve(cond.results[0]!))) break;
          }
          if (k >= MAX_WHILE_TRIPS) throw new GraphError(`a while loop ran ${MAX_WHILE_TRIPS} trips at these inputs without its condition failing`);
          carries = trip(body, k, carries, scope, sink, loc);
        }
        node.outs.forEach((o, j) => scope.bind(o, carries[j]!));
        continue;
      }
      if (node.blocks.length > 0) throw new GraphError(`gradc graph cannot draw '${node.op}' regions yet`);
      if (node.outs.length !== 1) throw new Error(`op ${node.op} with ${node.outs.length} results`);
      const attrs = concreteAttrs(node.attrs, dims);
      const value = node.op === "dim" ? dimValue(dims, String(node.attrs["name"])) : getOp(node.op).evaluate(argv.map(read), attrs);
      const out = define(scope, node.outs[0]!);
      values.set(out, value);
      sink.push({ kind: "op", op: node.op, attrs, args: argv, out, ...loc });
    }
  };
  const top = new Scope();
  run(fn.body, top);

  if (fn.body.results[0] === undefined) throw new GraphError(`${fn.name} returns nothing`);
  const output = top.resolve(fn.body.results[0]);
  const adjoints = new Map<Value, Val>();
  const edgeGrads = new Map<Step, (Val | null)[]>();
  const accumulate = (v: Value, ct: Val): void => {
    const prev = adjoints.get(v);
    adjoints.set(v, prev === undefined ? ct : eager.op("add", [prev, ct]));
  };
  adjoints.set(output, 1);
  for (let k = steps.length - 1; k >= 0; k--) {
    const step = steps[k]!;
    const g = adjoints.get(step.out);
    if (g === undefined) continue;
    let cts: (Val | null)[];
    if (step.kind === "if") cts = [null, g];
    else if (step.kind === "custom") {
      // The user's backward block, run on (arguments, result, cotangent).
      const { node, scope } = customs.get(step)!;
      const seed: Value = { id: nextId--, type: step.out.type };
      values.set(seed, g);
      const results = runBlock(node.blocks[1]!, scope, [...step.args, step.out, seed]);
      cts = results.map((r, i) => (step.args[i]!.type.dtype === "bool" ? null : read(r)));
    } else {
      const def = getOp(step.op);
      if (def.vjp === "not-differentiable") continue;
      const needs = step.args.map((a) => a.type.dtype !== "bool" && a.type.dtype !== "i32");
      const argVals = step.args.map(read);
      cts = def
        .vjp(eager, g, argVals, read(step.out), step.attrs, needs)
        .map((ct, i) => (ct === null || !needs[i] ? null : sumTo(eager, ct, shapeOf(argVals[i]!))));
    }
    edgeGrads.set(step, cts);
    step.args.forEach((a, i) => {
      const ct = cts[i];
      if (ct !== null && ct !== undefined) accumulate(a, ct);
    });
  }
  return { steps, values, adjoints, edgeGrads, output, dims };
}
