// One compilation from the command line: compile, then write the generated files (default),
// compare them with what is on disk (--check), print IR (--dump), or only report (--noEmit).

import { kernelModule, wasmKernelsOf } from "../codegen/wasm-backend.js";
import { printFunc } from "../ir/print.js";
import { type CompiledModule, displayPath } from "../program.js";
import { type CliIO, reportDiagnostics } from "./report.js";
import { type Compilation, type InternalError, type Output, Session, type SessionOptions, outputsOf } from "./session.js";
import { readIfExists, writeIfChanged } from "./write.js";

export type Stage = "ir" | "grad" | "opt" | "wasm";

/** The command line of one build: what to compile, and what to do with the result. */
export interface BuildFlags extends SessionOptions {
  readonly check: boolean;
  readonly noEmit: boolean;
  readonly dump?: Stage;
}

/** The IR of every compiled function at one stage, each headed by the binding it belongs to. */
export function dumpText(
  modules: readonly CompiledModule[],
  stage: Stage,
  cwd: string,
  backend: "js" | "wasm" = "wasm",
  threads: number | "auto" = "auto",
): string {
  const parts: string[] = [];
  if (stage === "wasm") {
    // Which kernels each function calls, then the kernel module as WebAssembly text.
    for (const m of modules)
      for (const f of m.functions) {
        const used = wasmKernelsOf(f.stages.opt, backend);
        parts.push(`;; ${displayPath(m.sourceFile, cwd)}: ${f.exportName}: ${used.length > 0 ? used.join(", ") : "no WebAssembly kernels (JavaScript only)"}\n`);
      }
    // With threads the embedded module imports a shared memory; the kernels are the same.
    return `${parts.join("")}\n${kernelModule(threads !== 1).text}`;
  }
  for (const m of modules)
    for (const f of m.functions) parts.push(`# ${displayPath(m.sourceFile, cwd)}: ${f.exportName}\n${printFunc(f.stages[stage])}`);
  return parts.join("\n");
}

/** Compiler crashes, on stderr, as bugs to report rather than as the user's errors. */
export function reportInternalErrors(errors: readonly InternalError[], io: CliIO): void {
  for (const { file, error } of errors) {
    const detail = error instanceof Error ? (error.stack ?? error.message) : String(error);
    io.stderr.write(`gradc: internal compiler error while compiling ${displayPath(file, io.cwd)}; please report it.\n${detail}\n`);
  }
}

/** An output the file system refused, and why. */
export interface WriteFailure {
  readonly file: string;
  readonly error: unknown;
}

/**
 * Writes every output that changed; returns the paths written. Unchanged files are not touched.
 * An output that cannot be written (permissions, a directory in the way, a full disk) is added
 * to `failures` and the others are still written; a failed one keeps its previous content.
 */
export function emitOutputs(modules: readonly CompiledModule[], failures: WriteFailure[] = []): string[] {
  const written: string[] = [];
  for (const m of modules)
    for (const o of outputsOf(m)) {
      try {
        if (writeIfChanged(o.file, o.text)) written.push(o.file);
      } catch (error) {
        failures.push({ file: o.file, error });
      }
    }
  return written;
}

const REASONS: Record<string, string> = {
  EACCES: "permission denied",
  EPERM: "permission denied",
  EROFS: "the file system is read-only",
  EISDIR: "a directory is in the way",
  ENOTEMPTY: "a directory is in the way",
  EEXIST: "a file is in the way of a folder",
  ENOTDIR: "a file is in the way of a folder",
  ENOSPC: "no space left on the device",
  EDQUOT: "disk quota exceeded",
  ENAMETOOLONG: "the path is too long",
};

/** One line per output that could not be written: the path and the system's reason, no stack. */
export function reportWriteFailures(failures: readonly WriteFailure[], io: CliIO): void {
  for (const { file, error } of failures) {
    const e = error as NodeJS.ErrnoException;
    const reason = (e.code && REASONS[e.code]) ?? (error instanceof Error ? error.message : String(error));
    io.stderr.write(`gradc: error: cannot write ${displayPath(file, io.cwd)}: ${reason}${e.code ? ` (${e.code})` : ""}\n`);
  }
}

/** A generated file that --check found missing or out of date. */
export interface StaleOutput extends Output {
  readonly reason: "missing" | "stale";
}

/** Outputs whose file is missing or differs from what the compiler generates now. */
export function staleOutputs(modules: readonly CompiledModule[]): StaleOutput[] {
  const stale: StaleOutput[] = [];
  for (const m of modules)
    for (const o of outputsOf(m)) {
      const onDisk = readIfExists(o.file);
      if (onDisk !== o.text) stale.push({ ...o, reason: onDisk === undefined ? "missing" : "stale" });
    }
  return stale;
}

function reportStale(stale: readonly StaleOutput[], io: CliIO): void {
  if (stale.length === 0) return;
  for (const s of stale) {
    const file = displayPath(s.file, io.cwd);
    const source = displayPath(s.source, io.cwd);
    io.stdout.write(
      s.reason === "missing"
        ? `${file}: missing; gradc generates it from ${source}.\n`
        : `${file}: stale; it differs from what gradc generates from ${source}.\n`,
    );
  }
  const n = stale.length;
  io.stdout.write(`\n${n} generated file${n === 1 ? " is" : "s are"} missing or stale. Run gradc to regenerate ${n === 1 ? "it" : "them"}.\n`);
}

/** Prints what one compilation found, writes or checks outputs; returns the exit code. */
export function finishCompilation(result: Compilation, flags: BuildFlags, io: CliIO, options: { summary: boolean }): number {
  reportInternalErrors(result.internalErrors, io);
  if (flags.dump) io.stdout.write(dumpText(result.modules, flags.dump, io.cwd, flags.backend, flags.threads));
  // Watch mode ends with its own status line instead of the summary.
  reportDiagnostics(result.diagnostics, io, options.summary);
  let failed = result.diagnostics.length > 0 || result.internalErrors.length > 0;
  if (flags.check) {
    const stale = staleOutputs(result.modules);
    reportStale(stale, io);
    failed ||= stale.length > 0;
  } else if (!flags.noEmit && !flags.dump) {
    const failures: WriteFailure[] = [];
    emitOutputs(result.modules, failures);
    reportWriteFailures(failures, io);
    failed ||= failures.length > 0;
  }
  return failed ? 1 : 0;
}

/** `gradc [file ...] [options]` without --watch. */
export function runBuild(flags: BuildFlags, io: CliIO): number {
  const session = new Session(flags);
  return finishCompilation(session.compile(), flags, io, { summary: true });
}
