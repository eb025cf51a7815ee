// What the uncompiled fallback says when a model leaves the language the compiler accepts: a
// GradcError with the compiler's GRADC code and message text (one message table for both), the
// place in the function's source instead of a file position. Both paths refuse the same models
// with the same code; test/both-paths/both-paths.test.ts holds them to it.

import { type DiagnosticCode, formatMessage } from "../compiler/diagnostics/messages.js";
import { type GradcRefusal, coded } from "./codes.js";
import { GradcError } from "./error.js";

export { type GradcRefusal, coded, refusalCode, shapeCode, shapeRefusal } from "./codes.js";

/**
 * The error for a model the compiler would refuse with `code`: its message, `GRADCnnnn: text`,
 * then `where` (the function and line) and any `hint` specific to the fallback.
 */
export function refusal(code: DiagnosticCode, args: readonly (string | number)[], where?: string, hint?: string): GradcRefusal {
  const text = `${code}: ${formatMessage(code, args)}${where ? ` (${where})` : ""}${hint ? ` ${hint}` : ""}`;
  return coded(code, new GradcError(text));
}
