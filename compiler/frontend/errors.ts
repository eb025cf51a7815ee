// Lowering reports a construct it cannot handle by throwing a LowerError; the frontend turns it
// into a diagnostic at that node. A function with several errors is reported whole: lowering
// records each error, continues with the next statement, and throws them together at the end
// (a LowerError that carries the others in `all`).

import type { Node } from "ts-morph";
import type { DiagnosticCode } from "../diagnostics/messages.js";

export class LowerError extends Error {
  /** Every error found, this one first; more than one when lowering recovered and went on. */
  all: readonly LowerError[] = [this];

  constructor(
    readonly code: DiagnosticCode,
    readonly node: Node,
    readonly args: readonly (string | number)[],
  ) {
    super(`${code} at ${node.getKindName()}`);
  }

  /** One error standing for several (the first keeps its code and place). */
  static of(errors: readonly LowerError[]): LowerError {
    const first = errors[0]!;
    const e = new LowerError(first.code, first.node, first.args);
    e.all = errors.flatMap((x) => x.all);
    return e;
  }
}

/**
 * Thrown where a value derived from an earlier error is used: that error was already reported,
 * and this one would only repeat it (as tsc's error type silences follow-on errors).
 */
export class Poisoned extends Error {
  constructor() {
    super("a value derived from an earlier error");
  }
}

/** Most errors reported for one function; past it the rest are not looked for. */
export const MAX_ERRORS = 20;
