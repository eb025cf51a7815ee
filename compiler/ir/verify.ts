// The verifier: every value defined once and before use in its scope, every node's type what
// its op's shape rule says, every region consistent. Tests run it after every pass. The shape
// rules come from the op registry (`opTypes` in compiler/ops/), passed in: the IR layer does
// not depend on the registry.

import { historyType, isTripDim, tripDimOf, whileParts } from "./while.js";
import { formatType } from "./print.js";
import { type Block, CUSTOM, type Func, IF, LOOP, type OpTypes, type Value, WHILE, sameType } from "./types.js";

export class VerifyError extends Error {}

/**
 * Checks a function's IR against the primitives' type rules `ops`: every value defined once
 * and before use in its scope, every node's type what its op's shape rule gives, every region
 * consistent. Throws a `VerifyError` naming the first fault.
 */
export function verify(fn: Func, ops: OpTypes): void {
  const ids = new Set<number>();
  const fail = (msg: string): never => {
    throw new VerifyError(`${fn.name}: ${msg}`);
  };
  const define = (v: Value): void => {
    if (ids.has(v.id)) fail(`value id ${v.id} defined twice`);
    ids.add(v.id);
  };
  const checkBlock = (block: Block, scope: Set<Value>, tripScope: ReadonlySet<string> = new Set()): void => {
    const local = new Set(scope);
    // Trip counts of the `while` loops before this point in scope: a value shaped by one, and
    // a loop over one, come after that loop and in its block (or one nested in it).
    const tripDims = new Set(tripScope);
    const checkTrips = (t: unknown, what: string): void => {
      if (typeof t === "string" && isTripDim(t) && !tripDims.has(t)) fail(`${what} runs over ${t}, the trip count of no while loop before it in scope`);
    };
    const inScope = (v: Value, what: string): void => {
      if (!local.has(v)) fail(`${what} uses value ${v.id} (${v.name ?? "unnamed"}) outside its scope or before its definition`);
    };
    for (const p of block.params) {
      define(p);
      local.add(p);
      p.type.shape.forEach((d) => checkTrips(d, `param ${p.id}`));
    }
    for (const node of block.nodes) {
      node.args.forEach((a) => inScope(a, node.op));
      node.outs.slice(0, node.op === WHILE ? node.args.length : undefined).forEach((o) => o.type.shape.forEach((d) => checkTrips(d, `value ${o.id} (${node.op})`)));
      if (node.op === IF) {
        if (node.args.length !== 1 || node.args[0]!.type.dtype !== "bool" || node.args[0]!.type.shape.length !== 0)
          fail("if takes one boolean scalar condition");
        if (node.blocks.length !== 2) fail("if has a then and an else block");
        for (const b of node.blocks) {
          checkBlock(b, local, tripDims);
          if (b.results.length !== node.outs.length) fail("if branch yields the wrong number of values");
          b.results.forEach((r, i) => {
            if (!sameType(r.type, node.outs[i]!.type))
              fail(`if branch yields ${formatType(r.type)} for a result of type ${formatType(node.outs[i]!.type)}`);
          });
        }
      } else if (node.op === LOOP) {
        const body = node.blocks[0];
        const m = node.args.length;
        if (node.blocks.length !== 1 || !body) fail("loop has one body");
        if (body!.params.length !== m + 1) fail("loop body takes the counter and one param per carry");
        if (body!.results.length !== m) fail("loop body yields one value per carry");
        const history = (node.attrs["record"] as readonly number[] | undefined) ?? [];
        if (node.outs.length !== m + history.length) fail("loop defines its carries and the recorded histories");
        checkTrips(node.attrs["trips"], "loop");
        node.args.forEach((a, j) => {
          for (const t of [body!.params[j + 1]!.type, body!.results[j]!.type, node.outs[j]!.type])
            if (!sameType(t, a.type)) fail(`loop carry ${j} has type ${formatType(t)}, initial value ${formatType(a.type)}`);
        });
        checkBlock(body!, local, tripDims);
      } else if (node.op === WHILE) {
        const { cond, body, m, record, trips } = whileParts(node);
        if (node.blocks.length !== 2 || m === 0) fail("while has a condition and a body block and at least one carry");
        if (cond.params.length !== m || cond.results.length !== 1) fail("while's condition takes the carries and yields one value");
        const c = cond.results[0]!.type;
        if (c.dtype !== "bool" || c.shape.length !== 0) fail("while's condition yields a boolean scalar");
        if (body.params.length !== m + 1 || body.results.length !== m) fail("while's body takes the counter and the carries and yields the carries");
        if (trips !== tripDimOf(node.outs[0]!)) fail(`while's trip count is named ${String(trips)}, not after its first result`);
        if (node.outs.length !== m + record.length) fail("while defines its carries and the recorded histories");
        node.args.forEach((a, j) => {
          for (const t of [cond.params[j]!.type, body.params[j + 1]!.type, body.results[j]!.type, node.outs[j]!.type])
            if (!sameType(t, a.type)) fail(`while carry ${j} has type ${formatType(t)}, initial value ${formatType(a.type)}`);
        });
        record.forEach((j, h) => {
          if (!sameType(node.outs[m + h]!.type, historyType(node.args[j]!.type, trips))) fail(`while history ${h} has type ${formatType(node.outs[m + h]!.type)}`);
        });
        checkBlock(cond, local, tripDims);
        checkBlock(body, local, tripDims);
        tripDims.add(trips);
      } else if (node.op === CUSTOM) {
        if (node.blocks.length !== 2 || node.outs.length !== 1) fail("custom_vjp has a forward and a backward block and one result");
        node.blocks.forEach((b) => checkBlock(b, local, tripDims));
        if (node.blocks[1]!.results.length !== node.args.length) fail("custom_vjp's backward yields one cotangent per argument");
      } else {
        if (!ops.has(node.op)) fail(`unknown op ${node.op}`);
        if (node.blocks.length !== 0) fail(`${node.op} has blocks`);
        if (node.outs.length !== 1) fail(`${node.op} defines ${node.outs.length} values`);
        let expected;
        try {
          expected = ops.infer(
            node.op,
            node.args.map((a) => a.type),
            node.attrs,
          );
        } catch (e) {
          fail(`${node.op}: ${(e as Error).message}`);
        }
        if (!sameType(expected!, node.outs[0]!.type))
          fail(`${node.op} declared ${formatType(node.outs[0]!.type)} but its shape rule gives ${formatType(expected!)}`);
      }
      for (const o of node.outs) {
        define(o);
        local.add(o);
      }
    }
    block.results.forEach((r) => inScope(r, "result"));
  };
  checkBlock(fn.body, new Set());
}
