// `gradc/compiler`: the programmatic API the CLI and the bundler plugins sit on.

export {
  compile,
  compileSourceFile,
  createProject,
  findTsconfig,
  outputPath,
  type CompileOptions,
  type CompileResult,
  type CompiledFunction,
  type CompiledModule,
} from "./program.js";
export {
  IncrementalCompiler,
  createIncrementalCompiler,
  type FileOutcome,
  type IncrementalOptions,
} from "./incremental.js";
export { GradcCore, type GradcPluginOptions, type TransformOutcome } from "./plugin/core.js";
export { type Diagnostic, formatDiagnostic, formatWithFrame } from "./diagnostics/diagnostic.js";
export { MESSAGES, type DiagnosticCode } from "./diagnostics/messages.js";
export { printFunc } from "./ir/print.js";
export { parseFunc } from "./ir/parse.js";
export { verify } from "./passes/verify.js";
export type { Func, Value, Node, Block, Type } from "./ir/types.js";
export {
  type DrawnGraph,
  type GraphFunction,
  type GraphOptions,
  GraphError,
  drawGraph,
  leafInputs,
  loadGraphFunction,
  renderSvg,
} from "./graph/index.js";
