// Calls in interpreted code: a function of the model (interpreted in turn, as the compiler
// inlines it), a gradc op or transformation (called on the traced values), or a Math function
// of the language (recorded as its op). Anything else is refused with the compiler's code.

import type * as ES from "acorn";
import type { Val } from "../compiler/ops/values.js";
import { type Completion, Core, Return, SHORT_CIRCUIT } from "./interpret-core.js";
import { functionName, languageProblem } from "./interpret-language.js";
import { GRADC, GRADC_ARITY, limits, MATH, MATH_NAMES, type MathRule, Scope, TRANSFORMS, isTransform, resolveFree, tapeAware } from "./interpret-names.js";
import { type FunctionNode, type ParsedFunction, calledNames, hoistedVars, parseFunction } from "./interpret-parse.js";
import { Var, apply, valueOf } from "./tape.js";
import { isTensor } from "./tensor.js";

/** The gradc op a Math function's tensor argument should use instead (the compiler's suggestion). */

export abstract class Calls extends Core {
  private readonly closures = new WeakSet<object>();

  /** Calls made by the current evaluation (see limits). */
  private calls = 0;

  /** Calls a parsed function, the differentiated one, on `args`. */
  call(fn: ParsedFunction, args: readonly unknown[]): unknown {
    if (this.running.length === 0) this.calls = 0;
    return this.invoke(fn.node, null, fn, args, true, null);
  }

  protected invoke(node: FunctionNode, closure: Scope | null, fn: ParsedFunction, args: readonly unknown[], top: boolean, at: ES.Node | null): unknown {
    if (++this.calls > limits.calls) throw new Error(`internal: an evaluation made more than ${limits.calls} calls`);
    const saved = this.current;
    this.current = fn;
    const name = functionName(node) ?? (node === fn.node ? fn.name : "function");
    try {
      const problem = languageProblem(node, top);
      if (problem !== null) this.refuse(problem.node, problem.code, problem.argsFor?.((n, max) => this.text(n, max)) ?? problem.args);
      const scope = new Scope(closure, true);
      for (const v of hoistedVars(node)) scope.vars.set(v, { value: undefined, mutable: true });
      node.params.forEach((p, i) => {
        let value = args[i];
        if (p.type === "AssignmentPattern") {
          if (value === undefined && !top) value = this.eval(p.right, scope);
          p = p.left;
        }
        if (value === undefined && (!top || p.type === "Identifier")) {
          this.current = saved;
          this.refuse(at ?? node, "GRADC1019", [name, node.params.length, args.length]);
        }
        this.bind(p.type === "RestElement" ? p.argument : p, p.type === "RestElement" ? args.slice(i) : value, scope, "let");
        if (top && p.type === "Identifier") scope.vars.set(p.name, { value, mutable: true, param: true });
      });
      // After the arguments, as the compiler binds them before it finds the recursion at the call.
      if (this.running.includes(node) || this.recursive(node, closure)) {
        this.current = saved;
        this.refuse(at ?? node, "GRADC1010", [name]);
      }
      this.running.push(node);
      if (node.body.type !== "BlockStatement") return this.eval(node.body, scope);
      const done: Completion = this.execBlockBody(node.body.body, scope);
      if (!(done instanceof Return)) this.refuse(node, "GRADC1012", [name]);
      return done.value;
    } finally {
      if (this.running.at(-1) === node) this.running.pop();
      this.current = saved;
    }
  }

  private readonly notRecursive = new WeakSet<FunctionNode>();
  private readonly closureNodes = new WeakMap<object, { node: FunctionNode; scope: Scope | null }>();

  /**
   * Whether `node` can call itself, through the functions its calls name: the compiler inlines
   * every call, so it refuses recursion whatever the values (GRADC1010).
   */
  private recursive(start: FunctionNode, closure: Scope | null): boolean {
    if (this.notRecursive.has(start)) return false;
    const seen = new Set<FunctionNode>();
    const todo: { node: FunctionNode; scope: Scope | null }[] = [{ node: start, scope: closure }];
    while (todo.length > 0) {
      const { node, scope } = todo.pop()!;
      for (const name of calledNames(node)) {
        const value = scope?.lookup(name)?.value ?? (scope?.lookup(name) ? undefined : resolveFree(name, this.scope));
        if (typeof value !== "function" || tapeAware.has(value) && !this.closures.has(value)) continue;
        const target = this.closureNodes.get(value) ?? (() => {
          const parsed = MATH_NAMES.has(value) ? null : parseFunction(value as (...args: never[]) => unknown);
          return parsed === null ? undefined : { node: parsed.node, scope: null };
        })();
        if (target === undefined) continue;
        if (target.node === start) return true;
        if (!seen.has(target.node)) {
          seen.add(target.node);
          todo.push(target);
        }
      }
    }
    this.notRecursive.add(start);
    return false;
  }

