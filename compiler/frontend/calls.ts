// Calls in a lowered body: gradc ops and Math functions (their lowering is in opcalls.ts),
// transformations applied inside the function (nested.ts), and calls to functions of the
// program, which are inlined: the callee's body is lowered with its parameters bound to the
// arguments, in the scope the callee was defined in.

import { type CallExpression, type Expression, Node } from "ts-morph";
import { ShapeError } from "../ops/index.js";
import { LowerError, Poisoned } from "./errors.js";
import type { Host } from "./host.js";
import { compileTimeIndexProblem } from "./index-bounds.js";
import { describeKind, foldMath, nameOf, shapeDiagnostic, valueParameters } from "./lower-support.js";
import { callTransform, isTransformLV, transformOptions } from "./nested.js";
import { requireNumbers } from "./operands.js";
import { bindName } from "./scopes.js";
import { type FunctionLike, type LV, Scope } from "./types.js";

export function call(h: Host, e: CallExpression): LV {
  const callee = h.expr(e.getExpression());
  const args = e.getArguments();
  if (isTransformLV(callee))
    return callTransform(h, callee, args.map((a, i) => (Node.isSpreadElement(a) ? spread(a) : callee.k === "transform" && i === 1 ? transformOptions(a, (x) => h.expr(x)) : h.expr(a))), e);
  if (callee.k === "op") {
    return callOp(h, callee, args.map((a) => opArgument(h, a)), e);
  }
  if (callee.k === "fn") return inline(h, callee.decl, args, e, callee.scope);
  throw new LowerError("GRADC1003", e.getExpression(), [e.getExpression().getText()]);
}

/** Calls a lowered callee on lowered arguments (what nested transformations apply). */
export function callLV(h: Host, callee: LV, args: readonly LV[], e: CallExpression): LV {
  if (isTransformLV(callee)) return callTransform(h, callee, args, e);
  if (callee.k === "op") return callOp(h, callee, args, e);
  if (callee.k === "fn") return h.inlineValues(callee.decl, args, e, callee.scope);
  throw new LowerError("GRADC1032", e, ["a transformation", "its first argument must be a function of this program"]);
}

function callOp(h: Host, callee: LV & { k: "op" }, lowered: readonly LV[], e: CallExpression): LV {
  if (callee.call.numbersOnly) requireNumbers(callee.name, lowered, e);
  if (lowered.length < callee.call.minArgs || lowered.length > callee.call.maxArgs)
    throw new LowerError("GRADC1019", e, [callee.name, callee.call.minArgs === callee.call.maxArgs ? callee.call.minArgs : `${callee.call.minArgs}-${callee.call.maxArgs}`, lowered.length]);
  const saved = h.b.loc;
  h.b.loc = h.loc(e);
  try {
    return callee.call.lower(
      {
        b: h.b,
        value: (lv) => h.asValue(lv, e),
        fold: (name, xs) => (xs.every((x) => x.k === "num") ? foldMath(name, xs.map((x) => (x as { n: number }).n)) : undefined),
        fail: (message) => new LowerError("GRADC2005", e, [message]),
        failIndex: (message) => new LowerError("GRADC2006", e, [message]),
        indexProblem: (i, n) => compileTimeIndexProblem(h.b, i, n, h.counters, h.symbolicCounters),
      },
      lowered,
    );
  } catch (err) {
    if (err instanceof ShapeError) throw shapeDiagnostic(err, e);
    throw err;
  } finally {
    h.b.loc = saved;
  }
}

/**
 * An argument of a gradc op. String literals are read by ops that take them (the dtype of zeros
 * and ones), also as option values (`conv2d(x, w, { padding: "same" })`).
 */
function opArgument(h: Host, a: Node): LV {
  if (Node.isSpreadElement(a)) return spread(a);
  if (Node.isStringLiteral(a)) return { k: "str", s: a.getLiteralValue() };
  if (Node.isObjectLiteralExpression(a) && a.getProperties().every((p) => Node.isPropertyAssignment(p))) {
    const fields = new Map<string, LV>();
    for (const p of a.getProperties()) {
      if (!Node.isPropertyAssignment(p)) continue;
      fields.set(p.getName().replace(/^["']|["']$/g, ""), opArgument(h, p.getInitializerOrThrow()));
    }
    return { k: "obj", fields };
  }
  return h.expr(a as Expression);
}

function spread(n: Node): never {
  throw new LowerError("GRADC1001", n, [Node.isSpreadElement(n) ? "A spread argument" : describeKind(n), "List the arguments one by one."]);
}

/** Inlines a call to a function of the program, lowering its arguments first. */
function inline(h: Host, decl: FunctionLike, args: readonly Node[], at: CallExpression, closure: Scope | undefined): LV {
  if (h.inlining.includes(decl)) throw new LowerError("GRADC1010", at, [nameOf(decl)]);
  h.grow(at);
  // A declaration without a body (`declare function`, an overload) has nothing to inline.
  if (decl.getSourceFile().isDeclarationFile() || decl.getBody() === undefined)
    throw new LowerError("GRADC1003", at.getExpression(), [at.getExpression().getText()]);
  return h.inlineValues(decl, args.map((a) => h.expr(a as Expression)), at, closure);
}

/** Inlines a call whose arguments are already lowered. */
export function inlineValues(h: Host, decl: FunctionLike, values: readonly LV[], at: CallExpression, closure: Scope | undefined): LV {
  if (h.inlining.includes(decl)) throw new LowerError("GRADC1010", at, [nameOf(decl)]);
  h.grow(at);
  if (decl.getSourceFile().isDeclarationFile() || decl.getBody() === undefined)
    throw new LowerError("GRADC1003", at.getExpression(), [at.getExpression().getText()]);
  const params = valueParameters(decl);
  const savedScope = h.scope;
  const savedDepth = h.loopDepth;
  h.inlining.push(decl);
  h.inlineSites.push(at);
  h.scope = new Scope(closure);
  h.loopDepth = 0;
  try {
    params.forEach((p, i) => {
      const given = values[i];
      const init = p.getInitializer();
      const lv = given ?? (init ? h.expr(init) : undefined);
      if (lv === undefined) throw new LowerError("GRADC1019", at, [nameOf(decl), params.length, values.length]);
      bindName(h, p.getNameNode(), lv, true);
    });
    const result = h.lowerBody(decl, at);
    // The helper's error is reported; its caller sees a poisoned value.
    if (result.k === "poison") throw new Poisoned();
    return result;
  } finally {
    h.scope = savedScope;
    h.loopDepth = savedDepth;
    h.inlining.pop();
    h.inlineSites.pop();
  }
}
