// The compiler's language, checked on the fallback's syntax tree. Before a function is
// interpreted, its body is read once for what the compiler refuses whatever the values: the
// statements and operators outside the language, `return` in a loop, assignments to constants,
// properties or parameters, destructuring with rest or defaults. Each refusal carries the
// compiler's code and message text (the same table), so a model the compiler refuses is refused
// here too, in every branch, before anything runs. What depends on values (a name that does not
// resolve, a tensor where a number is meant, a Math function outside the language) is refused
// by the evaluator as it meets it.
//
// Loops with `while`/`do`, `break`/`continue`, `switch` and `%` are accepted: the compiler
// accepts them too (data-dependent loops are reversed with a growing history).

import type * as ES from "acorn";
import type { DiagnosticCode } from "../compiler/diagnostics/messages.js";
import { arithmeticOperators, arithmeticOperatorsText, comparisonOperators } from "../compiler/ops/index.js";
import { describe } from "./interpret-describe.js";
import { type JumpTarget, assignedNames, jumpProblem, labelProblem, loopLabels } from "./interpret-jumps.js";
import { type FunctionNode, patternNames, walkOwn } from "./interpret-parse.js";
import { type SwitchRefusal, caseLabelProblem, readsRuntime, runtimeNodes, switchShapeProblem } from "./interpret-switch.js";

/** A refusal found in the syntax tree: the compiler's code and message arguments, and where. */
export interface Problem {
  readonly code: DiagnosticCode;
  readonly args: readonly (string | number)[];
  readonly node: ES.Node;
  /** Arguments taken from the source text (a switch's case label), given the evaluator's reader. */
  readonly argsFor?: SwitchRefusal["args"];
}

/**
 * Names declared in a function, lexically: whether each may be assigned, whether it is a
 * parameter, and whether it holds a value computed at run time (from a parameter of the
 * differentiated function), as far as the syntax tells.
 */
export class LexScope {
  private readonly names = new Map<string, { mutable: boolean; param: boolean; runtime: boolean }>();
  constructor(readonly parent: LexScope | null) {}
  declare(name: string, mutable: boolean, param = false, runtime = false): void {
    this.names.set(name, { mutable, param, runtime });
  }
  /** Whether `name` holds a run-time value (false for names of the module, or not declared). */
  readonly isRuntime = (name: string): boolean => this.lookup(name)?.runtime === true;
  lookup(name: string): { mutable: boolean; param: boolean; runtime: boolean } | undefined {
    for (let s: LexScope | null = this; s !== null; s = s.parent) {
      const b = s.names.get(name);
      if (b !== undefined) return b;
    }
    return undefined;
  }
}

const STATEMENT_HINT = "Use const/let, if/else, for loops with constant bounds and return.";
const EXPRESSION_HINT = "Use arithmetic, Math functions, gradc ops and calls to functions of this program.";
// The operators are the registry's (ops/exposure.ts), as the compiler's are; `x op= y` for each arithmetic `op`.
const ARITHMETIC: ReadonlySet<string> = new Set(arithmeticOperators().keys());
const COMPARISONS: ReadonlySet<string> = new Set(comparisonOperators().keys());
const COMPOUND: ReadonlySet<string> = new Set([...ARITHMETIC].map((op) => `${op}=`));
const OPERATORS_HINT = `Use ${arithmeticOperatorsText()} and comparisons.`;

/** Whether an expression calls anything (outside nested functions). */
function hasCall(e: ES.Node): boolean {
  let found = false;
  walkOwn(e, (n) => {
    if (n.type === "CallExpression") found = true;
    return !found;
  });
  return found;
}

const envs = new WeakMap<FunctionNode, LexScope>();
/** `const h = (…) => …`: the name a function expression is bound to, for messages. */
const boundNames = new WeakMap<ES.Node, string>();

/** The name a function is known by in messages (the compiler's nameOf). */
export function functionName(fn: FunctionNode): string | undefined {
  return fn.id?.name ?? boundNames.get(fn);
}
/** Per function node: its problem as the differentiated function, and as a function it calls. */
const checked = [new WeakMap<FunctionNode, Problem | null>(), new WeakMap<FunctionNode, Problem | null>()] as const;

/**
 * The first construct of `fn`'s body the compiler refuses, in source order, or null. `top`:
 * `fn` is the differentiated function itself (whose parameters are its inputs). Functions
 * nested in it are checked when they are called, as the compiler checks them when it inlines
 * them, in the scope they were written in.
 */
export function languageProblem(fn: FunctionNode, top: boolean): Problem | null {
  const cache = checked[top ? 0 : 1];
  const known = cache.get(fn);
  if (known !== undefined) return known;
  let problem: Problem | null = null;
  try {
    new Checker(top).fn(fn, envs.get(fn) ?? null);
  } catch (e) {
    if (!(e instanceof Refused)) throw e;
    problem = e.problem;
  }
  cache.set(fn, problem);
  return problem;
}

