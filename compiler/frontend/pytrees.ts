// Structured values (pytrees) in lowering: parameters laid out as objects and arrays of IR
// parameters, and the flatten/rebuild pair that carries a structured value through a region
// (an `if`'s branches, a `loop`'s carries) as a flat list of IR values.

import type { IRBuilder } from "../ir/builder.js";
import type { Value } from "../ir/types.js";
import type { Layout } from "./layout.js";
import type { Tree } from "../ir/signature.js";
import type { LV } from "./types.js";

/** Binds a parameter's layout to fresh IR parameters (appended to `leaves`), and its tree for codegen. */
export function bindLayout(b: IRBuilder, layout: Layout, path: string, leaves: Value[]): [LV, Tree] {
  if (layout.kind === "leaf") {
    const v = b.param(layout.type, path);
    leaves.push(v);
    return [{ k: "val", v }, { kind: "leaf", index: leaves.length - 1, type: layout.type }];
  }
  if (layout.kind === "array") {
    const pairs = layout.items.map((l, i) => bindLayout(b, l, `${path}_${i}`, leaves));
    return [{ k: "arr", items: pairs.map((p) => p[0]) }, { kind: "array", items: pairs.map((p) => p[1]) }];
  }
  const pairs = layout.fields.map((f) => [f.key, bindLayout(b, f.layout, `${path}_${f.key}`, leaves)] as const);
  return [
    { k: "obj", fields: new Map(pairs.map(([k, p]) => [k, p[0]])) },
    { kind: "object", fields: pairs.map(([key, p]) => ({ key, tree: p[1] })) },
  ];
}

/** The IR values inside a structured value, in a fixed order (`value` materializes a leaf). */
export function leaves(lv: LV, value: (leaf: LV) => Value): Value[] {
  switch (lv.k) {
    case "obj":
      return [...lv.fields.values()].flatMap((f) => leaves(f, value));
    case "arr":
      return lv.items.flatMap((f) => leaves(f, value));
    case "undefined":
    case "fn":
    case "op":
    case "math":
      return [];
    default:
      return [value(lv)];
  }
}

/** The structured value shaped like `shape` whose leaves are taken, in order, from `next`. */
export function rebuild(shape: LV, next: () => Value): LV {
  switch (shape.k) {
    case "obj":
      return { k: "obj", fields: new Map([...shape.fields].map(([key, f]) => [key, rebuild(f, next)])) };
    case "arr":
      return { k: "arr", items: shape.items.map((f) => rebuild(f, next)) };
    case "undefined":
    case "fn":
    case "op":
    case "math":
      return shape;
    default:
      return { k: "val", v: next() };
  }
}

/** Equal for values of one structure (numbers, booleans and IR values are all leaves). */
export function structureKey(lv: LV): string {
  switch (lv.k) {
    case "obj":
      return `{${[...lv.fields].map(([k, f]) => `${k}:${structureKey(f)}`).join(",")}}`;
    case "arr":
      return `[${lv.items.map(structureKey).join(",")}]`;
    case "val":
    case "num":
    case "bool":
      return "v";
    default:
      return lv.k;
  }
}
