// The JavaScript operators a differentiable function may use, and the IR op each lowers to:
// one table for `x + y`, `x += y` and `x++`, one for comparisons. Operands that are both
// compile-time numbers fold with `fold` (JavaScript's own operator) instead of building a node.
// Operators are looked up by their text (`ts.tokenToString`), so a compound assignment `op=`
// is the operator `op`.

export interface BinaryOperator<R> {
  /** The IR op built for operands that are not both compile-time numbers. */
  readonly op: string;
  readonly fold: (a: number, b: number) => R;
}

/** Arithmetic operators; `x op= y` and `x++`/`x--` lower as `x = x op y` (`x + 1`). */
export const ARITHMETIC: Readonly<Record<string, BinaryOperator<number>>> = {
  "+": { op: "add", fold: (a, b) => a + b },
  "-": { op: "sub", fold: (a, b) => a - b },
  "*": { op: "mul", fold: (a, b) => a * b },
  "/": { op: "div", fold: (a, b) => a / b },
  "**": { op: "pow", fold: (a, b) => a ** b },
};

/** Comparisons of scalars: conditions of `if`, `?:` and loops. */
export const COMPARISONS: Readonly<Record<string, BinaryOperator<boolean>>> = {
  "<": { op: "lt", fold: (a, b) => a < b },
  "<=": { op: "le", fold: (a, b) => a <= b },
  ">": { op: "gt", fold: (a, b) => a > b },
  ">=": { op: "ge", fold: (a, b) => a >= b },
  "===": { op: "eq", fold: (a, b) => a === b },
  "==": { op: "eq", fold: (a, b) => a === b },
  "!==": { op: "ne", fold: (a, b) => a !== b },
  "!=": { op: "ne", fold: (a, b) => a !== b },
};

/** The entry of `table` for `symbol`, own properties only (`"constructor"` is no operator). */
export function operator<R>(table: Readonly<Record<string, BinaryOperator<R>>>, symbol: string | undefined): BinaryOperator<R> | undefined {
  return symbol !== undefined && Object.hasOwn(table, symbol) ? table[symbol] : undefined;
}
