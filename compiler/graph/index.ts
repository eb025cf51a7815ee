// `gradc graph`: the computational graph of one function at concrete inputs, each edge with its
// forward value and its gradient. The function is lowered by the frontend exactly as for
// compilation (stages.ir), then evaluated and backpropagated here node by node.

import { dirname, resolve } from "node:path";
import { Node, type SourceFile } from "ts-morph";
import type { Diagnostic } from "../diagnostics/diagnostic.js";
import { findGradBindings, resolveModel } from "../frontend/discover.js";
import { LowerError } from "../frontend/errors.js";
import { type FunctionLike, isFunctionLike, lowerFunction } from "../frontend/lower.js";
import type { ParamSpec } from "../ir/signature.js";
import type { Func } from "../ir/types.js";
import { createProject, diagnosticAt, displayPath, syntaxDiagnostics } from "../program.js";
import { toDot } from "./dot.js";
import { type Evaluation, GraphError, evaluateWithGradients } from "./evaluate.js";
import { leafInputs } from "./inputs.js";

export { type Evaluation, type Step, GraphError, evaluateWithGradients } from "./evaluate.js";
export { type DotOptions, GRAD_COLOR, VALUE_COLOR, formatNumber, formatVal, toDot } from "./dot.js";
export { leafInputs, leafLabel } from "./inputs.js";

/** A function ready to be evaluated and drawn. */
export interface GraphFunction {
  /** The frontend's IR of the model function. */
  readonly fn: Func;
  /** How its arguments map onto the IR's leaf parameters. */
  readonly params: readonly ParamSpec[];
  /** The model function's name. */
  readonly modelName: string;
}

/** Where to find the program. */
export interface GraphOptions {
  /** Paths in diagnostics are relative to this folder (default: the working directory). */
  readonly cwd?: string;
  /** tsconfig.json to use (default: the nearest one above the file). */
  readonly project?: string;
}

/** Top-level functions of a file: declarations and `const f = (…) => …`. */
function topLevelFunctions(sf: SourceFile): Map<string, FunctionLike> {
  const out = new Map<string, FunctionLike>();
  for (const f of sf.getFunctions()) {
    const name = f.getName();
    if (name) out.set(name, f);
  }
  for (const stmt of sf.getVariableStatements())
    for (const d of stmt.getDeclarations()) {
      const init = d.getInitializer();
      if (isFunctionLike(init) && Node.isIdentifier(d.getNameNode())) out.set(d.getName(), init);
    }
  return out;
}

/**
 * Finds `name` in `file` (a model function, or a `grad`/`valueAndGrad` binding, which stands for
 * the function it differentiates) and lowers it. Returns diagnostics when the function is not
 * differentiable code; throws GraphError when there is no such name.
 */
export function loadGraphFunction(file: string, name: string, options: GraphOptions = {}): GraphFunction | { diagnostics: Diagnostic[] } {
  const cwd = options.cwd ?? process.cwd();
  const path = resolve(cwd, file);
  const { project } = createProject([path], { cwd, ...(options.project ? { project: options.project } : {}) });
  const sf = project.getSourceFileOrThrow(path);
  const syntax = syntaxDiagnostics(sf, cwd);
  if (syntax.length > 0) return { diagnostics: syntax };
  const bindings = findGradBindings(sf);
  const functions = topLevelFunctions(sf);
  try {
    let decl: FunctionLike | undefined;
    let modelName = name;
    const binding = bindings.find((b) => b.exportName === name);
    if (binding) {
      const model = resolveModel(binding);
      decl = model.decl;
      modelName = model.name;
    } else decl = functions.get(name);
    if (!decl) {
      const candidates = [...new Set([...functions.keys(), ...bindings.map((b) => b.exportName)])].sort();
      throw new GraphError(
        `${displayPath(path, cwd)} has no function or grad binding named '${name}'` +
          (candidates.length > 0 ? `; it has ${candidates.map((c) => `'${c}'`).join(", ")}` : ""),
      );
    }
    const lowered = lowerFunction(decl, modelName, {
      fileName: (f) => displayPath(f.getFilePath(), dirname(path)),
    });
    return { fn: lowered.fn, params: lowered.params, modelName };
  } catch (e) {
    if (e instanceof LowerError) return { diagnostics: e.all.map((x) => diagnosticAt(x, cwd)) };
    throw e;
  }
}

/** The drawing and the numbers behind it. */
export interface DrawnGraph {
  readonly dot: string;
  readonly evaluation: Evaluation;
}

/** Evaluates a loaded function at `input` (JSON arguments) and draws it as DOT. */
export function drawGraph(g: GraphFunction, input: unknown): DrawnGraph {
  const { values, labels } = leafInputs(g.params, input);
  const evaluation = evaluateWithGradients(g.fn, values, labels);
  return { dot: toDot(g.fn, evaluation, { labels, title: g.modelName }), evaluation };
}

/** DOT → SVG with Graphviz compiled to WebAssembly (@viz-js/viz, loaded on first use). */
export async function renderSvg(dot: string): Promise<string> {
  const { instance } = await import("@viz-js/viz");
  const viz = await instance();
  return viz.renderString(dot, { format: "svg" });
}
