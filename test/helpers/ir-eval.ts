// A reference interpreter for IR: runs a function on concrete values, node by node, with each
// op's registry evaluation. `if` runs only the branch taken. Tests use it to check that a pass
// keeps a function's meaning and that differentiated IR computes true gradients.

import type { Block, Func, Value } from "../../compiler/ir/types.js";
import { getOp } from "../../compiler/ops/index.js";
import type { Val } from "../../compiler/ops/values.js";

/** The function's results at `args` (one value per parameter); `dims` sizes symbolic dimensions. */
export function evalFunc(fn: Func, args: readonly Val[], dims: Readonly<Record<string, number>> = {}): Val[] {
  if (args.length !== fn.body.params.length) throw new Error(`${fn.name} takes ${fn.body.params.length} arguments, got ${args.length}`);
  const env = new Map<Value, Val>();
  fn.body.params.forEach((p, i) => env.set(p, args[i]!));
  return run(fn.body, env, dims);
}

function run(block: Block, env: Map<Value, Val>, dims: Readonly<Record<string, number>>): Val[] {
  const get = (v: Value): Val => {
    const x = env.get(v);
    if (x === undefined) throw new Error(`value ${v.id} (${v.name ?? "unnamed"}) read before it is defined`);
    return x;
  };
  for (const node of block.nodes) {
    if (node.op === "if") {
      const taken = node.blocks[get(node.args[0]!) ? 0 : 1]!;
      run(taken, env, dims).forEach((r, i) => env.set(node.outs[i]!, r));
    } else if (node.op === "dim") {
      const name = String(node.attrs["name"]);
      if (!(name in dims)) throw new Error(`no size given for dimension ${name}`);
      env.set(node.outs[0]!, dims[name]!);
    } else if (node.blocks.length > 0) {
      throw new Error(`ir-eval: region op '${node.op}' is not supported yet`);
    } else {
      env.set(node.outs[0]!, getOp(node.op).evaluate(node.args.map(get), node.attrs));
    }
  }
  return block.results.map(get);
}
