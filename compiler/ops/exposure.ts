// The names users reach ops by, derived from the registry entries: what "gradc" exports, what
// `Math.*` and the JavaScript operators lower to, and the lists diagnostics print. The compiler's
// frontend, the uncompiled fallback's interpreter and the runtime's export test all read these
// tables, so an op added to the registry (with `gradc`, `math` or `operators`) is reachable
// everywhere at once.
//
// Tables are built on first use: every op file must have registered its entries by then, which
// holds for anyone importing ops/index.ts.

import { composites } from "./composite.js";
import { type OpDef, allOps } from "./registry.js";

function memo<T>(build: () => T): () => T {
  let value: T | undefined;
  return () => (value ??= build());
}

function byName(pick: (def: OpDef) => readonly string[] | string | undefined, what: string): () => ReadonlyMap<string, OpDef> {
  return memo(() => {
    const out = new Map<string, OpDef>();
    for (const def of allOps()) {
      const names = pick(def);
      for (const n of typeof names === "string" ? [names] : (names ?? [])) {
        if (out.has(n)) throw new Error(`${what} ${n} names both ${out.get(n)!.name} and ${def.name}`);
        out.set(n, def);
      }
    }
    return out;
  });
}

/** gradc export name → the primitive it applies (`at` → take, `stopGradient` → stop_gradient). */
export const gradcOps: () => ReadonlyMap<string, OpDef> = byName((d) => d.gradc, "gradc name");

/** Functions of "gradc" written from primitives (composite.ts), by their export name. */
export const GRADC_COMPOSITES: readonly string[] = [...Object.keys(composites), "crossEntropy"];

/** Every op "gradc" exports, primitives and composites, sorted: runtime/index.ts exports each. */
export const gradcOpNames = memo((): readonly string[] => [...gradcOps().keys(), ...GRADC_COMPOSITES].sort());

/** `Math.<name>` → the op it lowers to on numbers. `def.variadic`: folded left over any count. */
export const mathOps: () => ReadonlyMap<string, OpDef> = byName((d) => d.math, "Math function");

/** Binary JavaScript operator (`+`, `%`, `===`) → op, on numbers. */
export const binaryOperators: () => ReadonlyMap<string, OpDef> = byName((d) => d.operators, "operator");

/** A comparison: its result is a boolean (`<`, `===`), where arithmetic's is a number. */
export const isComparison = (def: OpDef): boolean => def.infer([NUMBER, NUMBER], {}).dtype === "bool";
const NUMBER = { dtype: "f64", shape: [] } as const;

/** The binary operators of arithmetic (`+ - * / ** %`) → op. */
export const arithmeticOperators = memo((): ReadonlyMap<string, OpDef> => new Map([...binaryOperators()].filter(([, d]) => !isComparison(d))));

/** The comparison operators (`<`, `===`, `==`, …) → op. */
export const comparisonOperators = memo((): ReadonlyMap<string, OpDef> => new Map([...binaryOperators()].filter(([, d]) => isComparison(d))));

/** Prefix JavaScript operator (`-`) → op, on numbers. */
export const prefixOperators: () => ReadonlyMap<string, OpDef> = byName((d) => d.prefix, "prefix operator");

/** The Math constants a model may read, folded to numbers at compile time: all of them. */
export const MATH_CONSTANTS: Readonly<Record<string, number>> = Object.freeze({
  PI: Math.PI,
  E: Math.E,
  LN2: Math.LN2,
  LN10: Math.LN10,
  LOG2E: Math.LOG2E,
  LOG10E: Math.LOG10E,
  SQRT2: Math.SQRT2,
  SQRT1_2: Math.SQRT1_2,
});

/** "Math.exp, log, …, PI, E, …": what GRADC1015 and the fallback's message list. */
export const supportedMathText = memo((): string => {
  const names = [...[...mathOps().keys()].sort(), ...Object.keys(MATH_CONSTANTS)];
  return `Math.${names.join(", ")}`;
});

/** "+ - * / ** %": the arithmetic operators on numbers, for messages. */
export const arithmeticOperatorsText = memo((): string => [...arithmeticOperators().keys()].join(" "));
