// The `gradc` command line, in the manner of `tsc` (the README's "The gradc CLI" tells it):
//
//   gradc [file ...] [-p tsconfig.json] [--outDir dir] [--emit ts|js] [--module esm|cjs]
//         [--sourceMap] [--watch] [--check] [--dump ir|grad|opt|wasm] [--backend js|wasm] [--threads n]
//         [--noEmit] [--version] [--help]
//   gradc graph <file> --fn <name> --at <inputs.json> [-o graph.svg]
//
// Exit codes: 0 success, 1 diagnostics (or stale outputs with --check), 2 bad usage.

import { existsSync, readFileSync, realpathSync, statSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { Command, CommanderError, Option } from "commander";
import { type BuildFlags, type Stage, runBuild } from "./build.js";
import { UsageError, runGraph } from "./graph.js";
import type { CliIO } from "./report.js";
import { type WatchHandle, runWatch } from "./watch.js";

export { type CliIO } from "./report.js";
export { type WatchHandle } from "./watch.js";

/** The synopsis printed after a usage error. */
export const USAGE = [
  "Usage: gradc [file ...] [-p tsconfig.json] [--outDir dir] [--emit ts|js] [--module esm|cjs]",
  "             [--sourceMap] [--watch] [--check] [--dump ir|grad|opt|wasm] [--backend js|wasm] [--threads n]",
  "             [--noEmit] [--version] [--help]",
  "       gradc graph <file> --fn <name> --at <inputs.json> [-o graph.svg]",
].join("\n");

/** The version in the gradc package.json above the running script (the bin passes its own). */
function packageVersion(): string {
  const script = process.argv[1];
  if (!script) return "0.0.0";
  for (let dir = dirname(realpathSync(script)); ; dir = dirname(dir)) {
    const pkg = join(dir, "package.json");
    if (existsSync(pkg)) {
      const json = JSON.parse(readFileSync(pkg, "utf8")) as { name?: string; version?: string };
      if (json.name === "gradc") return json.version ?? "0.0.0";
    }
    if (dirname(dir) === dir) return "0.0.0";
  }
}

/** The real process: its streams, its working directory, and whether stdout is a terminal. */
export function processIO(): CliIO {
  const pretty = process.stdout.isTTY === true;
  return {
    stdout: process.stdout,
    stderr: process.stderr,
    cwd: process.cwd(),
    pretty,
    color: pretty && !process.env["NO_COLOR"],
  };
}

/** -p accepts a tsconfig.json or a folder holding one, like tsc. */
function resolveProject(path: string, cwd: string): string {
  const full = resolve(cwd, path);
  if (!existsSync(full)) throw new UsageError(`the project '${path}' does not exist`);
  const file = statSync(full).isDirectory() ? join(full, "tsconfig.json") : full;
  if (!existsSync(file)) throw new UsageError(`cannot find a tsconfig.json in '${path}'`);
  return file;
}

interface RootOptions {
  project?: string;
  outDir?: string;
  emit: "ts" | "js";
  module?: "esm" | "cjs";
  sourceMap?: boolean;
  watch?: boolean;
  check?: boolean;
  dump?: Stage;
  backend?: "js" | "wasm";
  threads?: string;
  noEmit?: boolean;
}

/** `--threads`: a positive integer, or `auto`. */
function threadsFlag(value: string): number | "auto" {
  if (value === "auto") return "auto";
  if (!/^[1-9][0-9]{0,2}$/.test(value) || Number(value) > 256) throw new UsageError(`--threads takes a whole number from 1 to 256, or auto, not '${value}'`);
  return Number(value);
}

function buildFlags(files: string[], o: RootOptions, io: CliIO): BuildFlags {
  for (const f of files) if (!existsSync(resolve(io.cwd, f))) throw new UsageError(`file '${f}' not found`);
  if (o.watch && o.check) throw new UsageError("--watch and --check cannot be combined");
  if (o.module && o.emit !== "js") throw new UsageError("--module applies to --emit js (a .grad.ts file is compiled by your TypeScript setup)");
  const project = o.project === undefined ? undefined : resolveProject(o.project, io.cwd);
  return {
    files,
    cwd: io.cwd,
    emit: o.emit,
    check: o.check === true,
    noEmit: o.noEmit === true,
    ...(project ? { project } : {}),
    ...(o.outDir ? { outDir: o.outDir } : {}),
    ...(o.dump ? { dump: o.dump } : {}),
    ...(o.module ? { module: o.module } : {}),
    ...(o.sourceMap ? { sourceMap: true } : {}),
    ...(o.backend ? { backend: o.backend } : {}),
    ...(o.threads === undefined ? {} : { threads: threadsFlag(o.threads) }),
  };
}

function hasProgram(flags: BuildFlags): boolean {
  if (flags.files.length > 0 || flags.project) return true;
  for (let dir = flags.cwd; ; dir = dirname(dir)) {
    if (existsSync(join(dir, "tsconfig.json"))) return true;
    if (dirname(dir) === dir) return false;
  }
}

/** Embedding options for `main`. */
export interface MainOptions {
  /** What --version prints; default: the version in the package.json above the running script. */
  readonly version?: string;
  /** Called once a --watch session has started, with a handle to stop it (tests). */
  readonly onWatch?: (handle: WatchHandle) => void;
}

/**
 * Runs the CLI on `argv` (without `node` and the script) and resolves with the exit code. Never
 * calls process.exit, so it can run in-process.
 */
export async function main(argv: readonly string[], io: CliIO = processIO(), options: MainOptions = {}): Promise<number> {
  let run: (() => Promise<number>) | undefined;
  const program = new Command("gradc")
    .description("Compile the grad/valueAndGrad bindings of TypeScript files into standalone forward+backward code.")
    .usage("[file ...] [options]\n       gradc graph <file> --fn <name> --at <inputs.json> [-o graph.svg]")
    .argument("[file...]", "source files to compile (default: every file of the tsconfig.json program)")
    .option("-p, --project <tsconfig>", "compile the program of this tsconfig.json, or of the one in this folder")
    .option("--outDir <dir>", "write generated files under this folder, mirroring the source tree")
    .addOption(new Option("--emit <kind>", "write name.grad.ts, or name.grad.js with name.grad.d.ts").choices(["ts", "js"]).default("ts"))
    .addOption(
      new Option("--module <format>", "with --emit js: ES module or CommonJS (default: what the nearest package.json says)").choices(["esm", "cjs"]),
    )
    .option("--sourceMap", "write name.grad.js.map (or .grad.ts.map) beside each generated file, mapping it to the model's lines")
    .option("--watch", "recompile when a file of the program changes")
    .option("--check", "write nothing; exit 1 if a generated file is missing or stale (for CI)")
    .addOption(
      new Option("--dump <stage>", "print the IR (as lowered, after AD, or after optimization) or the WebAssembly kernels (writes nothing)").choices([
        "ir",
        "grad",
        "opt",
        "wasm",
      ]),
    )
    .addOption(
      new Option("--backend <kind>", "run large matrix products as embedded WebAssembly SIMD kernels, or write JavaScript only").choices(["js", "wasm"]).default("wasm"),
    )
    .option(
      "--threads <n>",
      "threads the WebAssembly kernels may use for large matrix products (1: single-threaded, no workers; default auto: the core count, at most 4)",
    )
    .option("--noEmit", "report diagnostics only; write nothing")
    .version(options.version ?? packageVersion(), "-v, --version", "print the version")
    .helpOption("-h, --help", "print this help")
    .helpCommand(false)
    .showSuggestionAfterError(true)
    .exitOverride()
    .configureOutput({
      writeOut: (s) => io.stdout.write(s),
      writeErr: (s) => io.stderr.write(s),
      // Errors are printed below, as one line followed by the usage.
      outputError: () => {},
    })
    .action((files: string[], o: RootOptions) => {
      const flags = buildFlags(files, o, io);
      if (!hasProgram(flags)) throw new UsageError(`no input files, and no tsconfig.json in '${io.cwd}' or above`);
      run = o.watch ? () => runWatch(flags, io, options.onWatch) : async () => runBuild(flags, io);
    });

  program
    .command("graph")
    .description("Draw the computational graph of a function at given inputs: forward values and gradients on every edge.")
    .argument("<file>", "the source file")
    .requiredOption("--fn <name>", "the model function, or a grad/valueAndGrad binding of it")
    .requiredOption("--at <inputs.json>", "the arguments: a JSON array, or an object keyed by parameter name")
    .option("-o, --out <file>", "write SVG (or DOT for .dot); default: DOT to stdout")
    .option("-p, --project <tsconfig>", "the tsconfig.json to use (default: the nearest one)")
    .action((file: string, o: { fn: string; at: string; out?: string; project?: string }) => {
      const project = o.project === undefined ? undefined : resolveProject(o.project, io.cwd);
      run = () =>
        runGraph({ file, fn: o.fn, at: o.at, ...(o.out ? { out: o.out } : {}), ...(project ? { project } : {}) }, io);
    });

  const usageError = (message: string): number => {
    io.stderr.write(`gradc: ${message}\n${USAGE}\nRun 'gradc --help' for details.\n`);
    return 2;
  };
  try {
    await program.parseAsync([...argv], { from: "user" });
    return run ? await run() : 0;
  } catch (e) {
    if (e instanceof UsageError) return usageError(e.message);
    if (e instanceof CommanderError) {
      if (e.exitCode === 0) return 0; // --help, --version
      return usageError(e.message.replace(/^error: /, "").replace(/\n/g, " "));
    }
    throw e;
  }
}
