// The JavaScript operators a differentiable function may use, and the IR op each lowers to:
// one table for `x + y`, `x += y` and `x++`, one for comparisons, one for `-x`, all derived from
// the registry entries' `operators` and `prefix` (ops/exposure.ts). Operands that are both
// compile-time numbers fold with `fold`, the op's own scalar function, instead of building a node.
// Operators are looked up by their text (`ts.tokenToString`), so a compound assignment `op=`
// is the operator `op`.

import { type ElementwiseOp, type OpDef, arithmeticOperators, arithmeticOperatorsText, comparisonOperators, prefixOperators } from "../ops/index.js";

/** The scalar function of an op exposed as an operator (always elementwise). */
function scalarOf(def: OpDef): (...xs: number[]) => number {
  if (def.kind !== "elementwise") throw new Error(`operator op ${def.name} is not elementwise`);
  return (def as ElementwiseOp).scalar;
}

export interface BinaryOperator<R> {
  /** The IR op built for operands that are not both compile-time numbers. */
  readonly op: string;
  readonly fold: (a: number, b: number) => R;
}

/** Arithmetic operators; `x op= y` and `x++`/`x--` lower as `x = x op y` (`x + 1`). */
export const ARITHMETIC: Readonly<Record<string, BinaryOperator<number>>> = Object.fromEntries(
  [...arithmeticOperators()].map(([symbol, def]) => [symbol, { op: def.name, fold: scalarOf(def) }]),
);

/** Comparisons of scalars: conditions of `if`, `?:` and loops. */
export const COMPARISONS: Readonly<Record<string, BinaryOperator<boolean>>> = Object.fromEntries(
  [...comparisonOperators()].map(([symbol, def]) => {
    const f = scalarOf(def);
    return [symbol, { op: def.name, fold: (a: number, b: number) => f(a, b) !== 0 }];
  }),
);

/** Prefix operators on numbers (`-x`) → op; `+x` and `!x` are not ops. */
export const PREFIX: Readonly<Record<string, { readonly op: string; readonly fold: (a: number) => number }>> = Object.fromEntries(
  [...prefixOperators()].map(([symbol, def]) => [symbol, { op: def.name, fold: scalarOf(def) }]),
);

/** `Use + - * / ** % and comparisons.`: the hint of GRADC1013. */
export const OPERATORS_HINT = `Use ${arithmeticOperatorsText()} and comparisons.`;

/** The entry of `table` for `symbol`, own properties only (`"constructor"` is no operator). */
export function operator<R>(table: Readonly<Record<string, BinaryOperator<R>>>, symbol: string | undefined): BinaryOperator<R> | undefined {
  return symbol !== undefined && Object.hasOwn(table, symbol) ? table[symbol] : undefined;
}
