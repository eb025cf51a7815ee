// The uncompiled fallback's evaluator. `(x + y) * z` on plain numbers is invisible to any tape,
// so instead of calling the user's function we read its source (`f.toString()`, parsed once
// with acorn) and evaluate the syntax tree ourselves, on values the tape traces. Control flow
// runs on plain values: a condition is evaluated, and only the branch taken runs, so the gradient
// flows through that branch alone (and the other cannot leak NaN). Loops simply run.

import * as acorn from "acorn";
import type * as ES from "acorn";
import { getOp, type OpDef } from "../compiler/ops/index.js";
import type { Val } from "../compiler/ops/values.js";
import { COMPILE_HINT, looksMinified, minifiedSourceError } from "./bundled.js";
import { GradcError } from "./error.js";
import * as ops from "./ops.js";
import * as labels from "./labels.js";
import { Var, apply, valueOf } from "./tape.js";
import { isTensor, ones, randn, tensor, zeros } from "./tensor.js";

type FunctionNode = ES.FunctionExpression | ES.ArrowFunctionExpression | ES.FunctionDeclaration;

/** A function's syntax tree and the text it came from (for error locations). */
export interface ParsedFunction {
  readonly node: FunctionNode;
  readonly source: string;
  /** Characters of wrapper text before `source` in what acorn parsed. */
  readonly offset: number;
  readonly name: string;
}

const parseCache = new WeakMap<object, ParsedFunction | null>();

/**
 * Parses a function's own source: declarations, expressions, arrows and methods (`m(x) {…}`,
 * which only parse inside an object literal). Null when there is no source to read (native or
 * bound functions) or it is not a plain function (classes, generators, async).
 */
export function parseFunction(f: (...args: never[]) => unknown): ParsedFunction | null {
  const cached = parseCache.get(f);
  if (cached !== undefined) return cached;
  const source = f.toString();
  let result: ParsedFunction | null = null;
  const attempt = (prefix: string, suffix: string, pick: (e: ES.Expression) => ES.Node | undefined): boolean => {
    let program: ES.Program;
    try {
      program = acorn.parse(prefix + source + suffix, { ecmaVersion: "latest", sourceType: "script" });
    } catch {
      return false;
    }
    const stmt = program.body[0];
    if (program.body.length !== 1 || stmt?.type !== "ExpressionStatement") return false;
    const node = pick(stmt.expression as ES.Expression);
    if (node?.type !== "FunctionExpression" && node?.type !== "ArrowFunctionExpression") return false;
    const fn = node as ES.FunctionExpression | ES.ArrowFunctionExpression;
    if (fn.async || fn.generator) return false;
    result = { node: fn, source, offset: prefix.length, name: f.name || "(anonymous)" };
    return true;
  };
  // `(function f() {})`, `((x) => x)`; then methods, `({ m(x) { … } })`.
  if (!attempt("(", ")", (e) => e)) {
    attempt("({", "})", (e) => {
      const prop = e.type === "ObjectExpression" ? e.properties[0] : undefined;
      return prop?.type === "Property" && prop.kind === "init" ? prop.value : undefined;
    });
  }
  parseCache.set(f, result);
  return result;
}

// ---- names the interpreted code may use without defining them --------------------------

/** gradc's own exports, by the names user code imports them under. */
const GRADC: Readonly<Record<string, unknown>> = Object.freeze({
  add: ops.add, sub: ops.sub, mul: ops.mul, div: ops.div, neg: ops.neg, exp: ops.exp, log: ops.log,
  sqrt: ops.sqrt, square: ops.square, pow: ops.pow, tanh: ops.tanh, sigmoid: ops.sigmoid, relu: ops.relu,
  maximum: ops.maximum, minimum: ops.minimum, abs: ops.abs, matmul: ops.matmul, transpose: ops.transpose,
  reshape: ops.reshape, at: ops.at, stopGradient: ops.stopGradient, sum: ops.sum, mean: ops.mean, max: ops.max, softmax: ops.softmax, logSumExp: ops.logSumExp,
  take: labels.take, takeAlongAxis: labels.takeAlongAxis, oneHot: labels.oneHot, argmax: labels.argmax, crossEntropy: labels.crossEntropy,
  tensor, zeros, ones, randn, GradcError,
});

/** Functions that handle traced values themselves: called, not interpreted. */
const tapeAware = new WeakSet<object>(Object.values(GRADC).filter((v): v is object => typeof v === "function"));

/** gradc's transformations (grad, jvp, …), registered by the files defining them. */
const TRANSFORMS: Record<string, unknown> = {};

/** Makes `grad` & co. resolvable in interpreted code, and called rather than interpreted. */
export function registerTransforms(fns: Readonly<Record<string, object>>): void {
  Object.assign(TRANSFORMS, fns);
  for (const f of Object.values(fns)) tapeAware.add(f);
}

/** Marks a function that handles traced values itself (what a transformation returns). */
export function callNatively<T extends object>(fn: T): T {
  tapeAware.add(fn);
  return fn;
}

export const callsNatively = (fn: unknown): boolean => typeof fn === "function" && tapeAware.has(fn);

/** Globals a model may read; anything else must come from `scope`. */
const GLOBALS: Readonly<Record<string, unknown>> = Object.freeze({
  Math, Number, Array, Object, Boolean, String, JSON, console, Infinity, NaN, undefined,
  Float64Array, Float32Array, Int32Array, Uint8Array, Error, TypeError, RangeError,
  // esbuild's keepNames wraps functions as __name(fn, "name").
  __name: <T>(fn: T) => fn,
});

