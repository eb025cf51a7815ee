// Expressions of the compiler's language on traced values: arithmetic records ops on the tape,
// comparisons and conditions read plain values (they carry no gradient), and property and
// element reads take what the compiler takes (fields, items at constant indices, `.length`,
// `.shape`, Math's functions and constants), refusing the rest with the compiler's codes.

import type * as ES from "acorn";
import { type ElementwiseOp, type OpDef, arithmeticOperators, comparisonOperators, prefixOperators } from "../compiler/ops/index.js";
import type { Val } from "../compiler/ops/values.js";
import { Calls } from "./interpret-calls.js";
import { type Expr, SHORT_CIRCUIT } from "./interpret-core.js";
import { GRADC, MATH, MATH_CONSTANTS, type Scope, TRANSFORMS, UNRESOLVED, resolveFree } from "./interpret-names.js";
import { Var, apply } from "./tape.js";
import { isTensor } from "./tensor.js";

/** The arithmetic operators on numbers → their registry op (ops/exposure.ts), as the compiler's. */
const ARITHMETIC: Readonly<Record<string, OpDef>> = Object.fromEntries(arithmeticOperators());
/** The gradc op to write instead of an operator on a tensor (the compiler's suggestion). */
const TENSOR_OP: Readonly<Record<string, string>> = Object.fromEntries(
  [...arithmeticOperators()].flatMap(([symbol, def]) => (def.gradc === undefined ? [] : [[symbol, def.gradc]])),
);
/** Comparisons of numbers, by their registry op's scalar rule (1 for true). */
const COMPARE: Readonly<Record<string, (a: number, b: number) => boolean>> = Object.fromEntries(
  [...comparisonOperators()].map(([symbol, def]) => [symbol, (a: number, b: number) => (def as ElementwiseOp).scalar(a, b) !== 0]),
);
const ITERATING = new Set(["forEach", "map", "reduce", "reduceRight", "filter", "some", "every", "find", "findIndex", "flatMap", "entries", "keys", "values"]);
/** Unary minus: the registry's prefix `-`. */
const NEG = prefixOperators().get("-")!;

/** The value under a traced one. */
const plain = (v: unknown): unknown => (v instanceof Var ? v.value : v);

export abstract class Expressions extends Calls {
  eval(node: Expr, scope: Scope): unknown {
    switch (node.type) {
      case "Literal":
        return node.value;
      case "Identifier":
        return this.lookup(node, scope);
      case "BinaryExpression":
        return this.binary(node, node.operator, this.eval(node.left, scope), this.eval(node.right, scope));
      case "UnaryExpression":
        return this.unary(node, this.eval(node.argument, scope));
      case "LogicalExpression": {
        const left = this.condition(node.left, this.eval(node.left, scope));
        if (left === (node.operator === "&&")) return this.condition(node.right, this.eval(node.right, scope));
        return left;
      }
      case "ConditionalExpression":
        return this.condition(node.test, this.eval(node.test, scope)) ? this.eval(node.consequent, scope) : this.eval(node.alternate, scope);
      case "CallExpression":
        return this.callExpression(node, scope);
      case "MemberExpression": {
        const object = this.evalObject(node, scope);
        if ((object === null || object === undefined) && node.optional) throw SHORT_CIRCUIT;
        return this.member(node, object, scope);
      }
      case "ChainExpression":
        try {
          return this.eval(node.expression, scope);
        } catch (e) {
          if (e === SHORT_CIRCUIT) return undefined;
          throw e;
        }
      case "ArrayExpression":
        return node.elements.map((el) => this.eval(el as ES.Expression, scope));
      case "ObjectExpression": {
        const out: Record<string, unknown> = {};
        for (const p of node.properties as ES.Property[]) out[this.propertyKey(p, scope)] = this.eval(p.value as ES.Expression, scope);
        return out;
      }
      case "FunctionExpression":
      case "ArrowFunctionExpression":
        return this.closure(node, scope);
      default:
        // Refused before running (interpret-language.ts).
        throw new Error(`internal: ${node.type} reached the evaluator`);
    }
  }

