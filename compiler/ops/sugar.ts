// Short names for building with any Builder, so rules read like the math they implement.

import type { Attrs, Dim } from "../ir/types.js";
import type { Builder } from "./registry.js";

// Built once per builder: rules call sugar() on every VJP, and the tape runs them per op.
const cache = new WeakMap<object, unknown>();

export function sugar<V>(b: Builder<V>): Sugar<V> {
  let s = cache.get(b) as Sugar<V> | undefined;
  if (!s) cache.set(b, (s = makeSugar(b)));
  return s;
}

type Sugar<V> = ReturnType<typeof makeSugar<V>>;

function makeSugar<V>(b: Builder<V>) {
  const op = (name: string, args: V[], attrs?: Attrs): V => b.op(name, args, attrs);
  return {
    add: (x: V, y: V) => op("add", [x, y]),
    sub: (x: V, y: V) => op("sub", [x, y]),
    mul: (x: V, y: V) => op("mul", [x, y]),
    div: (x: V, y: V) => op("div", [x, y]),
    neg: (x: V) => op("neg", [x]),
    exp: (x: V) => op("exp", [x]),
    log: (x: V) => op("log", [x]),
    cos: (x: V) => op("cos", [x]),
    sin: (x: V) => op("sin", [x]),
    sign: (x: V) => op("sign", [x]),
    pow: (x: V, y: V) => op("pow", [x, y]),
    select: (c: V, x: V, y: V) => op("select", [c, x, y]),
    gt: (x: V, y: V) => op("gt", [x, y]),
    ge: (x: V, y: V) => op("ge", [x, y]),
    le: (x: V, y: V) => op("le", [x, y]),
    eq: (x: V, y: V) => op("eq", [x, y]),
    c: (value: number, like: V) => b.constant(value, like),
    sum: (x: V, axes: readonly number[], keepdims: boolean) => op("sum", [x], { axes, keepdims }),
    reduceMax: (x: V, axes: readonly number[], keepdims: boolean) => op("max", [x], { axes, keepdims }),
    reshape: (x: V, shape: readonly Dim[]) => op("reshape", [x], { shape }),
    broadcastTo: (x: V, shape: readonly Dim[]) => op("broadcast_to", [x], { shape }),
    stopGradient: (x: V) => op("stop_gradient", [x]),
    matmul: (x: V, y: V, ta = false, tb = false) => op("matmul", [x, y], { ta, tb }),
    shape: (x: V) => b.typeOf(x).shape,
  };
}