/** What `Math.*` becomes on traced numbers. */
type MathRule = { differentiable: OpDef } | { fold: OpDef } | "constant";
const MATH = new Map<unknown, MathRule>([
  [Math.exp, { differentiable: getOp("exp") }],
  [Math.log, { differentiable: getOp("log") }],
  [Math.sqrt, { differentiable: getOp("sqrt") }],
  [Math.tanh, { differentiable: getOp("tanh") }],
  [Math.sin, { differentiable: getOp("sin") }],
  [Math.cos, { differentiable: getOp("cos") }],
  [Math.abs, { differentiable: getOp("abs") }],
  [Math.pow, { differentiable: getOp("pow") }],
  // Math.max/min fold left, so ties go to the first argument as the max gate requires.
  [Math.max, { fold: getOp("maximum") }],
  [Math.min, { fold: getOp("minimum") }],
  // Piecewise constant: the value is used, the gradient is zero.
  [Math.floor, "constant"],
  [Math.ceil, "constant"],
  [Math.round, "constant"],
  [Math.trunc, "constant"],
  [Math.sign, "constant"],
]);
const MATH_NAMES = new Map<unknown, string>(
  Object.getOwnPropertyNames(Math).map((k) => [(Math as unknown as Record<string, unknown>)[k], k]),
);

const ARITHMETIC: Readonly<Record<string, OpDef>> = {
  "+": getOp("add"),
  "-": getOp("sub"),
  "*": getOp("mul"),
  "/": getOp("div"),
  "**": getOp("pow"),
};
/** Operators whose result carries no gradient, so traced operands are just read. */
const COMPARISONS = new Set(["<", "<=", ">", ">=", "==", "!=", "===", "!==", "in", "instanceof"]);
const NEG = getOp("neg");
const ADD = getOp("add");
const SUB = getOp("sub");

// ---- scopes and completions ------------------------------------------------------------

interface Binding {
  value: unknown;
  readonly mutable: boolean;
}

class Scope {
  readonly vars = new Map<string, Binding>();
  /** Set on function scopes (not arrows): what `this` is. */
  hasThis = false;
  thisValue: unknown = undefined;
  constructor(
    readonly parent: Scope | null,
    /** A function's top scope, where `var` declarations live. */
    readonly isFunction = false,
  ) {}

  /** The scope `var` declares into. */
  functionScope(): Scope {
    let s: Scope = this;
    while (!s.isFunction && s.parent !== null) s = s.parent;
    return s;
  }

  lookup(name: string): Binding | undefined {
    for (let s: Scope | null = this; s !== null; s = s.parent) {
      const b = s.vars.get(name);
      if (b !== undefined) return b;
    }
    return undefined;
  }
}

const BREAK = { kind: "break" } as const;
const CONTINUE = { kind: "continue" } as const;
class Return {
  constructor(readonly value: unknown) {}
}
type Completion = typeof BREAK | typeof CONTINUE | Return | undefined;

/** Thrown inside an optional chain (`a?.b.c`) to short-circuit to undefined. */
const SHORT_CIRCUIT = Symbol("short-circuit");

/** A free identifier nothing defines. */
const UNRESOLVED = Symbol("unresolved");


// ---- the interpreter -------------------------------------------------------------------

/**
 * Evaluates functions from their syntax trees. `scope` supplies the free identifiers the
 * source refers to (helpers, constants); their functions are interpreted in turn.
 */
export class Interpreter {
  /** Source of the function running now, for error locations. */
  private current: ParsedFunction | null = null;
  private readonly closures = new WeakSet<object>();

  constructor(private readonly scope: Readonly<Record<string, unknown>> = {}) {}

  /** Calls a parsed function on `args`. */
  call(fn: ParsedFunction, args: readonly unknown[], thisValue?: unknown): unknown {
    return this.invoke(fn.node, new Scope(null), fn, thisValue, args);
  }

  // ---- errors --------------------------------------------------------------------------

  private fail(node: ES.Node, message: string): never {
    if (this.current !== null && looksMinified(this.current.source)) throw minifiedSourceError();
    throw new GradcError(`${message} (${this.where(node)})`);
  }

  private unsupported(node: ES.Node, construct: string): never {
    this.fail(node, `the uncompiled grad fallback does not support ${construct}; ${COMPILE_HINT}`);
  }

  private where(node: ES.Node): string {
    const fn = this.current;
    if (fn === null) return "in the differentiated function";
    const pos = Math.max(0, node.start - fn.offset);
    const before = fn.source.slice(0, pos);
    const line = before.split("\n").length;
    const col = pos - before.lastIndexOf("\n");
    return `in ${fn.name}, line ${line}:${col} of its source`;
  }

  // ---- functions -----------------------------------------------------------------------

