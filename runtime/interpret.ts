// The uncompiled fallback's evaluator. `(x + y) * z` on plain numbers is invisible to any tape,
// so instead of calling the user's function we read its source (`f.toString()`, parsed once
// with acorn) and evaluate the syntax tree ourselves, on values the tape traces. It accepts the
// language the compiler accepts and refuses the rest with the compiler's GRADC codes and
// messages, so a model behaves the same compiled or not.
//
// The evaluator is split by job:
//   interpret-parse.ts        reading a function's source; facts about syntax trees
//   interpret-language.ts     what the compiler refuses whatever the values, found before running
//   interpret-names.ts        gradc's ops, transformations, the language's globals, scopes
//   interpret-core.ts         locations, name resolution, refusals
//   interpret-calls.ts        calls: functions of the model, ops, Math, transformations
//   interpret-expressions.ts  operators, conditions, property and element reads
//   interpret-statements.ts   statements, loops, binding patterns, assignments

import { Statements } from "./interpret-statements.js";

export { type ParsedFunction, parseFunction } from "./interpret-parse.js";
export { callNatively, callsNatively, registerTransforms } from "./interpret-names.js";

/**
 * Evaluates functions from their syntax trees. `scope` supplies the free identifiers the
 * source refers to (helpers, constants); their functions are interpreted in turn.
 */
export class Interpreter extends Statements {}