class Refused {
  constructor(readonly problem: Problem) {}
}

const refuse = (code: DiagnosticCode, node: ES.Node, args: readonly (string | number)[]): never => {
  throw new Refused({ code, node, args });
};
const refuseSwitch = (r: SwitchRefusal | undefined): void => {
  if (r !== undefined) throw new Refused({ code: r.code, node: r.node, args: [], argsFor: r.args });
};

class Checker {
  private loops = 0;
  /** The loops and switches around the statement being checked, and labels waiting for their loop. */
  private readonly targets: JumpTarget[] = [];
  private labels: string[] = [];
  constructor(private readonly top: boolean) {}

  fn(fn: FunctionNode, outer: LexScope | null): void {
    const scope = new LexScope(outer);
    for (const p of fn.params) {
      if (this.top && p.type !== "Identifier" && !(p.type === "AssignmentPattern" && p.left.type === "Identifier"))
        refuse("GRADC1001", p, ["A destructured parameter", "Take the parameter whole and destructure it in the body."]);
      if (!this.top) this.pattern(p.type === "AssignmentPattern" ? p.left : p);
      for (const name of patternNames(p)) scope.declare(name, true, this.top, this.top);
    }
    if (fn.body.type !== "BlockStatement") return this.expr(fn.body, scope);
    this.block(fn.body.body, scope);
  }

  private block(body: readonly ES.Statement[], scope: LexScope): void {
    // Function declarations are hoisted: declared before the statements run.
    for (const s of body) if (s.type === "FunctionDeclaration") scope.declare(s.id.name, false);
    for (const s of body) this.statement(s, scope);
  }

  private statement(s: ES.Statement, scope: LexScope): void {
    switch (s.type) {
      case "VariableDeclaration":
        for (const d of s.declarations) {
          if (d.init && d.id.type === "Identifier") boundNames.set(d.init, d.id.name);
          if (d.init) this.expr(d.init, scope);
          this.pattern(d.id);
          const runtime = d.init != null && readsRuntime(d.init, scope.isRuntime);
          for (const name of patternNames(d.id)) scope.declare(name, s.kind !== "const", false, runtime);
        }
        return;
      case "ExpressionStatement":
        return this.effect(s.expression, scope);
      case "BlockStatement":
        return this.block(s.body, new LexScope(scope));
      case "EmptyStatement":
        return;
      case "ReturnStatement":
        if (this.loops > 0) refuse("GRADC1018", s, []);
        if (!s.argument) refuse("GRADC1005", s, ["nothing"]);
        return this.expr(s.argument!, scope);
      case "IfStatement":
        this.expr(s.test, scope);
        this.statement(s.consequent, new LexScope(scope));
        if (s.alternate) this.statement(s.alternate, new LexScope(scope));
        return;
      case "ForStatement": {
        if (!s.init || !s.test || !s.update || s.init.type !== "VariableDeclaration")
          refuse("GRADC1007", s, ["a loop without an initializer, condition and increment"]);
        const inner = new LexScope(scope);
        this.statement(s.init as ES.VariableDeclaration, inner);
        this.expr(s.test!, inner);
        this.loop(s, s.body, inner);
        return this.effect(s.update!, inner);
      }
      case "ForOfStatement": {
        if (s.await) refuse("GRADC1001", s, ["'for await'", "Differentiable functions are synchronous."]);
        if (s.left.type !== "VariableDeclaration" || s.left.declarations.length !== 1)
          refuse("GRADC1001", s.left, ["A for-of loop that assigns an existing variable", "Declare the loop variable: for (const item of items)."]);
        this.expr(s.right, scope);
        const inner = new LexScope(scope);
        const decl = s.left as ES.VariableDeclaration;
        this.pattern(decl.declarations[0]!.id);
        const runtime = readsRuntime(s.right, scope.isRuntime);
        for (const name of patternNames(decl.declarations[0]!.id)) inner.declare(name, decl.kind !== "const", false, runtime);
        return this.loop(s, s.body, inner);
      }
      case "WhileStatement":
        this.loopCondition(s.test, scope);
        this.expr(s.test, scope);
        return this.loop(s, s.body, scope);
      case "DoWhileStatement":
        this.loopCondition(s.test, scope);
        this.loop(s, s.body, scope);
        return this.expr(s.test, scope);
      case "ForInStatement":
        return refuse("GRADC1002", s, ["for-in"]);
      case "BreakStatement":
      case "ContinueStatement": {
        const problem = jumpProblem(s, this.targets);
        return problem === undefined ? undefined : refuse(...problem);
      }
      case "LabeledStatement": {
        const problem = labelProblem(s);
        if (problem !== undefined) refuse(...problem);
        this.labels.push(s.label.name);
        return this.statement(s.body, scope);
      }
      case "SwitchStatement": {
        refuseSwitch(switchShapeProblem(s));
        this.expr(s.discriminant, scope);
        if (readsRuntime(s.discriminant, scope.isRuntime)) runtimeNodes.add(s.discriminant);
        const inner = new LexScope(scope);
        this.targets.push({ node: s, labels: [] });
        for (const c of s.cases) {
          if (c.test) {
            this.expr(c.test, inner);
            if (readsRuntime(c.test, inner.isRuntime)) runtimeNodes.add(c.test);
            refuseSwitch(caseLabelProblem(s, c.test));
          }
          this.block(c.consequent, inner);
        }
        this.targets.pop();
        return;
      }
      case "FunctionDeclaration":
        envs.set(s, scope);
        return;
      default:
        return refuse("GRADC1001", s, [describe(s), STATEMENT_HINT]);
    }
  }