  /** A real JS function that runs `node` in the interpreter (what a closure of the model is). */
  protected closure(node: FunctionNode, scope: Scope): (...args: unknown[]) => unknown {
    const fn = this.current!;
    const self = (...args: unknown[]): unknown => this.invoke(node, scope, fn, args, false, this.callSite);
    this.closures.add(self);
    this.closureNodes.set(self, { node, scope });
    // A closure passed to a transformation (grad(x => …)) runs through this interpreter, not its JS text.
    tapeAware.add(self);
    return self;
  }

  /** The call being made (for messages about the callee). */
  private callSite: ES.Node | null = null;

  /** Calls any function value from interpreted code, deciding how to run it. */
  protected callValue(node: ES.CallExpression, callee: unknown, args: unknown[]): unknown {
    const math = MATH.get(callee);
    if (math !== undefined) return this.callMath(node, callee as (...xs: number[]) => number, math, args);
    if (typeof callee !== "function") return this.refuse(node.callee, "GRADC1003", [this.calleeText(node)]);
    if (isTransform(callee)) return Reflect.apply(callee, undefined, this.withScope(callee, args));
    if (this.closures.has(callee) || tapeAware.has(callee)) {
      const name = Object.keys(GRADC).find((k) => GRADC[k] === callee);
      const arity = name === undefined ? undefined : GRADC_ARITY[name];
      if (arity !== undefined && args.length !== arity) this.refuse(node, "GRADC1019", [name!, arity, args.length]);
      const saved = this.callSite;
      this.callSite = node;
      try {
        return Reflect.apply(callee, undefined, args);
      } finally {
        this.callSite = saved;
      }
    }
    const parsed = MATH_NAMES.has(callee) ? null : parseFunction(callee as (...args: never[]) => unknown);
    // No source to read (native or bound functions): not a function of the program.
    if (parsed === null) return this.refuse(node.callee, "GRADC1003", [this.calleeText(node)]);
    return this.invoke(parsed.node, null, parsed, args, false, node);
  }

  /** A transformation called by the model sees the names the model was given (`scope`) unless it is given its own. */
  private withScope(transform: unknown, args: unknown[]): unknown[] {
    const at = transform === TRANSFORMS["customVjp"] ? 2 : 1;
    const options = args[at];
    if (options !== undefined && (typeof options !== "object" || options === null || "scope" in options)) return args;
    const out = [...args];
    while (out.length < at) out.push(undefined);
    out[at] = { ...(options as object | undefined), scope: this.scope };
    return out;
  }

  protected calleeText(node: ES.CallExpression): string {
    const c = node.callee;
    if (c.type === "SequenceExpression" && c.expressions.length === 2) return this.text(c.expressions[1]!, Infinity);
    return this.text(c, Infinity);
  }

  private callMath(node: ES.CallExpression, fn: (...xs: number[]) => number, rule: MathRule, args: unknown[]): unknown {
    const name = MATH_NAMES.get(fn)!;
    const [min, max] = rule.variadic ? [1, Infinity] : [rule.def.arity, rule.def.arity];
    args.forEach((a, i) => {
      const v = a instanceof Var ? a.value : a;
      if (isTensor(v)) {
        const texts = node.arguments.map((x) => this.text(x, 30));
        const op = rule.def.gradc;
        const instead = op === undefined ? `gradc has no tensor op for Math.${name}: apply it to numbers, e.g. to each element at(x, i).` : `Write ${op}(${texts.join(", ")}).`;
        this.refuse(node, "GRADC1027", [`Math.${name}`, texts[i] ?? "an operand", `[${v.shape.join(", ")}]`, instead]);
      }
    });
    if (args.length < min || args.length > max) this.refuse(node, "GRADC1019", [`Math.${name}`, min === max ? min : `${min}-${max}`, args.length]);
    for (const a of args) if (typeof a !== "number" && !(a instanceof Var)) this.refuse(node, "GRADC2005", [`Math.${name} takes numbers`]);
    if (!args.some((a) => a instanceof Var)) return fn(...(args as number[]));
    if (!rule.variadic) return apply(rule.def, args as Val[]);
    return (args as (Val | Var)[]).reduce((acc, x) => apply(rule.def, [acc, x]));
  }

  protected callExpression(node: ES.CallExpression, scope: Scope): unknown {
    let callee = node.callee;
    // `(0, ns.op)(…)`: how bundlers and test runners call an imported op.
    if (callee.type === "SequenceExpression" && callee.expressions.length === 2) callee = callee.expressions[1]!;
    const fn = this.eval(callee as ES.Expression, scope);
    if ((fn === null || fn === undefined) && node.optional) throw SHORT_CIRCUIT;
    return this.callValue(node, fn, this.args(node.arguments, scope));
  }

  protected args(nodes: readonly (ES.Expression | ES.SpreadElement)[], scope: Scope): unknown[] {
    // Spread is refused before running (interpret-language.ts); a string is an op's dtype.
    return nodes.map((a) => (a.type === "Literal" && typeof a.value === "string" ? a.value : this.eval(a as ES.Expression, scope)));
  }
}