  private invoke(
    node: FunctionNode,
    closure: Scope | null,
    fn: ParsedFunction,
    thisValue: unknown,
    args: readonly unknown[],
  ): unknown {
    const saved = this.current;
    this.current = fn;
    try {
      if (node.async || node.generator) this.unsupported(node, "async functions and generators");
      const scope = new Scope(closure, true);
      if (node.type !== "ArrowFunctionExpression") {
        scope.hasThis = true;
        scope.thisValue = thisValue;
      }
      for (const name of hoistedVars(node)) scope.vars.set(name, { value: undefined, mutable: true });
      node.params.forEach((p, i) => {
        if (p.type === "RestElement") this.bind(p.argument, args.slice(i), scope, "let");
        else this.bind(p, args[i], scope, "let");
      });
      if (node.body.type !== "BlockStatement") return this.eval(node.body, scope);
      const done = this.execBlockBody(node.body.body, scope);
      return done instanceof Return ? done.value : undefined;
    } finally {
      this.current = saved;
    }
  }

  /** A real JS function that runs `node` in the interpreter (so `xs.map(x => x * w)` works). */
  private closure(node: FunctionNode, scope: Scope): (...args: unknown[]) => unknown {
    const fn = this.current!;
    const interp = this;
    const name = node.id?.name;
    let self: (...args: unknown[]) => unknown;
    if (name !== undefined && node.type === "FunctionExpression") {
      // A named function expression sees its own name (for recursion).
      const own = new Scope(scope);
      own.vars.set(name, { value: undefined, mutable: false });
      scope = own;
    }
    if (node.type === "ArrowFunctionExpression") self = (...args) => interp.invoke(node, scope, fn, undefined, args);
    else
      self = function (this: unknown, ...args: unknown[]) {
        return interp.invoke(node, scope, fn, this, args);
      };
    if (name !== undefined && node.type === "FunctionExpression") scope.vars.set(name, { value: self, mutable: false });
    this.closures.add(self);
    // A closure passed to a transformation (grad(x => …)) runs through this interpreter, not its JS text.
    tapeAware.add(self);
    return self;
  }

  /** Calls any function value from interpreted code, deciding how to run it. */
  private callValue(node: ES.Node, callee: unknown, thisValue: unknown, args: unknown[]): unknown {
    if (typeof callee !== "function") this.fail(node, `${this.describeCallee(node)} is not a function`);
    const math = MATH.get(callee);
    if (math !== undefined) return this.callMath(node, callee as (...xs: number[]) => number, math, args);
    if (this.closures.has(callee) || tapeAware.has(callee)) return Reflect.apply(callee, thisValue, args);
    if (MATH_NAMES.has(callee)) {
      if (args.some((a) => a instanceof Var))
        this.fail(node, `Math.${MATH_NAMES.get(callee)} is not differentiable; use exp, log, sqrt, pow, tanh, sin, cos, abs, max or min`);
      return Reflect.apply(callee, thisValue, args);
    }
    const parsed = parseFunction(callee as (...args: never[]) => unknown);
    // No readable source: native code (Array.prototype.map, console.log) runs as is; a traced
    // value reaching a JS operator inside it throws from Var.valueOf.
    if (parsed === null) return Reflect.apply(callee, thisValue, args);
    return this.invoke(parsed.node, null, parsed, thisValue, args);
  }

  private describeCallee(node: ES.Node): string {
    const callee = (node as ES.CallExpression).callee;
    const fn = this.current;
    return callee && fn ? `\`${fn.source.slice(callee.start - fn.offset, callee.end - fn.offset)}\`` : "the callee";
  }

  private callMath(node: ES.Node, fn: (...xs: number[]) => number, rule: MathRule, args: unknown[]): unknown {
    let traced = false;
    for (const a of args) {
      if (a instanceof Var) traced = true;
      if (isTensor(a) || (a instanceof Var && typeof a.value !== "number"))
        this.fail(node, `Math.${MATH_NAMES.get(fn)} takes numbers, not tensors; use the gradc tensor ops (exp, log, …)`);
    }
    if (!traced) return fn(...(args as number[]));
    if (rule === "constant") return fn(...args.map((a) => valueOf(a as Val) as number));
    if ("differentiable" in rule) return apply(rule.differentiable, args.slice(0, rule.differentiable.arity) as Val[]);
    if (args.length === 0) return fn();
    return (args as (Val | Var)[]).reduce((acc, x) => apply(rule.fold, [acc, x]));
  }

  // ---- names ---------------------------------------------------------------------------

  /** A free identifier: from `scope`, a known global, or gradc's exports. */
  private resolveFree(name: string): unknown {
    if (Object.prototype.hasOwnProperty.call(this.scope, name)) return this.scope[name];
    if (Object.prototype.hasOwnProperty.call(GLOBALS, name)) return GLOBALS[name];
    if (Object.prototype.hasOwnProperty.call(GRADC, name)) return GRADC[name];
    if (Object.prototype.hasOwnProperty.call(TRANSFORMS, name)) return TRANSFORMS[name];
    // Bundlers rename an import that collides with another binding (`sum` → `sum2`).
    const renamed = /^(.+?)\d+$/.exec(name)?.[1];
    if (renamed !== undefined && Object.prototype.hasOwnProperty.call(GRADC, renamed)) return GRADC[renamed];
    return UNRESOLVED;
  }

  private unresolved(node: ES.Node, name: string): never {
    this.fail(
      node,
      `cannot resolve \`${name}\`: it is not defined inside the function, not a gradc op, and not in \`scope\`. ` +
        `Pass it, as in grad(f, { scope: { ${name.replace(/^.*\./, "")} } }), or ${COMPILE_HINT}`,
    );
  }

