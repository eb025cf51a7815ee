// `hasAux` on the tape: the function returns `[loss, aux]`. The loss is differentiated; the
// auxiliary value (numbers and tensors in plain objects and arrays) comes back as plain values,
// tensors copied so that no result aliases an argument or a traced intermediate, as in
// compiled code.

import type { Val } from "../compiler/ops/values.js";
import { formatPath, isContainer, type Path } from "./pytree.js";
import { refusal } from "./refusal.js";
import { Var } from "./tape.js";
import { isTensor } from "./tensor.js";

function describe(x: unknown): string {
  if (x instanceof Var) return describe(x.value);
  if (Array.isArray(x)) return `an array of ${x.length}`;
  if (isTensor(x)) return `a tensor of shape [${x.shape.join(", ")}]`;
  if (x === null) return "null";
  return typeof x === "object" ? "an object" : typeof x === "number" ? "a number" : `a ${typeof x}`;
}

/** Splits what `f` returned into the loss and its plain auxiliary value. */
export function splitAux(out: unknown, fname: string): [unknown, unknown] {
  if (!Array.isArray(out) || out.length !== 2)
    throw refusal("GRADC1041", [fname, describe(out)]);
  return [out[0], plainAux(out[1], fname, ["aux"])];
}

function plainAux(x: unknown, fname: string, path: Path): unknown {
  const v: unknown = x instanceof Var ? (x.value as Val) : x;
  if (typeof v === "number") return v;
  if (isTensor(v) && !(v.data instanceof Uint8Array)) return { shape: [...v.shape], data: v.data.slice() };
  if (Array.isArray(v)) return v.map((item, i) => plainAux(item, fname, [...path, i]));
  if (isContainer(v) && !isTensor(v)) {
    const out: Record<string, unknown> = {};
    for (const k of Object.keys(v)) Object.defineProperty(out, k, { value: plainAux(v[k], fname, [...path, k]), enumerable: true, writable: true, configurable: true });
    return out;
  }
  const where = formatPath(path).replace(/^\.?/, "");
  throw refusal("GRADC1042", [fname, where, describe(v)]);
}