  /** A condition's value: a boolean (a comparison, or a combination of them), as the compiler requires. */
  protected condition(node: ES.Node, v: unknown): boolean {
    if (typeof v !== "boolean") this.refuse(node, "GRADC2005", ["a condition must be a comparison or a boolean"]);
    return v as boolean;
  }

  protected propertyKey(p: ES.Property | ES.AssignmentProperty, scope: Scope): string {
    if (p.computed) return String(plain(this.eval(p.key as ES.Expression, scope)));
    return p.key.type === "Identifier" ? p.key.name : String((p.key as ES.Literal).value);
  }

  /** The object of a member expression; an unknown namespace (`X.add`) resolves specially. */
  protected evalObject(node: ES.MemberExpression, scope: Scope): unknown {
    const obj = node.object;
    if (obj.type === "Identifier" && scope.lookup(obj.name) === undefined && resolveFree(obj.name, this.scope) === UNRESOLVED && !node.computed) {
      // A global of JavaScript outside the language (Date.now, JSON.parse): the compiler's GRADC1003.
      if (obj.name in globalThis) this.refuse(obj, "GRADC1003", [obj.name]);
      // Bundlers and vitest rewrite `import { add } from "gradc"` into `X.add`/`(0, X.add)(…)`
      // for a namespace X we cannot see: take the property as the imported name.
      const key = (node.property as ES.Identifier).name;
      if (Object.prototype.hasOwnProperty.call(GRADC, key)) return GRADC;
      if (Object.prototype.hasOwnProperty.call(TRANSFORMS, key)) return TRANSFORMS;
      if (Object.prototype.hasOwnProperty.call(this.scope, key)) return this.scope;
      this.unresolved(node, key);
    }
    return this.eval(obj as ES.Expression, scope);
  }

  /** `object.key` or `object[index]`, as the compiler reads them. */
  protected member(node: ES.MemberExpression, object: unknown, scope: Scope): unknown {
    if (!node.computed) return this.field(node, object, (node.property as ES.Identifier).name);
    if (node.property.type === "Literal" && typeof node.property.value === "string") return this.field(node, object, node.property.value);
    const owner = this.text(node.object);
    const index = this.eval(node.property as ES.Expression, scope);
    // Only a number known at compile time indexes an array; a traced one is computed at run time.
    if (typeof index !== "number") this.refuse(node, "GRADC1014", [owner]);
    const i = index as number;
    if (Array.isArray(object)) {
      if (!Number.isInteger(i) || i < 0 || i >= object.length)
        this.refuse(node, "GRADC2006", [`${owner}[${i}]: index ${i} is out of range [0, ${object.length})`]);
      return object[i];
    }
    if (isTensor(plain(object))) this.refuse(node, "GRADC1001", ["Indexing a tensor with []", `Use at(${owner}, ${i}) for the slice ${i} along the first axis.`]);
    return this.refuse(node, "GRADC1001", [`Indexing '${owner}'`, "Only arrays and tuples can be indexed with []; tensors with at(x, i)."]);
  }

  private field(node: ES.MemberExpression, object: unknown, key: string): unknown {
    const owner = this.text(node.object);
    if (object === Math) {
      if (MATH_CONSTANTS.has(key)) return (Math as unknown as Record<string, number>)[key];
      const fn = (Math as unknown as Record<string, unknown>)[key];
      if (MATH.has(fn)) return fn;
      return this.refuse(node, "GRADC1015", [key]);
    }
    if (object === GRADC || object === TRANSFORMS || object === this.scope) return this.reached(node, (object as Record<string, unknown>)[key]);
    const v = plain(object);
    let suggestion = "";
    let exists = false;
    if (Array.isArray(v)) {
      if (key === "length") return v.length;
      suggestion = ITERATING.has(key)
        ? `Loop over it instead: for (const item of ${owner}) { ... }.`
        : `Arrays are read-only here: read items with ${owner}[0] and ${owner}.length, and build new arrays as literals.`;
      exists = key in Array.prototype;
    } else if (isTensor(v)) {
      if (key === "shape" && v.shape.length > 0) return [...v.shape];
      suggestion =
        key === "data"
          ? `Read elements with at(${owner}, i) and compute with gradc ops (sum, mul, ...); the data array itself is not differentiable.`
          : "A tensor offers shape here; compute with gradc ops (add, mul, sum, ...).";
      exists = key in v;
    } else if (typeof v === "number") {
      suggestion = "Numbers offer no methods here; use arithmetic and Math functions.";
      exists = key in Number.prototype;
    } else if (typeof v === "object" && v !== null) {
      if (Object.prototype.hasOwnProperty.call(v, key)) return this.reached(node, (v as Record<string, unknown>)[key]);
      const keys = Object.keys(v);
      suggestion = keys.length > 0 ? `Its fields are: ${keys.join(", ")}.` : "It has no fields.";
    } else if (v !== null && v !== undefined) {
      exists = key in Object(v);
    }
    return this.refuse(node, exists ? "GRADC1029" : "GRADC1020", [key, owner, suggestion]);
  }