  private lookup(node: ES.Identifier, scope: Scope): unknown {
    const b = scope.lookup(node.name);
    if (b !== undefined) return b.value;
    const v = this.resolveFree(node.name);
    if (v === UNRESOLVED) this.unresolved(node, node.name);
    return v;
  }

  // ---- statements ----------------------------------------------------------------------

  /** Runs statements in `scope`, with function declarations hoisted as JS does. */
  private execBlockBody(body: readonly ES.Statement[], scope: Scope): Completion {
    for (const s of body)
      if (s.type === "FunctionDeclaration") scope.vars.set(s.id.name, { value: this.closure(s, scope), mutable: true });
    for (const s of body) {
      const c = this.exec(s, scope);
      if (c !== undefined) return c;
    }
    return undefined;
  }

  private exec(node: ES.Statement, scope: Scope): Completion {
    switch (node.type) {
      case "ExpressionStatement":
        this.eval(node.expression, scope);
        return undefined;
      case "VariableDeclaration": {
        const target = node.kind === "var" ? scope.functionScope() : scope;
        for (const d of node.declarations) {
          // `var x;` again keeps x's value, as in JS.
          if (!d.init && node.kind === "var" && d.id.type === "Identifier" && target.vars.has(d.id.name)) continue;
          this.bind(d.id, d.init ? this.eval(d.init, scope) : undefined, target, node.kind === "const" ? "const" : "let");
        }
        return undefined;
      }
      case "ReturnStatement":
        return new Return(node.argument ? this.eval(node.argument, scope) : undefined);
      case "IfStatement":
        if (truthy(this.eval(node.test, scope))) return this.exec(node.consequent, scope);
        return node.alternate ? this.exec(node.alternate, scope) : undefined;
      case "BlockStatement":
        // A block that declares nothing needs no scope of its own (loop bodies, mostly).
        return this.execBlockBody(node.body, declaresNames(node) ? new Scope(scope) : scope);
      case "ForStatement":
        return this.execFor(node, scope);
      case "WhileStatement":
        while (truthy(this.eval(node.test, scope))) {
          const c = this.exec(node.body, scope);
          if (c === BREAK) break;
          if (c instanceof Return) return c;
        }
        return undefined;
      case "DoWhileStatement":
        do {
          const c = this.exec(node.body, scope);
          if (c === BREAK) break;
          if (c instanceof Return) return c;
        } while (truthy(this.eval(node.test, scope)));
        return undefined;
      case "ForOfStatement":
      case "ForInStatement": {
        if (node.type === "ForOfStatement" && node.await) this.unsupported(node, "`for await`");
        const subject = this.eval(node.right, scope);
        const items =
          node.type === "ForOfStatement" ? this.iterate(node.right, subject) : Object.keys(Object(valueOf(subject as Val)));
        for (const item of items) {
          const iter = new Scope(scope);
          const left = node.left;
          if (left.type === "VariableDeclaration")
            this.bind(left.declarations[0]!.id, item, iter, left.kind === "const" ? "const" : "let");
          else this.bind(left, item, iter, "assign");
          const c = this.exec(node.body, iter);
          if (c === BREAK) break;
          if (c instanceof Return) return c;
        }
        return undefined;
      }
      case "BreakStatement":
        if (node.label) this.unsupported(node, "labeled break");
        return BREAK;
      case "ContinueStatement":
        if (node.label) this.unsupported(node, "labeled continue");
        return CONTINUE;
      case "EmptyStatement":
      case "FunctionDeclaration": // hoisted by execBlockBody
        return undefined;
      case "ThrowStatement":
        throw this.eval(node.argument, scope);
      case "TryStatement":
        return this.execTry(node, scope);
      case "SwitchStatement":
        return this.execSwitch(node, scope);
      case "DebuggerStatement":
        return undefined;
      case "LabeledStatement":
        return this.unsupported(node, "labeled statements");
      case "ClassDeclaration":
        return this.unsupported(node, "classes");
      default:
        return this.unsupported(node, `\`${node.type}\``);
    }
  }

  private execFor(node: ES.ForStatement, outer: Scope): Completion {
    let scope = new Scope(outer);
    const init = node.init;
    // `let` in the header gets a fresh binding per iteration (JS semantics), which only a
    // closure in the loop can observe; copy only when there is one.
    const perIteration = init?.type === "VariableDeclaration" && init.kind !== "var" && containsFunction(node);
    if (init) {
      if (init.type === "VariableDeclaration") this.exec(init, scope);
      else this.eval(init, scope);
    }
    for (;;) {
      if (node.test && !truthy(this.eval(node.test, scope))) break;
      const c = this.exec(node.body, scope);
      if (c === BREAK) break;
      if (c instanceof Return) return c;
      if (perIteration) {
        const next = new Scope(outer);
        for (const [k, b] of scope.vars) next.vars.set(k, { value: b.value, mutable: b.mutable });
        scope = next;
      }
      if (node.update) this.eval(node.update, scope);
    }
    return undefined;
  }

  private execTry(node: ES.TryStatement, scope: Scope): Completion {
    let result: Completion;
    try {
      result = this.exec(node.block, scope);
    } catch (e) {
      if (!node.handler) throw e;
      const s = new Scope(scope);
      if (node.handler.param) this.bind(node.handler.param, e, s, "let");
      result = this.exec(node.handler.body, s);
    } finally {
      if (node.finalizer) {
        const f = this.exec(node.finalizer, scope);
        // A completion in `finally` overrides the try's, as in JS.
        if (f !== undefined) result = f;
      }
    }
    return result;
  }

