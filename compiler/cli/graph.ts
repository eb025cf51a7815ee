// `gradc graph <file> --fn <name> --at <inputs.json> [-o graph.svg]`: the computational graph of
// a function at given inputs, each edge with its forward value and its gradient. DOT goes to
// stdout without -o; `-o x.svg` renders SVG, `-o x.dot` writes the DOT.

import { existsSync, readFileSync } from "node:fs";
import { resolve } from "node:path";
import { GraphError, drawGraph, loadGraphFunction, renderSvg } from "../graph/index.js";
import { type CliIO, reportDiagnostics } from "./report.js";
import { writeIfChanged } from "./write.js";

/** The command line of `gradc graph`. */
export interface GraphFlags {
  readonly file: string;
  readonly fn: string;
  readonly at: string;
  readonly out?: string;
  /** Absolute path of a tsconfig.json given with -p. */
  readonly project?: string;
}

/** Thrown for bad usage: the CLI prints the message with the usage and exits 2. */
export class UsageError extends Error {}

function readInputs(path: string): unknown {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch {
    throw new UsageError(`cannot read the inputs file '${path}'`);
  }
  try {
    return JSON.parse(text) as unknown;
  } catch (e) {
    throw new UsageError(`the inputs file '${path}' is not valid JSON: ${(e as Error).message}`);
  }
}

/** Draws the graph; resolves with the exit code (throws UsageError for bad usage). */
export async function runGraph(flags: GraphFlags, io: CliIO): Promise<number> {
  const file = resolve(io.cwd, flags.file);
  if (!existsSync(file)) throw new UsageError(`file '${flags.file}' not found`);
  const input = readInputs(resolve(io.cwd, flags.at));
  let dot: string;
  try {
    const loaded = loadGraphFunction(file, flags.fn, { cwd: io.cwd, ...(flags.project ? { project: flags.project } : {}) });
    if ("diagnostics" in loaded) {
      reportDiagnostics(loaded.diagnostics, io);
      return 1;
    }
    dot = drawGraph(loaded, input).dot;
  } catch (e) {
    if (e instanceof GraphError) throw new UsageError(e.message);
    throw e;
  }
  if (flags.out === undefined) {
    io.stdout.write(dot);
    return 0;
  }
  const out = resolve(io.cwd, flags.out);
  writeIfChanged(out, out.endsWith(".dot") || out.endsWith(".gv") ? dot : await renderSvg(dot));
  return 0;
}
