// Statements of the compiler's language, run on plain control flow: a condition is evaluated
// and only the branch taken runs, so the gradient flows through that branch alone (and the
// other cannot leak NaN); loops simply run. Also binding patterns and assignments.

import type * as ES from "acorn";
import type { Val } from "../compiler/ops/values.js";
import { BREAK, BREAK_LOOP, type Completion, CONTINUE, Return } from "./interpret-core.js";
import { Expressions } from "./interpret-expressions.js";
import { NEVER_ENDS_EMPTY, NEVER_ENDS_STILL, assignedNames, breaksOut, hasLeaves, loopLabels } from "./interpret-jumps.js";
import { Scope, limits } from "./interpret-names.js";
import { containsFunction, declaresNames } from "./interpret-parse.js";
import { BOOL_LABEL, BOOL_LABEL_FIX, BOTH_RUNTIME, BOTH_RUNTIME_FIX, DISCRIMINANT_FIX, LABEL_FIX, LABEL_NOT_KNOWN, discriminantProblem, runtimeNodes } from "./interpret-switch.js";
import { Var, valueOf } from "./tape.js";

export abstract class Statements extends Expressions {
  /** Runs statements in `scope`, with function declarations hoisted as JS does. */
  execBlockBody(body: readonly ES.Statement[], scope: Scope): Completion {
    for (const s of body) if (s.type === "FunctionDeclaration") scope.vars.set(s.id.name, { value: this.closure(s, scope), mutable: false });
    for (const s of body) {
      const c = this.exec(s, scope);
      if (c !== undefined) return c;
    }
    return undefined;
  }

  exec(node: ES.Statement, scope: Scope): Completion {
    switch (node.type) {
      case "ExpressionStatement":
        this.effect(node.expression, scope);
        return undefined;
      case "VariableDeclaration": {
        const target = node.kind === "var" ? scope.functionScope() : scope;
        for (const d of node.declarations)
          this.bind(d.id, d.init ? this.eval(d.init, scope) : undefined, target, node.kind === "const" ? "const" : "let");
        return undefined;
      }
      case "ReturnStatement":
        return new Return(this.eval(node.argument!, scope));
      case "IfStatement":
        if (this.condition(node.test, this.eval(node.test, scope))) return this.exec(node.consequent, new Scope(scope));
        return node.alternate ? this.exec(node.alternate, new Scope(scope)) : undefined;
      case "BlockStatement":
        // A block that declares nothing needs no scope of its own (loop bodies, mostly).
        return this.execBlockBody(node.body, declaresNames(node) ? new Scope(scope) : scope);
      case "ForStatement":
        return this.execFor(node, scope);
      case "WhileStatement":
        this.mayEnd(node, scope);
        for (let trips = 0; this.condition(node.test, this.eval(node.test, scope)); trips++) {
          this.count(trips);
          const c = this.exec(node.body, scope);
          if (c === BREAK || c === BREAK_LOOP) break;
          if (c instanceof Return) return c;
        }
        return undefined;
      case "DoWhileStatement":
        this.mayEnd(node, scope);
        for (let trips = 0; ; trips++) {
          this.count(trips);
          const c = this.exec(node.body, scope);
          if (c === BREAK || c === BREAK_LOOP) break;
          if (c instanceof Return) return c;
          if (!this.condition(node.test, this.eval(node.test, scope))) break;
        }
        return undefined;
      case "ForOfStatement": {
        const items = this.eval(node.right, scope);
        if (!Array.isArray(items)) {
          const v = items instanceof Var ? items.value : items;
          const what = typeof v === "object" && v !== null && "shape" in v && (v as { shape: unknown[] }).shape.length > 0 ? "A for-of loop over a tensor" : "A for-of loop over something other than an array";
          this.refuse(node.right, "GRADC1001", [what, "Loop over the indices instead: for (let i = 0; i < x.shape[0]; i++), reading at(x, i)."]);
        }
        const left = node.left as ES.VariableDeclaration;
        for (const item of items as unknown[]) {
          const iter = new Scope(scope);
          this.bind(left.declarations[0]!.id, item, iter, left.kind === "const" ? "const" : "let");
          const c = this.exec(node.body, iter);
          if (c === BREAK || c === BREAK_LOOP) break;
          if (c instanceof Return) return c;
        }
        return undefined;
      }
      case "BreakStatement":
        return node.label ? BREAK_LOOP : BREAK;
      case "LabeledStatement":
        // A label on a loop (checked before running), named only by jumps to that loop.
        return this.exec(node.body, scope);
      case "ContinueStatement":
        return CONTINUE;
      case "SwitchStatement":
        return this.execSwitch(node, scope);
      case "EmptyStatement":
      case "FunctionDeclaration": // hoisted by execBlockBody
        return undefined;
      default:
        // Refused before running (interpret-language.ts).
        throw new Error(`internal: ${node.type} reached the evaluator`);
    }
  }