  private execSwitch(node: ES.SwitchStatement, outer: Scope): Completion {
    const d = valueOf(this.eval(node.discriminant, outer) as Val);
    const scope = new Scope(outer);
    let matched = false;
    const run = (from: number): Completion => {
      for (let i = from; i < node.cases.length; i++) {
        for (const s of node.cases[i]!.consequent) {
          const c = this.exec(s, scope);
          if (c === BREAK) return undefined;
          if (c !== undefined) return c;
        }
      }
      return undefined;
    };
    for (let i = 0; i < node.cases.length; i++) {
      const test = node.cases[i]!.test;
      if (test && valueOf(this.eval(test, scope) as Val) === d) {
        matched = true;
        return run(i);
      }
    }
    const def = node.cases.findIndex((c) => !c.test);
    return !matched && def >= 0 ? run(def) : undefined;
  }

  private iterate(node: ES.Node, subject: unknown): Iterable<unknown> {
    if (subject instanceof Var) this.fail(node, "cannot iterate over a differentiated tensor; index the pytree that holds it instead");
    if (subject === null || typeof (subject as { [Symbol.iterator]?: unknown })?.[Symbol.iterator] !== "function")
      this.fail(node, "the value is not iterable");
    return subject as Iterable<unknown>;
  }

  // ---- binding patterns ----------------------------------------------------------------

  private bind(pattern: ES.Pattern, value: unknown, scope: Scope, kind: "const" | "let" | "assign"): void {
    switch (pattern.type) {
      case "Identifier":
        if (kind === "assign") this.assign(pattern, value, scope);
        else scope.vars.set(pattern.name, { value, mutable: kind === "let" });
        return;
      case "MemberExpression":
        if (kind !== "assign") this.unsupported(pattern, "a member expression in a declaration");
        this.setMember(pattern, value, scope);
        return;
      case "AssignmentPattern":
        this.bind(pattern.left, value === undefined ? this.eval(pattern.right, scope) : value, scope, kind);
        return;
      case "ArrayPattern": {
        const items = [...this.iterate(pattern, value)];
        pattern.elements.forEach((el, i) => {
          if (el === null) return;
          if (el.type === "RestElement") this.bind(el.argument, items.slice(i), scope, kind);
          else this.bind(el, items[i], scope, kind);
        });
        return;
      }
      case "ObjectPattern": {
        if (value === null || value === undefined) this.fail(pattern, `cannot destructure ${String(value)}`);
        const used: string[] = [];
        for (const prop of pattern.properties) {
          if (prop.type === "RestElement") {
            const rest: Record<string, unknown> = {};
            for (const k of Object.keys(value as object)) if (!used.includes(k)) rest[k] = (value as Record<string, unknown>)[k];
            this.bind(prop.argument, rest, scope, kind);
          } else {
            const key = this.propertyKey(prop, scope);
            used.push(key);
            this.bind(prop.value, this.getMember(prop, value, key), scope, kind);
          }
        }
        return;
      }
      case "RestElement":
        return this.unsupported(pattern, "a rest element here");
    }
  }

  private propertyKey(prop: ES.Property | ES.AssignmentProperty | ES.MethodDefinition, scope: Scope): string {
    if (prop.computed) return String(valueOf(this.eval(prop.key as ES.Expression, scope) as Val));
    const key = prop.key;
    if (key.type === "Identifier") return key.name;
    if (key.type === "Literal") return String(key.value);
    return this.unsupported(key, "this property key");
  }

  private assign(node: ES.Identifier, value: unknown, scope: Scope): void {
    const b = scope.lookup(node.name);
    if (b === undefined) {
      if (this.resolveFree(node.name) !== UNRESOLVED)
        this.fail(node, `cannot assign to \`${node.name}\`, which is defined outside the function`);
      this.unresolved(node, node.name);
    }
    if (!b.mutable) this.fail(node, `assignment to constant \`${node.name}\``);
    b.value = value;
  }

  // ---- expressions ---------------------------------------------------------------------

