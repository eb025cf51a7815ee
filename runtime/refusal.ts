// What the uncompiled fallback says when a model leaves the language the compiler accepts: a
// GradcError with the compiler's GRADC code and message text (one message table for both), the
// place in the function's source instead of a file position. Both paths refuse the same models
// with the same code; test/runtime/both-paths.test.ts holds them to it.

import { type DiagnosticCode, formatMessage } from "../compiler/diagnostics/messages.js";
import { ShapeError } from "../compiler/ops/index.js";
import { GradcError } from "./error.js";

/** A GradcError that carries the compiler's code for the same mistake. */
export interface GradcRefusal extends GradcError {
  readonly code: DiagnosticCode;
}

/**
 * The error for a model the compiler would refuse with `code`: its message, `GRADCnnnn: text`,
 * then `where` (the function and line) and any `hint` specific to the fallback.
 */
export function refusal(code: DiagnosticCode, args: readonly (string | number)[], where?: string, hint?: string): GradcRefusal {
  const text = `${code}: ${formatMessage(code, args)}${where ? ` (${where})` : ""}${hint ? ` ${hint}` : ""}`;
  return Object.assign(new GradcError(text), { code }) as GradcRefusal;
}

/** `error` with the compiler's code for the same problem (its message kept). */
export function coded(code: DiagnosticCode, error: GradcError): GradcRefusal {
  return Object.assign(error, { code }) as GradcRefusal;
}

/** The code of a refusal, or undefined for any other error. */
export function refusalCode(e: unknown): DiagnosticCode | undefined {
  const code = (e as { code?: unknown } | null)?.code;
  return e instanceof GradcError && typeof code === "string" && /^GRADC\d{4}$/.test(code) ? (code as DiagnosticCode) : undefined;
}

/** The compiler's code for a shape problem found by an op's shape rule. */
export function shapeCode(e: ShapeError): DiagnosticCode {
  switch (e.code) {
    case "matmul":
      return "GRADC2002";
    case "axis":
      return "GRADC2003";
    case "reshape":
      return "GRADC2004";
    case "broadcast":
      return "GRADC2001";
    case "index":
      return "GRADC2006";
    default:
      return "GRADC2005";
  }
}

/** The GradcError the runtime throws for a shape problem: its message prefixed, with the compiler's code. */
export function shapeRefusal(prefix: string, e: ShapeError): GradcRefusal {
  return Object.assign(new GradcError(`${prefix}: ${e.message}`), { code: shapeCode(e) }) as GradcRefusal;
}
