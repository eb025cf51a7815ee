// The entry of a compiled `jvp`: `(primals, tangents)`, two tuples whose items are validated
// and unpacked like the arguments of any compiled function.

import { type ParamSpec, tangentParams, wrtIndices } from "../frontend/signature.js";
import type { FunctionEmitter } from "./js.js";

/**
 * `jvp(f)(primals, tangents)`: checks the two tuples, names their items, then validates and
 * unpacks them like the arguments of any compiled function.
 */
export function emitJvpEntry(
  e: FunctionEmitter,
  tuples: readonly string[],
  emitArgs: (names: readonly string[], params: readonly ParamSpec[]) => void,
): void {
  const { spec, fn } = e.unit;
  const fnName = JSON.stringify(spec.exportName);
  const primalLeaves = fn.body.params.length - wrtIndices(spec).length;
  const tangents = tangentParams(spec, primalLeaves);
  const counts = [spec.params.length, tangents.length];
  const what = [`an array of ${counts[0]} arguments`, `an array of ${counts[1]} tangents (one per differentiated argument)`];
  tuples.forEach((t, i) =>
    e.line(`if (!Array.isArray(${t}) || ${t}.length !== ${counts[i]}) $gradc_badArg(${fnName}, ${JSON.stringify(t)}, ${JSON.stringify(what[i])}, ${t});`),
  );
  const all = [...spec.params, ...tangents];
  const names = all.map((p, k) => {
    const name = e.names.fresh(k < spec.params.length ? p.name : `t_${spec.params[spec.argnums[k - spec.params.length]!]!.name}`);
    e.line(`const ${name} = ${tuples[k < spec.params.length ? 0 : 1]}[${k < spec.params.length ? k : k - spec.params.length}];`);
    return name;
  });
  emitArgs(names, all.map((p, k) => (k < spec.params.length ? { ...p, name: `primals[${k}]` } : p)));
}

