// Messages for property and element reads lowering cannot do: a property that exists but gradc
// does not support (`xs.forEach`, `x.data`) is told apart from one that does not exist, and each
// says what to write instead.

import { Node } from "ts-morph";
import { LowerError } from "./errors.js";
import type { LV } from "./types.js";

const ITERATING = new Set(["forEach", "map", "reduce", "reduceRight", "filter", "some", "every", "find", "findIndex", "flatMap", "entries", "keys", "values"]);

/** True when TypeScript's type of the object read at `at` has the property `key`. */
function typeHas(at: Node, key: string): boolean {
  if (!Node.isPropertyAccessExpression(at) && !Node.isElementAccessExpression(at)) return false;
  try {
    return at.getExpression().getType().getProperty(key) !== undefined;
  } catch {
    return false;
  }
}

function suggestionFor(obj: LV, key: string, owner: string): string {
  if (obj.k === "arr") {
    if (ITERATING.has(key)) return `Loop over it instead: for (const item of ${owner}) { ... }.`;
    return `Arrays are read-only here: read items with ${owner}[0] and ${owner}.length, and build new arrays as literals.`;
  }
  if (obj.k === "val" && obj.v.type.shape.length > 0) {
    if (key === "data") return `Read elements with at(${owner}, i) and compute with gradc ops (sum, mul, ...); the data array itself is not differentiable.`;
    return "A tensor offers shape here; compute with gradc ops (add, mul, sum, ...).";
  }
  if (obj.k === "val" || obj.k === "num") return "Numbers offer no methods here; use arithmetic and Math functions.";
  if (obj.k === "obj") {
    const keys = [...obj.fields.keys()];
    return keys.length > 0 ? `Its fields are: ${keys.join(", ")}.` : "It has no fields.";
  }
  return "";
}

/** The error for reading `owner.key` from `obj`, which lowering does not provide. */
export function memberError(obj: LV, key: string, owner: string, at: Node): LowerError {
  const suggestion = suggestionFor(obj, key, owner);
  const exists = obj.k === "obj" ? false : typeHas(at, key);
  if (exists) return new LowerError("GRADC1029", at, [key, owner, suggestion]);
  return new LowerError("GRADC1020", at, [key, owner, suggestion]);
}

/** The error for `owner[i]` with a compile-time index `i` that lowering cannot read. */
export function indexError(obj: LV, i: number, owner: string, at: Node): LowerError {
  if (obj.k === "arr") return new LowerError("GRADC2006", at, [`${owner}[${i}]: index ${i} is out of range [0, ${obj.items.length})`]);
  if (obj.k === "val" && obj.v.type.shape.length > 0)
    return new LowerError("GRADC1001", at, [`Indexing a tensor with []`, `Use at(${owner}, ${i}) for the slice ${i} along the first axis.`]);
  return new LowerError("GRADC1001", at, [`Indexing '${owner}'`, "Only arrays and tuples can be indexed with []; tensors with at(x, i)."]);
}