  private eval(node: ES.Expression | ES.Super | ES.PrivateIdentifier | ES.SpreadElement, scope: Scope): unknown {
    switch (node.type) {
      case "Literal":
        return node.value;
      case "Identifier":
        return this.lookup(node, scope);
      case "BinaryExpression":
        if (node.left.type === "PrivateIdentifier") return this.unsupported(node.left, "private fields");
        return this.binary(node, node.operator, this.eval(node.left, scope), this.eval(node.right, scope));
      case "UnaryExpression":
        return this.unary(node, scope);
      case "LogicalExpression": {
        const left = this.eval(node.left, scope);
        if (node.operator === "&&") return truthy(left) ? this.eval(node.right, scope) : left;
        if (node.operator === "||") return truthy(left) ? left : this.eval(node.right, scope);
        return left === null || left === undefined ? this.eval(node.right, scope) : left;
      }
      case "ConditionalExpression":
        return truthy(this.eval(node.test, scope)) ? this.eval(node.consequent, scope) : this.eval(node.alternate, scope);
      case "AssignmentExpression":
        return this.assignment(node, scope);
      case "UpdateExpression":
        return this.update(node, scope);
      case "CallExpression":
        return this.callExpression(node, scope);
      case "MemberExpression": {
        const object = this.evalObject(node, scope);
        if (object === null || object === undefined) {
          if (node.optional) throw SHORT_CIRCUIT;
          this.fail(node, `cannot read a property of ${String(object)}`);
        }
        return this.getMember(node, object, this.memberKey(node, scope));
      }
      case "ChainExpression":
        try {
          return this.eval(node.expression, scope);
        } catch (e) {
          if (e === SHORT_CIRCUIT) return undefined;
          throw e;
        }
      case "ArrayExpression": {
        const out: unknown[] = [];
        for (const el of node.elements) {
          if (el === null) out.length++;
          else if (el.type === "SpreadElement") out.push(...this.iterate(el, this.eval(el.argument, scope)));
          else out.push(this.eval(el, scope));
        }
        return out;
      }
      case "ObjectExpression":
        return this.object(node, scope);
      case "FunctionExpression":
      case "ArrowFunctionExpression":
        if (node.async || node.generator) return this.unsupported(node, "async functions and generators");
        return this.closure(node, scope);
      case "SequenceExpression": {
        let last: unknown;
        for (const e of node.expressions) last = this.eval(e, scope);
        return last;
      }
      case "TemplateLiteral": {
        let s = node.quasis[0]!.value.cooked ?? "";
        node.expressions.forEach((e, i) => {
          s += String(valueOf(this.eval(e, scope) as Val)) + (node.quasis[i + 1]!.value.cooked ?? "");
        });
        return s;
      }
      case "ThisExpression": {
        for (let s: Scope | null = scope; s !== null; s = s.parent) if (s.hasThis) return s.thisValue;
        return undefined;
      }
      case "NewExpression": {
        const ctor = this.eval(node.callee, scope);
        if (typeof ctor !== "function" || parseFunction(ctor as (...args: never[]) => unknown) !== null)
          return this.unsupported(node, "`new` of anything but built-in classes");
        return Reflect.construct(ctor, this.args(node.arguments, scope));
      }
      case "ParenthesizedExpression":
        return this.eval(node.expression, scope);
      case "SpreadElement":
        return this.unsupported(node, "spread here");
      case "ClassExpression":
        return this.unsupported(node, "classes");
      case "AwaitExpression":
      case "YieldExpression":
        return this.unsupported(node, "await and yield");
      default:
        return this.unsupported(node, `\`${node.type}\``);
    }
  }

  private args(nodes: readonly (ES.Expression | ES.SpreadElement)[], scope: Scope): unknown[] {
    const out: unknown[] = [];
    for (const a of nodes) {
      if (a.type === "SpreadElement") out.push(...this.iterate(a, this.eval(a.argument, scope)));
      else out.push(this.eval(a, scope));
    }
    return out;
  }

  private object(node: ES.ObjectExpression, scope: Scope): Record<string, unknown> {
    const out: Record<string, unknown> = {};
    for (const p of node.properties) {
      if (p.type === "SpreadElement") {
        const src = this.eval(p.argument, scope);
        if (src instanceof Var) this.fail(p, "cannot spread a differentiated value");
        Object.assign(out, src);
        continue;
      }
      if (p.kind !== "init") this.unsupported(p, "getters and setters");
      out[this.propertyKey(p, scope)] = this.eval(p.value as ES.Expression, scope);
    }
    return out;
  }

  /** The object of a member expression; an unknown namespace (`X.add`) resolves specially. */
  private evalObject(node: ES.MemberExpression, scope: Scope): unknown {
    const obj = node.object;
    if (obj.type === "Super") return this.unsupported(obj, "super");
    if (obj.type === "Identifier" && scope.lookup(obj.name) === undefined && this.resolveFree(obj.name) === UNRESOLVED) {
      // Bundlers and vitest rewrite `import { add } from "gradc"` into `X.add`/`(0, X.add)(…)`
      // for a namespace X we cannot see: take the property as the imported name.
      const key = this.memberKey(node, scope);
      if (Object.prototype.hasOwnProperty.call(GRADC, key)) return GRADC;
      if (Object.prototype.hasOwnProperty.call(TRANSFORMS, key)) return TRANSFORMS;
      if (Object.prototype.hasOwnProperty.call(this.scope, key)) return this.scope;
      this.unresolved(node, `${obj.name}.${key}`);
    }
    return this.eval(obj, scope);
  }

  private memberKey(node: ES.MemberExpression, scope: Scope): string | number {
    if (!node.computed) {
      if (node.property.type === "PrivateIdentifier") return this.unsupported(node.property, "private fields");
      return (node.property as ES.Identifier).name;
    }
    const k = valueOf(this.eval(node.property as ES.Expression, scope) as Val);
    return typeof k === "number" ? k : String(k);
  }

  private getMember(node: ES.Node, object: unknown, key: string | number): unknown {
    if (object instanceof Var) {
      if (key === "shape") return object.shape;
      this.fail(node, `cannot read \`.${key}\` of a differentiated value (only \`.shape\`); use gradc tensor ops on it`);
    }
    if (object === null || object === undefined) this.fail(node, `cannot read \`${String(key)}\` of ${String(object)}`);
    return (object as Record<string | number, unknown>)[key];
  }

