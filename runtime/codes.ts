// The compiler's codes on the runtime's own errors (a shape that does not fit, an index out of
// range): a GradcError with a `code` property. Kept apart from refusal.ts so that the ops carry
// the codes without carrying the message table into every bundle that uses them.

import type { DiagnosticCode } from "../compiler/diagnostics/messages.js";
import type { ShapeError } from "../compiler/ops/index.js";
import { GradcError } from "./error.js";

/** A GradcError that carries the compiler's code for the same mistake. */
export interface GradcRefusal extends GradcError {
  readonly code: DiagnosticCode;
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
  return coded(shapeCode(e), new GradcError(`${prefix}: ${e.message}`));
}