  /** Refuses a tensor operand of a JS operator, naming the gradc op to use. */
  private numbers(node: ES.Node, what: string, operands: readonly unknown[], texts: readonly string[], assigns: boolean): void {
    const k = operands.findIndex((x) => isTensor(plain(x)));
    if (k < 0) return;
    const shape = `[${(plain(operands[k]) as { shape: number[] }).shape.join(", ")}]`;
    const kind = `The operator '${what}'`;
    let instead: string;
    if (COMPARE[what] !== undefined)
      instead = "Compare numbers (a reduction such as sum(x), or an element at(x, i)); for elementwise choices use maximum, minimum or relu.";
    else if (what === "unary +") instead = `Remove the '+': ${texts[0]} is already a tensor.`;
    else if (what === "unary -") instead = `Write neg(${texts[0]}).`;
    else if (TENSOR_OP[what] === undefined) instead = `gradc has no tensor op for ${what}: apply it to numbers, e.g. to each element at(x, i).`;
    else {
      const call = `${TENSOR_OP[what]}(${texts.join(", ")})`;
      instead = assigns ? `Write ${texts[0]} = ${call}.` : `Write ${call}.`;
    }
    this.refuse(node, "GRADC1027", [what.startsWith("unary ") ? `The operator '${what.slice(6)}'` : kind, texts[k] ?? "an operand", shape, instead]);
  }

  protected unary(node: ES.UnaryExpression, v: unknown): unknown {
    if (node.operator === "!") return !this.condition(node.argument, v);
    this.numbers(node, `unary ${node.operator}`, [v], [this.text(node.argument, 30)], false);
    this.number(node, v);
    if (node.operator === "+") return v;
    return v instanceof Var ? apply(NEG, [v]) : -(v as number);
  }

  /** An operand of arithmetic must be a number (traced or not). */
  private number(node: ES.Node, v: unknown): void {
    if (typeof v !== "number" && !(v instanceof Var))
      this.refuse(node, "GRADC2005", [`expected a number or a tensor, got ${Array.isArray(v) || (typeof v === "object" && v !== null) ? "an object or array" : typeof v === "boolean" ? "a boolean" : typeof v === "function" ? "a function" : String(v)}`]);
  }

  /** `l op r` for an arithmetic operator or a comparison. `texts`: the operands' source, for messages. */
  protected binary(node: ES.Node, op: string, l: unknown, r: unknown, texts?: readonly string[], assigns = false): unknown {
    const b = node as ES.BinaryExpression;
    const words = texts ?? [this.text(b.left, 30), this.text(b.right, 30)];
    this.numbers(node, op, [l, r], words, assigns);
    const compare = COMPARE[op];
    if (compare !== undefined) return compare(plain(l) as number, plain(r) as number);
    this.number(node, l);
    this.number(node, r);
    const def = ARITHMETIC[op]!;
    if (!(l instanceof Var) && !(r instanceof Var)) return (def as ElementwiseOp).scalar(l as number, r as number);
    return apply(def, [l as Val | Var, r as Val | Var]);
  }
}