  private execFor(node: ES.ForStatement, outer: Scope): Completion {
    let scope = new Scope(outer);
    // `let` in the header gets a fresh binding per iteration (JS semantics), which only a
    // closure in the loop can observe; copy only when there is one.
    const perIteration = containsFunction(node);
    this.exec(node.init as ES.VariableDeclaration, scope);
    for (let trips = 0; ; trips++) {
      this.count(trips);
      if (!this.condition(node.test!, this.bound(node.test!, scope))) break;
      const c = this.exec(node.body, scope);
      if (c === BREAK || c === BREAK_LOOP) break;
      if (c instanceof Return) return c;
      if (perIteration) {
        const next = new Scope(outer);
        for (const [k, b] of scope.vars) next.vars.set(k, { value: b.value, mutable: b.mutable });
        scope = next;
      }
      this.effect(node.update!, scope);
    }
    return undefined;
  }

  /**
   * Refuses a while/do loop whose condition cannot change, as the compiler does: its body assigns
   * no variable declared before it and has no break (and its condition holds), or the variables
   * it assigns hold no numbers or tensors.
   */
  private mayEnd(node: ES.WhileStatement | ES.DoWhileStatement, scope: Scope): void {
    const what = node.type === "DoWhileStatement" ? "do-while" : "while";
    if (breaksOut(node.body, loopLabels.get(node) ?? [])) return;
    const carried = [...assignedNames(node.body)].filter((n) => scope.lookup(n) !== undefined);
    if (carried.length === 0) {
      if (this.condition(node.test, this.eval(node.test, scope))) this.refuse(node, "GRADC1034", [what, NEVER_ENDS_STILL]);
      return;
    }
    if (!carried.some((n) => hasLeaves(scope.lookup(n)!.value))) this.refuse(node, "GRADC1034", [what, NEVER_ENDS_EMPTY]);
  }

  private count(trips: number): void {
    if (trips > limits.loopTrips) throw new Error(`internal: a loop ran more than ${limits.loopTrips} trips`);
  }

  /** A for loop's condition: its bound must not be computed from the inputs (the compiler unrolls or counts it). */
  private bound(test: ES.Expression, scope: Scope): unknown {
    if (test.type === "BinaryExpression") {
      const l = this.eval(test.left, scope);
      const r = this.eval(test.right, scope);
      if (l instanceof Var || r instanceof Var) this.refuse(test, "GRADC1007", ["a value computed at run time"]);
      return this.binary(test, test.operator, l, r);
    }
    return this.eval(test, scope);
  }

  /**
   * Runs a switch as the compiler lowers it (interpret-switch.ts): the discriminant a number or
   * a boolean, the labels numbers known at compile time (or booleans), all of them tested when
   * the discriminant is computed at run time, and up to the first match when it may be known.
   */
  private execSwitch(node: ES.SwitchStatement, outer: Scope): Completion {
    const raw = this.eval(node.discriminant, outer);
    const d = valueOf(raw as Val);
    const what = discriminantProblem(d);
    if (what !== undefined) this.refuse(node.discriminant, "GRADC1050", [what, DISCRIMINANT_FIX]);
    const dRuntime = raw instanceof Var || runtimeNodes.has(node.discriminant);
    const scope = new Scope(outer);
    let taken = -1;
    for (let i = 0; i < node.cases.length; i++) {
      const test = node.cases[i]!.test;
      if (!test) continue;
      const rawLabel = this.eval(test, scope);
      const l = valueOf(rawLabel as Val);
      const lRuntime = rawLabel instanceof Var || runtimeNodes.has(test);
      if (typeof d === "boolean") {
        if (typeof l !== "boolean") this.refuse(test, "GRADC1050", [BOOL_LABEL, BOOL_LABEL_FIX]);
        if (lRuntime && dRuntime) this.refuse(test, "GRADC1050", [BOTH_RUNTIME, BOTH_RUNTIME_FIX]);
      } else if (typeof l !== "number" || lRuntime) this.refuse(test, "GRADC1050", [LABEL_NOT_KNOWN, LABEL_FIX]);
      if (taken < 0 && l === d) {
        taken = i;
        if (!dRuntime) break;
      }
    }
    if (taken < 0) taken = node.cases.findIndex((c) => !c.test);
    if (taken < 0) return undefined;
    // Checked before running: a case with statements ends in break (lowered as nothing), return or continue.
    for (let i = taken; i < node.cases.length; i++) {
      for (const s of node.cases[i]!.consequent) {
        const c = this.exec(s, scope);
        if (c === BREAK) return undefined;
        if (c !== undefined) return c;
      }
    }
    return undefined;
  }

