// Concrete inputs for `gradc graph`: the JSON a user writes (the function's arguments, as an
// array or as an object keyed by parameter name) flattened onto the IR's leaf parameters.

import { type ParamSpec, leavesOf } from "../ir/signature.js";
import type { DType } from "../ir/types.js";
import type { Val } from "../ops/values.js";
import { GraphError } from "./evaluate.js";

/** How a leaf is written in source: `w[0]`, `params.layer1.b`. */
export function leafLabel(param: string, path: readonly (string | number)[]): string {
  return (
    param +
    path.map((p) => (typeof p === "number" ? `[${p}]` : /^[A-Za-z_$][\w$]*$/.test(p) ? `.${p}` : `[${JSON.stringify(p)}]`)).join("")
  );
}

/** Arguments flattened onto a function's IR parameters. */
export interface LeafInputs {
  /** One value per IR parameter, in IR order. */
  readonly values: Val[];
  /** One label per IR parameter, as the source would spell the leaf. */
  readonly labels: string[];
}

/** Reads a tensor written as a nested array, or as `{ shape, data }`. */
function toTensor(x: unknown, dtype: DType, label: string): Val {
  const make = (flat: number[], shape: number[]): Val => ({
    shape,
    data: dtype === "f32" ? Float32Array.from(flat) : Float64Array.from(flat),
  });
  if (typeof x === "object" && x !== null && !Array.isArray(x) && "shape" in x && "data" in x) {
    const { shape, data } = x as { shape: unknown; data: unknown };
    if (!Array.isArray(shape) || !shape.every((d) => Number.isInteger(d) && d >= 0))
      throw new GraphError(`${label}: 'shape' must be an array of sizes`);
    if (!Array.isArray(data) || !data.every((v) => typeof v === "number"))
      throw new GraphError(`${label}: 'data' must be an array of numbers`);
    const size = (shape as number[]).reduce((a, b) => a * b, 1);
    if (data.length !== size) throw new GraphError(`${label}: shape [${shape.join(", ")}] needs ${size} numbers, got ${data.length}`);
    return make(data as number[], shape as number[]);
  }
  if (!Array.isArray(x)) throw new GraphError(`${label} must be a tensor (a nested array of numbers), got ${JSON.stringify(x)}`);
  const shape: number[] = [];
  for (let level: unknown = x; Array.isArray(level); level = level[0]) shape.push(level.length);
  const flat: number[] = [];
  const walk = (v: unknown, depth: number): void => {
    if (depth === shape.length) {
      if (typeof v !== "number") throw new GraphError(`${label}: expected a number, got ${JSON.stringify(v)}`);
      flat.push(v);
      return;
    }
    if (!Array.isArray(v) || v.length !== shape[depth]) throw new GraphError(`${label} is a ragged array; every row must have the same length`);
    v.forEach((e) => walk(e, depth + 1));
  };
  walk(x, 0);
  return make(flat, shape);
}

/**
 * Flattens `input` (an array of arguments, or an object keyed by parameter name) onto the leaf
 * parameters of a function with parameters `params`.
 */
export function leafInputs(params: readonly ParamSpec[], input: unknown): LeafInputs {
  let args: unknown[];
  if (Array.isArray(input)) {
    if (input.length !== params.length)
      throw new GraphError(`expected ${params.length} argument(s) (${params.map((p) => p.name).join(", ")}), got ${input.length}`);
    args = input;
  } else if (typeof input === "object" && input !== null) {
    const obj = input as Record<string, unknown>;
    const unknownKeys = Object.keys(obj).filter((k) => !params.some((p) => p.name === k));
    if (unknownKeys.length > 0)
      throw new GraphError(`no parameter named ${unknownKeys.map((k) => `'${k}'`).join(", ")}; the parameters are ${params.map((p) => p.name).join(", ")}`);
    args = params.map((p) => {
      if (!(p.name in obj)) throw new GraphError(`missing a value for parameter '${p.name}'`);
      return obj[p.name];
    });
  } else {
    throw new GraphError("the inputs must be a JSON array of arguments or an object keyed by parameter name");
  }
  const values: Val[] = [];
  const labels: string[] = [];
  params.forEach((p, k) => {
    for (const leaf of leavesOf(p.tree)) {
      const label = leafLabel(p.name, leaf.path);
      let v: unknown = args[k];
      for (const key of leaf.path) {
        if (typeof v !== "object" || v === null || !(key in v)) throw new GraphError(`missing a value for ${label}`);
        v = (v as Record<string | number, unknown>)[key];
      }
      if (leaf.type.shape.length === 0) {
        if (typeof v !== "number") throw new GraphError(`${label} must be a number, got ${JSON.stringify(v)}`);
        values[leaf.index] = leaf.type.dtype === "f32" ? Math.fround(v) : v;
      } else values[leaf.index] = toTensor(v, leaf.type.dtype, label);
      labels[leaf.index] = label;
    }
  });
  return { values, labels };
}
