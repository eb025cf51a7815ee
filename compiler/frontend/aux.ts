// `hasAux`: the differentiated function returns `[loss, aux]`. The loss is differentiated as
// usual; the auxiliary value is any structure (objects, arrays) of numbers and tensors, returned
// beside it and never differentiated. This splits the lowered return value into the two.

import { Node } from "ts-morph";
import type { Value } from "../ir/types.js";
import { LowerError } from "./errors.js";
import type { FunctionLike, LV } from "./types.js";
import type { Tree } from "../ir/signature.js";

export interface AuxSplit {
  readonly loss: LV;
  /** The auxiliary value's structure; leaf `index` is the position in `values`. */
  readonly aux: Tree;
  readonly values: readonly Value[];
}

/** Where a function's result is written: its expression body, or its last return. */
export function returnSite(decl: FunctionLike): Node {
  const body = decl.getBody();
  if (!body) return decl;
  if (!Node.isBlock(body)) return body;
  const last = body.getStatements().at(-1);
  return last && Node.isReturnStatement(last) ? (last.getExpression() ?? last) : decl;
}

function describe(lv: LV): string {
  switch (lv.k) {
    case "val":
      if (lv.v.type.dtype === "bool") return "a boolean";
      return lv.v.type.shape.length === 0 ? "a number" : `a tensor of shape [${lv.v.type.shape.join(", ")}]`;
    case "num":
      return "a number";
    case "bool":
      return "a boolean";
    case "arr":
      return `an array of ${lv.items.length}`;
    case "obj":
      return "an object";
    case "str":
      return "a string";
    case "undefined":
      return "undefined";
    default:
      return "a function";
  }
}

/**
 * The leaves of a structured value (objects and arrays of numbers and tensors), in order, and
 * its structure with leaf `index` the position in `values`. `bad(path, lv)` reports a leaf
 * that is neither.
 */
export function flattenTree(root: LV, rootPath: string, asValue: (lv: LV) => Value, bad: (path: string, what: string) => LowerError): { tree: Tree; values: Value[] } {
  const values: Value[] = [];
  const walk = (lv: LV, path: string): Tree => {
    if (lv.k === "obj") return { kind: "object", fields: [...lv.fields].map(([key, f]) => ({ key, tree: walk(f, `${path}${/^[A-Za-z_$][\w$]*$/.test(key) ? `.${key}` : `[${JSON.stringify(key)}]`}`) })) };
    if (lv.k === "arr") return { kind: "array", items: lv.items.map((f, i) => walk(f, `${path}[${i}]`)) };
    const leaf = lv.k === "num" || (lv.k === "val" && lv.v.type.dtype !== "bool");
    if (!leaf) throw bad(path, describe(lv));
    const v = asValue(lv);
    values.push(v);
    return { kind: "leaf", index: values.length - 1, type: v.type };
  };
  return { tree: walk(root, rootPath), values };
}

export function splitAux(result: LV, decl: FunctionLike, name: string, asValue: (lv: LV) => Value): AuxSplit {
  const at = returnSite(decl);
  if (result.k !== "arr" || result.items.length !== 2) throw new LowerError("GRADC1041", at, [name, describe(result)]);
  const [loss, auxLV] = result.items as [LV, LV];
  const { tree: aux, values } = flattenTree(auxLV, "aux", asValue, (path, what) => new LowerError("GRADC1042", at, [name, path, what]));
  return { loss, aux, values };
}

/**
 * `jvp` of a function with a structured result (objects and arrays of numbers and tensors, as
 * on the tape): its leaves become the function's results, in order.
 */
export function splitResultTree(result: LV, decl: FunctionLike, asValue: (lv: LV) => Value): { tree: Tree; values: Value[] } | undefined {
  if (result.k !== "obj" && result.k !== "arr") return undefined;
  const at = returnSite(decl);
  return flattenTree(result, "result", asValue, (path, what) => new LowerError("GRADC1005", at, [`${what} at ${path}`]));
}