  private loop(node: ES.Statement, body: ES.Statement, scope: LexScope): void {
    const labels = this.labels;
    this.labels = [];
    loopLabels.set(node, labels);
    this.loops++;
    this.targets.push({ node, labels });
    try {
      this.statement(body, new LexScope(scope));
    } finally {
      this.loops--;
      this.targets.pop();
    }
  }

  /** A while/do condition must not assign a variable of the function (the compiler's 1001). */
  private loopCondition(test: ES.Expression, scope: LexScope): void {
    for (const name of assignedNames(test))
      if (scope.lookup(name) !== undefined) refuse("GRADC1001", test, ["An assignment in a loop condition", "Assign in the loop body and test the variable in the condition."]);
  }

  /** Destructuring the compiler takes: names, objects and arrays of them, without rest or defaults. */
  private pattern(p: ES.Pattern): void {
    if (p.type === "ObjectPattern")
      for (const prop of p.properties) {
        if (prop.type === "RestElement" || prop.value.type === "AssignmentPattern")
          refuse("GRADC1001", prop, ["Rest elements and defaults in destructuring", "Destructure the fields one by one."]);
        this.pattern((prop as ES.AssignmentProperty).value);
      }
    else if (p.type === "ArrayPattern")
      for (const el of p.elements) {
        if (el === null) continue;
        if (el.type === "RestElement" || el.type === "AssignmentPattern")
          refuse("GRADC1001", el, ["Rest elements and defaults in destructuring", "Destructure the elements one by one."]);
        this.pattern(el);
      }
    else if (p.type !== "Identifier") refuse("GRADC1001", p, [`'${p.type}'`, "Bind a name, or destructure an object or array."]);
  }

  /** An expression statement: an assignment, an increment or a call. */
  private effect(e: ES.Expression, scope: LexScope): void {
    if (e.type === "AssignmentExpression" && (e.operator === "=" || COMPOUND.has(e.operator))) {
      if (e.operator !== "=" && e.left.type !== "ObjectPattern" && e.left.type !== "ArrayPattern") this.expr(e.left as ES.Expression, scope);
      this.expr(e.right, scope);
      // A variable assigned a run-time value holds one from then on (as far as the syntax tells).
      const assigned = e.left.type === "Identifier" ? scope.lookup(e.left.name) : undefined;
      if (assigned !== undefined && readsRuntime(e.right, scope.isRuntime)) assigned.runtime = true;
      // The compiler lowers the value before it looks at the target: a call in the value may be
      // refused first, as it runs, so the target is then checked by the evaluator, after it.
      if (hasCall(e.right)) return;
      return this.target(e.left, scope);
    }
    if (e.type === "UpdateExpression") {
      this.expr(e.argument, scope);
      return this.target(e.argument, scope);
    }
    if (e.type === "SequenceExpression") return e.expressions.forEach((x) => this.effect(x, scope));
    if (e.type === "CallExpression" || (e.type === "ChainExpression" && e.expression.type === "CallExpression")) return this.expr(e, scope);
    refuse("GRADC1001", e, ["An expression statement without an assignment", "Assign its value to a variable."]);
  }

  private target(t: ES.Pattern | ES.Expression, scope: LexScope): void {
    if (t.type === "Identifier") {
      const b = scope.lookup(t.name);
      if (b === undefined) refuse("GRADC1011", t, [t.name]);
      if (!b!.mutable) refuse("GRADC1001", t, ["Assigning to a const", "Declare it with let."]);
      return;
    }
    if (t.type === "MemberExpression") {
      let root: ES.Node = t;
      while (root.type === "MemberExpression") root = (root as ES.MemberExpression).object;
      const b = root.type === "Identifier" ? scope.lookup((root as ES.Identifier).name) : undefined;
      if (b?.param) refuse("GRADC1004", t, [(root as ES.Identifier).name]);
      refuse("GRADC1001", t, ["Assigning to a property or element", "Build a new object or array instead."]);
    }
    refuse("GRADC1001", t, ["This assignment target", "Assign to a variable."]);
  }

