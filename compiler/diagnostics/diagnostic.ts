// A diagnostic and its printed forms: tsc's `path(line,col): error GRADCnnnn: message`, with a
// code frame (the source line, underlined) for terminals.

import { type DiagnosticCode, formatMessage } from "./messages.js";

/** A problem in the user's program, at a place in a file: what every compiler refusal becomes. */
export interface Diagnostic {
  /** The stable code, `GRADCnnnn`. */
  readonly code: DiagnosticCode;
  /** The message, its placeholders filled in. */
  readonly message: string;
  /** Path as given to the compiler (relative to the working directory when it can be). */
  readonly file: string;
  /** 1-based. */
  readonly line: number;
  /** 1-based. */
  readonly col: number;
  /** Length of the offending text on its line. */
  readonly length: number;
  /** The whole source line, for code frames and esbuild's `lineText`. */
  readonly lineText: string;
}

export function makeDiagnostic(
  code: DiagnosticCode,
  args: readonly (string | number)[],
  at: { file: string; line: number; col: number; length: number; lineText: string },
): Diagnostic {
  return { code, message: formatMessage(code, args), ...at };
}

/** tsc's one-line form, `path(line,col): error GRADCnnnn: message`, which editors' problem matchers read. */
export function formatDiagnostic(d: Diagnostic): string {
  return `${d.file}(${d.line},${d.col}): error ${d.code}: ${d.message}`;
}

/** tsc's pretty form: the headline, then the line with a gutter and a `~~~` underline. */
export function formatWithFrame(d: Diagnostic): string {
  const gutter = String(d.line);
  const text = d.lineText.replace(/\t/g, " ");
  const width = Math.max(1, Math.min(d.length, text.length - (d.col - 1)));
  return [
    formatDiagnostic(d),
    "",
    `${gutter} ${text}`,
    `${" ".repeat(gutter.length)} ${" ".repeat(d.col - 1)}${"~".repeat(width)}`,
    "",
  ].join("\n");
}
