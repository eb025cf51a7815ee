// Printing diagnostics the way tsc does: `path(line,col): error GRADCnnnn: message`, with the
// source line underlined when the output is a terminal, and tsc's closing summary
// ("Found 1 error in model.ts:3", "Found 3 errors in 2 files." plus a table of files).

import { type Diagnostic, formatDiagnostic, formatWithFrame } from "../diagnostics/diagnostic.js";

/** Where the CLI writes, and how: the process's streams in the bin, buffers in tests. */
export interface CliIO {
  readonly stdout: { write(text: string): unknown };
  readonly stderr: { write(text: string): unknown };
  readonly cwd: string;
  /** stdout is a terminal: code frames (and colour unless NO_COLOR is set). */
  readonly pretty: boolean;
  readonly color: boolean;
}

const paint = (on: boolean, code: string, s: string): string => (on ? `\u001b[${code}m${s}\u001b[0m` : s);

/** tsc's pretty form with the headline kept in the `path(line,col)` form editors match. */
function framed(d: Diagnostic, color: boolean): string {
  if (!color) return formatWithFrame(d);
  const gutter = String(d.line);
  const text = d.lineText.replace(/\t/g, " ");
  const width = Math.max(1, Math.min(d.length, text.length - (d.col - 1)));
  return [
    `${paint(true, "96", d.file)}(${paint(true, "93", `${d.line},${d.col}`)}): ${paint(true, "91", "error")} ${paint(true, "90", `${d.code}:`)} ${d.message}`,
    "",
    `${paint(true, "7", gutter)} ${text}`,
    `${paint(true, "7", " ".repeat(gutter.length))} ${" ".repeat(d.col - 1)}${paint(true, "91", "~".repeat(width))}`,
    "",
  ].join("\n");
}

/** The diagnostics as printed, one per line (or one frame each when pretty). */
export function formatDiagnostics(diagnostics: readonly Diagnostic[], io: Pick<CliIO, "pretty" | "color">): string {
  return diagnostics.map((d) => (io.pretty ? framed(d, io.color) + "\n" : formatDiagnostic(d) + "\n")).join("");
}

/**
 * tsc's error summary. One error: "Found 1 error in a.ts:3"; several in one file: "Found 2
 * errors in the same file, starting at: a.ts:3"; several files: "Found 3 errors in 2 files."
 * followed by a table of the files with their counts and first error line.
 */
export function errorSummary(diagnostics: readonly Diagnostic[]): string {
  const n = diagnostics.length;
  if (n === 0) return "";
  const files: { file: string; line: number; count: number }[] = [];
  for (const d of diagnostics) {
    const entry = files.find((f) => f.file === d.file);
    if (entry) entry.count++;
    else files.push({ file: d.file, line: d.line, count: 1 });
  }
  const first = `${files[0]!.file}:${files[0]!.line}`;
  const headline =
    n === 1
      ? `Found 1 error in ${first}`
      : files.length === 1
        ? `Found ${n} errors in the same file, starting at: ${first}`
        : `Found ${n} errors in ${files.length} files.`;
  let table = "";
  if (files.length > 1) {
    const width = Math.max("Errors".length, String(Math.max(...files.map((f) => f.count))).length);
    table = `${" ".repeat(width - "Errors".length)}Errors  Files\n`;
    for (const f of files) table += `${String(f.count).padStart(width)}  ${f.file}:${f.line}\n`;
  }
  return `\n${headline}\n\n${table}`;
}

/** Writes the diagnostics and, when there are any and `summary` is set, tsc's summary. */
export function reportDiagnostics(diagnostics: readonly Diagnostic[], io: CliIO, summary = true): void {
  if (diagnostics.length === 0) return;
  io.stdout.write(formatDiagnostics(diagnostics, io));
  if (summary) io.stdout.write(errorSummary(diagnostics));
}

/** tsc's watch-mode status line: `[10:31:05 AM] message`. */
export function watchStatus(message: string, io: CliIO, now = new Date()): void {
  const time = now.toLocaleTimeString("en-US");
  io.stdout.write(`[${paint(io.color, "90", time)}] ${message}\n`);
}