  expr(e: ES.Expression | ES.SpreadElement | ES.PrivateIdentifier | ES.Super, scope: LexScope): void {
    switch (e.type) {
      case "Literal":
        if (typeof e.value === "number" || typeof e.value === "boolean") return;
        return refuse("GRADC1001", e, [describe(e), EXPRESSION_HINT]);
      case "Identifier":
        return;
      case "UnaryExpression":
        if (e.operator === "-" || e.operator === "+" || e.operator === "!") return this.expr(e.argument, scope);
        if (e.operator === "~") {
          this.expr(e.argument, scope);
          return refuse("GRADC1013", e, ["~", OPERATORS_HINT]);
        }
        return refuse("GRADC1001", e, [describe(e), EXPRESSION_HINT]);
      case "UpdateExpression":
        if (e.prefix) {
          this.expr(e.argument, scope);
          return refuse("GRADC1013", e, [e.operator, OPERATORS_HINT]);
        }
        return refuse("GRADC1001", e, [describe(e), EXPRESSION_HINT]);
      case "BinaryExpression":
        if (ARITHMETIC.has(e.operator) || COMPARISONS.has(e.operator)) {
          this.expr(e.left, scope);
          return this.expr(e.right, scope);
        }
        return refuse("GRADC1013", e, [e.operator, OPERATORS_HINT]);
      case "LogicalExpression":
        if (e.operator === "??") return refuse("GRADC1013", e, ["??", OPERATORS_HINT]);
        this.expr(e.left, scope);
        return this.expr(e.right, scope);
      case "AssignmentExpression":
        return refuse("GRADC1013", e, [e.operator, OPERATORS_HINT]);
      case "SequenceExpression":
        return refuse("GRADC1013", e, [",", OPERATORS_HINT]);
      case "ConditionalExpression":
        this.expr(e.test, scope);
        this.expr(e.consequent, scope);
        return this.expr(e.alternate, scope);
      case "CallExpression":
        this.callee(e.callee, scope);
        for (const a of e.arguments) {
          if (a.type === "SpreadElement") refuse("GRADC1001", a, ["A spread argument", "List the arguments one by one."]);
          // A string is an argument of the ops that read one (the dtype of zeros and ones), also
          // as an option's value (`conv2d(x, w, { padding: "same" })`).
          if (a.type === "Literal" && typeof a.value === "string") continue;
          if (a.type === "ObjectExpression" && a.properties.every((p) => p.type === "Property" && p.kind === "init" && !p.method)) {
            for (const p of a.properties) {
              const v = (p as ES.Property).value;
              if (!(v.type === "Literal" && typeof v.value === "string")) this.expr(v as ES.Expression, scope);
            }
            continue;
          }
          this.expr(a, scope);
        }
        return;
      case "MemberExpression":
        this.expr(e.object, scope);
        if (e.computed && !(e.property.type === "Literal" && typeof e.property.value === "string")) this.expr(e.property, scope);
        return;
      case "ChainExpression":
        return this.expr(e.expression, scope);
      case "ArrayExpression":
        for (const el of e.elements) {
          if (el === null) refuse("GRADC1001", e, ["'OmittedExpression'", EXPRESSION_HINT]);
          if (el!.type === "SpreadElement") refuse("GRADC1001", el!, ["Spread", "List the elements."]);
          this.expr(el!, scope);
        }
        return;
      case "ObjectExpression":
        for (const p of e.properties) {
          if (p.type === "SpreadElement" || p.kind !== "init" || p.method) refuse("GRADC1001", p, [describe(p), "Write each property as key: value."]);
          this.expr((p as ES.Property).value as ES.Expression, scope);
        }
        return;
      case "ArrowFunctionExpression":
      case "FunctionExpression":
        envs.set(e, scope);
        return;
      default:
        return refuse("GRADC1001", e, [describe(e), EXPRESSION_HINT]);
    }
  }

  /** A callee: an expression, or `(0, ns.op)`, which bundlers and test runners write for an imported op. */
  private callee(c: ES.Expression | ES.Super, scope: LexScope): void {
    if (c.type === "SequenceExpression" && c.expressions.length === 2 && c.expressions[0]!.type === "Literal")
      return this.expr(c.expressions[1]!, scope);
    this.expr(c, scope);
  }
}