  /** An expression statement: an assignment, an increment or a call (checked before running). */
  private effect(e: ES.Expression, scope: Scope): void {
    if (e.type === "AssignmentExpression") {
      if (e.operator === "=") return this.bind(e.left, this.eval(e.right, scope), scope, "assign");
      const target = e.left as ES.Identifier;
      const op = e.operator.slice(0, -1);
      const value = this.binary(e, op, this.lookup(target, scope), this.eval(e.right, scope), [this.text(e.left, 30), this.text(e.right, 30)], true);
      return this.assign(target, value, scope);
    }
    if (e.type === "UpdateExpression") {
      const target = e.argument as ES.Identifier;
      const old = this.lookup(target, scope);
      const op = e.operator === "++" ? "+" : "-";
      const next = this.binary(e, op, old, 1, [this.text(target, 30), "1"], true);
      return this.assign(target, next, scope);
    }
    if (e.type === "SequenceExpression") return e.expressions.forEach((x) => this.effect(x, scope));
    this.eval(e, scope);
  }

  bind(pattern: ES.Pattern, value: unknown, scope: Scope, kind: "const" | "let" | "assign"): void {
    switch (pattern.type) {
      case "Identifier":
        if (kind === "assign") this.assign(pattern, value, scope);
        else scope.vars.set(pattern.name, { value, mutable: kind === "let" });
        return;
      case "ArrayPattern":
        if (kind === "assign") this.refuse(pattern, "GRADC1001", ["This assignment target", "Assign to a variable."]);
        pattern.elements.forEach((el, i) => {
          if (el === null) return;
          const owner = this.text(pattern);
          if (!Array.isArray(value)) this.refuse(el, "GRADC1001", [`Indexing '${owner}'`, "Only arrays and tuples can be indexed with []; tensors with at(x, i)."]);
          const items = value as unknown[];
          if (i >= items.length) this.refuse(el, "GRADC2006", [`${owner}[${i}]: index ${i} is out of range [0, ${items.length})`]);
          this.bind(el, items[i], scope, kind);
        });
        return;
      case "MemberExpression": {
        let root: ES.Node = pattern;
        while (root.type === "MemberExpression") root = (root as ES.MemberExpression).object;
        const b = root.type === "Identifier" ? scope.lookup((root as ES.Identifier).name) : undefined;
        if (b?.param) this.refuse(pattern, "GRADC1004", [(root as ES.Identifier).name]);
        return this.refuse(pattern, "GRADC1001", ["Assigning to a property or element", "Build a new object or array instead."]);
      }
      case "ObjectPattern":
        if (kind === "assign") this.refuse(pattern, "GRADC1001", ["This assignment target", "Assign to a variable."]);
        for (const prop of pattern.properties as ES.AssignmentProperty[]) {
          const key = this.propertyKey(prop, scope);
          const v = value instanceof Var ? value.value : value;
          if (typeof v !== "object" || v === null || Array.isArray(v) || !Object.prototype.hasOwnProperty.call(v, key)) {
            const keys = typeof v === "object" && v !== null ? Object.keys(v) : [];
            this.refuse(prop, "GRADC1020", [key, this.text(pattern), keys.length > 0 ? `Its fields are: ${keys.join(", ")}.` : "It has no fields."]);
          }
          this.bind(prop.value, (v as Record<string, unknown>)[key], scope, kind);
        }
        return;
      default:
        // Other patterns are refused before running (interpret-language.ts).
        throw new Error(`internal: ${pattern.type} reached the evaluator`);
    }
  }

  private assign(node: ES.Identifier, value: unknown, scope: Scope): void {
    const b = scope.lookup(node.name);
    // Checked before running: the name is a variable declared in the function, with let.
    if (b === undefined || !b.mutable) return this.refuse(node, b === undefined ? "GRADC1011" : "GRADC1001", b === undefined ? [node.name] : ["Assigning to a const", "Declare it with let."]);
    b.value = value;
  }
}