  private setMember(node: ES.MemberExpression, value: unknown, scope: Scope): void {
    const object = this.evalObject(node, scope);
    const key = this.memberKey(node, scope);
    if (object instanceof Var || object === null || typeof object !== "object")
      this.fail(node, `cannot assign to a property of ${object instanceof Var ? "a differentiated value" : String(object)}`);
    (object as Record<string | number, unknown>)[key] = value;
  }

  private callExpression(node: ES.CallExpression, scope: Scope): unknown {
    const callee = node.callee;
    let fn: unknown;
    let thisValue: unknown;
    if (callee.type === "MemberExpression") {
      thisValue = this.evalObject(callee, scope);
      if (thisValue === null || thisValue === undefined) {
        if (callee.optional) throw SHORT_CIRCUIT;
        this.fail(callee, `cannot call a method of ${String(thisValue)}`);
      }
      fn = this.getMember(callee, thisValue, this.memberKey(callee, scope));
      if (thisValue === GRADC || thisValue === TRANSFORMS || thisValue === this.scope) thisValue = undefined;
    } else if (callee.type === "Super") {
      return this.unsupported(callee, "super");
    } else {
      fn = this.eval(callee, scope);
    }
    if ((fn === null || fn === undefined) && node.optional) throw SHORT_CIRCUIT;
    return this.callValue(node, fn, thisValue, this.args(node.arguments, scope));
  }

  private unary(node: ES.UnaryExpression, scope: Scope): unknown {
    if (node.operator === "typeof" && node.argument.type === "Identifier") {
      const id = node.argument;
      if (scope.lookup(id.name) === undefined && this.resolveFree(id.name) === UNRESOLVED) return "undefined";
    }
    if (node.operator === "delete") {
      const arg = node.argument;
      if (arg.type !== "MemberExpression") return true;
      const object = this.evalObject(arg, scope);
      return delete (object as Record<string | number, unknown>)[this.memberKey(arg, scope)];
    }
    const v = this.eval(node.argument, scope);
    switch (node.operator) {
      case "-":
        if (v instanceof Var) return apply(NEG, [this.scalar(node, v, "-")]);
        this.plain(node, "-", v);
        return -(v as number);
      case "+":
        if (v instanceof Var) return this.scalar(node, v, "+");
        return +(this.plain(node, "+", v) as number);
      case "!":
        return !truthy(v);
      case "typeof":
        return typeof (v instanceof Var ? v.value : v);
      case "void":
        return undefined;
      case "~":
        if (v instanceof Var) this.fail(node, "`~` is not differentiable");
        return ~(v as number);
    }
  }

  /** A traced scalar for a JS operator; traced tensors need the tensor ops instead. */
  private scalar(node: ES.Node, v: Var, operator: string): Var {
    if (typeof v.value !== "number") this.fail(node, `\`${operator}\` on a tensor: use the gradc tensor ops (add, mul, …)`);
    return v;
  }

  /** An untraced operand of a JS arithmetic operator: refuses tensors, whose `+` is not addition. */
  private plain(node: ES.Node, operator: string, v: unknown): unknown {
    if (isTensor(v)) this.fail(node, `\`${operator}\` on a tensor: use the gradc tensor ops (add, mul, …)`);
    return v;
  }

  private binary(node: ES.Node, op: string, l: unknown, r: unknown): unknown {
    const def = ARITHMETIC[op];
    if (def !== undefined && (l instanceof Var || r instanceof Var)) {
      if (op === "+" && (typeof l === "string" || typeof r === "string"))
        return String(valueOf(l as Val)) + String(valueOf(r as Val));
      const a = l instanceof Var ? this.scalar(node, l, op) : this.plain(node, op, l);
      const b = r instanceof Var ? this.scalar(node, r, op) : this.plain(node, op, r);
      if (typeof a !== "number" && !(a instanceof Var)) this.fail(node, `\`${op}\` of a differentiated number and ${typeof a}`);
      if (typeof b !== "number" && !(b instanceof Var)) this.fail(node, `\`${op}\` of a differentiated number and ${typeof b}`);
      return apply(def, [a as Val | Var, b as Val | Var]);
    }
    if (def !== undefined || op === "%") {
      this.plain(node, op, l);
      this.plain(node, op, r);
    }
    if ((l instanceof Var || r instanceof Var) && !COMPARISONS.has(op))
      this.fail(node, `\`${op}\` is not differentiable`);
    // Plain JS semantics on plain values (typed as numbers only to satisfy the checker).
    const a = (l instanceof Var ? l.value : l) as number;
    const b = (r instanceof Var ? r.value : r) as number;
    switch (op) {
      case "+": return a + b;
      case "-": return a - b;
      case "*": return a * b;
      case "/": return a / b;
      case "**": return a ** b;
      case "%": return a % b;
      case "<": return a < b;
      case "<=": return a <= b;
      case ">": return a > b;
      case ">=": return a >= b;
      case "==": return a == b; // eslint-disable-line eqeqeq
      case "!=": return a != b; // eslint-disable-line eqeqeq
      case "===": return a === b;
      case "!==": return a !== b;
      case "&": return a & b;
      case "|": return a | b;
      case "^": return a ^ b;
      case "<<": return a << b;
      case ">>": return a >> b;
      case ">>>": return a >>> b;
      case "in": return (a as unknown as string) in (b as unknown as object);
      case "instanceof": return (a as unknown as object) instanceof (b as unknown as new () => unknown);
      default:
        return this.unsupported(node, `the operator \`${op}\``);
    }
  }

