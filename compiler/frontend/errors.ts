// Lowering stops at the first construct it cannot handle by throwing a LowerError; the
// frontend turns it into a diagnostic at that node.

import type { Node } from "ts-morph";
import type { DiagnosticCode } from "../diagnostics/messages.js";

export class LowerError extends Error {
  constructor(
    readonly code: DiagnosticCode,
    readonly node: Node,
    readonly args: readonly (string | number)[],
  ) {
    super(`${code} at ${node.getKindName()}`);
  }
}