  private assignment(node: ES.AssignmentExpression, scope: Scope): unknown {
    const target = node.left;
    if (node.operator === "=") {
      const value = this.eval(node.right, scope);
      if (target.type === "Identifier") this.assign(target, value, scope);
      else this.bind(target, value, scope, "assign");
      return value;
    }
    const current = this.reference(target, scope);
    const op = node.operator.slice(0, -1);
    let value: unknown;
    if (op === "&&") value = truthy(current.get()) ? this.eval(node.right, scope) : current.get();
    else if (op === "||") value = truthy(current.get()) ? current.get() : this.eval(node.right, scope);
    else if (op === "??") value = current.get() ?? this.eval(node.right, scope);
    else value = this.binary(node, op, current.get(), this.eval(node.right, scope));
    current.set(value);
    return value;
  }

  private update(node: ES.UpdateExpression, scope: Scope): unknown {
    const ref = this.reference(node.argument, scope);
    const old = ref.get();
    let next: unknown;
    if (old instanceof Var) next = apply(node.operator === "++" ? ADD : SUB, [this.scalar(node, old, node.operator), 1]);
    else next = (this.plain(node, node.operator, old) as number) + (node.operator === "++" ? 1 : -1);
    ref.set(next);
    return node.prefix ? next : old instanceof Var ? old : +(old as number);
  }

  /** A place that is read and then written (`x += …`, `p.n++`), evaluating its parts once. */
  private reference(target: ES.Pattern | ES.Expression, scope: Scope): { get(): unknown; set(v: unknown): void } {
    if (target.type === "Identifier")
      return { get: () => this.lookup(target, scope), set: (v) => this.assign(target, v, scope) };
    if (target.type === "MemberExpression") {
      const object = this.evalObject(target, scope);
      const key = this.memberKey(target, scope);
      return {
        get: () => this.getMember(target, object, key),
        set: (v) => {
          if (object instanceof Var || object === null || typeof object !== "object")
            this.fail(target, "cannot assign to a property of this value");
          (object as Record<string | number, unknown>)[key] = v;
        },
      };
    }
    return this.unsupported(target, "this assignment target");
  }
}

/** JS truthiness of a possibly traced value (conditions never carry gradient). */
function truthy(v: unknown): boolean {
  return v instanceof Var ? (typeof v.value === "number" ? v.value !== 0 && !Number.isNaN(v.value) : true) : Boolean(v);
}

const varNames = new WeakMap<FunctionNode, string[]>();

/** The `var` names a function declares anywhere in its body (not in nested functions): JS hoists them. */
function hoistedVars(fn: FunctionNode): string[] {
  let names = varNames.get(fn);
  if (names !== undefined) return names;
  const found = new Set<string>();
  const pattern = (p: ES.Pattern | null): void => {
    if (p === null) return;
    if (p.type === "Identifier") found.add(p.name);
    else if (p.type === "ArrayPattern") p.elements.forEach(pattern);
    else if (p.type === "ObjectPattern") p.properties.forEach((q) => pattern(q.type === "RestElement" ? q.argument : q.value));
    else if (p.type === "RestElement") pattern(p.argument);
    else if (p.type === "AssignmentPattern") pattern(p.left);
  };
  const visit = (n: unknown): void => {
    if (typeof n !== "object" || n === null) return;
    if (Array.isArray(n)) return n.forEach(visit);
    const node = n as ES.Node;
    if (node.type === "FunctionDeclaration" || node.type === "FunctionExpression" || node.type === "ArrowFunctionExpression") return;
    if (node.type === "VariableDeclaration" && (node as ES.VariableDeclaration).kind === "var")
      (node as ES.VariableDeclaration).declarations.forEach((d) => pattern(d.id));
    for (const k of Object.keys(node)) if (k !== "type" && k !== "start" && k !== "end") visit((node as unknown as Record<string, unknown>)[k]);
  };
  if (fn.body.type === "BlockStatement") visit(fn.body.body);
  names = [...found];
  varNames.set(fn, names);
  return names;
}

const blockDeclarations = new WeakMap<ES.BlockStatement, boolean>();

/** Whether a block declares names directly in it (let, const, var, functions, classes). */
function declaresNames(block: ES.BlockStatement): boolean {
  let known = blockDeclarations.get(block);
  if (known === undefined) {
    known = block.body.some((s) => s.type === "VariableDeclaration" || s.type === "FunctionDeclaration" || s.type === "ClassDeclaration");
    blockDeclarations.set(block, known);
  }
  return known;
}

const functionInside = new WeakMap<ES.Node, boolean>();

/** Whether a syntax subtree creates functions (closures that could capture loop variables). */
function containsFunction(node: ES.Node): boolean {
  const known = functionInside.get(node);
  if (known !== undefined) return known;
  let found = false;
  const visit = (n: unknown): void => {
    if (found || typeof n !== "object" || n === null) return;
    if (Array.isArray(n)) return n.forEach(visit);
    const t = (n as { type?: unknown }).type;
    if (t === "FunctionExpression" || t === "ArrowFunctionExpression" || t === "FunctionDeclaration") {
      found = true;
      return;
    }
    for (const k of Object.keys(n)) if (k !== "type" && k !== "start" && k !== "end") visit((n as Record<string, unknown>)[k]);
  };
  visit(node);
  functionInside.set(node, found);
  return found;
}
