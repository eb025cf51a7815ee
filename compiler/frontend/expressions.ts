// Expressions → lowered values. Compile-time numbers and booleans fold as they are lowered
// (a condition known at compile time picks its branch here); everything else builds IR.
// Literals, names, operators, `?:`, property and element reads, array and object literals,
// closures; calls are lowered by calls.ts.

import { type Expression, type Identifier, Node, SyntaxKind, ts } from "ts-morph";
import type { Value } from "../ir/types.js";
import { supportedMathText } from "../ops/index.js";
import { call } from "./calls.js";
import { LowerError } from "./errors.js";
import { gradcNamespaceMember } from "./gradc-names.js";
import type { Host } from "./host.js";
import { describeKind, ownerText } from "./lower-support.js";
import { indexError, memberError } from "./members.js";
import { type Region, branchesDiffer, merge, region } from "./merge.js";
import { MATH_CONSTANTS, MATH_FUNCTIONS } from "./opcalls.js";
import { requireNumbers } from "./operands.js";
import { ARITHMETIC, COMPARISONS, OPERATORS_HINT, PREFIX, operator } from "./operators.js";
import { identifier } from "./scopes.js";
import type { Condition, FunctionLike, LV } from "./types.js";

export function expr(h: Host, e: Expression | Node): LV {
  switch (e.getKind()) {
    case SyntaxKind.NumericLiteral:
      // The scanner's text (exponents kept, separators and hex normalized): ts-morph's
      // getLiteralValue reads `1e-12` with parseInt, as 1.
      return { k: "num", n: Number(e.asKindOrThrow(SyntaxKind.NumericLiteral).compilerNode.text) };
    case SyntaxKind.TrueKeyword:
      return { k: "bool", b: true };
    case SyntaxKind.FalseKeyword:
      return { k: "bool", b: false };
    case SyntaxKind.ParenthesizedExpression:
    case SyntaxKind.AsExpression:
    case SyntaxKind.NonNullExpression:
    case SyntaxKind.TypeAssertionExpression:
    case SyntaxKind.SatisfiesExpression:
      return h.expr((e as unknown as { getExpression(): Expression }).getExpression());
    case SyntaxKind.Identifier:
      return identifier(h, e as Identifier);
    case SyntaxKind.PrefixUnaryExpression:
      return prefix(h, e.asKindOrThrow(SyntaxKind.PrefixUnaryExpression));
    case SyntaxKind.BinaryExpression:
      return binary(h, e.asKindOrThrow(SyntaxKind.BinaryExpression));
    case SyntaxKind.ConditionalExpression:
      return conditional(h, e.asKindOrThrow(SyntaxKind.ConditionalExpression));
    case SyntaxKind.CallExpression:
      return call(h, e.asKindOrThrow(SyntaxKind.CallExpression));
    case SyntaxKind.PropertyAccessExpression: {
      const pa = e.asKindOrThrow(SyntaxKind.PropertyAccessExpression);
      const fromGradc = gradcNamespaceMember(pa);
      if (fromGradc) return fromGradc;
      return member(h, h.expr(pa.getExpression()), pa.getName(), pa);
    }
    case SyntaxKind.ElementAccessExpression: {
      const ea = e.asKindOrThrow(SyntaxKind.ElementAccessExpression);
      const obj = h.expr(ea.getExpression());
      const arg = ea.getArgumentExpressionOrThrow();
      if (Node.isStringLiteral(arg) || Node.isNoSubstitutionTemplateLiteral(arg)) return member(h, obj, arg.getLiteralValue(), ea);
      const idx = h.expr(arg);
      if (idx.k !== "num") throw new LowerError("GRADC1014", ea, [ea.getExpression().getText()]);
      return index(obj, idx.n, ea);
    }
    case SyntaxKind.ArrayLiteralExpression:
      return {
        k: "arr",
        items: e.asKindOrThrow(SyntaxKind.ArrayLiteralExpression).getElements().map((el) => {
          if (Node.isSpreadElement(el)) throw new LowerError("GRADC1001", el, ["Spread", "List the elements."]);
          return h.expr(el);
        }),
      };
    case SyntaxKind.ObjectLiteralExpression: {
      const fields = new Map<string, LV>();
      for (const p of e.asKindOrThrow(SyntaxKind.ObjectLiteralExpression).getProperties()) {
        if (Node.isPropertyAssignment(p)) fields.set(p.getName().replace(/^["']|["']$/g, ""), h.expr(p.getInitializerOrThrow()));
        else if (Node.isShorthandPropertyAssignment(p)) fields.set(p.getName(), identifier(h, p.getNameNode()));
        else throw new LowerError("GRADC1001", p, [describeKind(p), "Write each property as key: value."]);
      }
      return { k: "obj", fields };
    }
    case SyntaxKind.ArrowFunction:
    case SyntaxKind.FunctionExpression:
      // A closure: its body sees the variables in scope here, with their values at the call.
      return { k: "fn", decl: e as FunctionLike, scope: h.scope };
    default:
      throw new LowerError("GRADC1001", e, [describeKind(e), "Use arithmetic, Math functions, gradc ops and calls to functions of this program."]);
  }
}

/** `obj.key`: a field, a Math member, an array's length or a tensor's shape. */
export function member(h: Host, obj: LV, key: string, at: Node): LV {
  if (obj.k === "obj") {
    const f = obj.fields.get(key);
    if (f === undefined || !obj.fields.has(key)) throw memberError(obj, key, ownerText(at), at);
    return f;
  }
  if (obj.k === "math") {
    if (Object.hasOwn(MATH_CONSTANTS, key)) return { k: "num", n: MATH_CONSTANTS[key]! };
    const fn = Object.hasOwn(MATH_FUNCTIONS, key) ? MATH_FUNCTIONS[key] : undefined;
    if (!fn) throw new LowerError("GRADC1015", at, [key, supportedMathText()]);
    return { k: "op", call: fn, name: `Math.${key}` };
  }
  if (obj.k === "arr" && key === "length") return { k: "num", n: obj.items.length };
  if (obj.k === "val" && key === "shape" && obj.v.type.shape.length > 0)
    return { k: "arr", items: obj.v.type.shape.map((d) => (typeof d === "number" ? { k: "num", n: d } : { k: "val", v: h.b.op("dim", [], { name: d }) })) };
  throw memberError(obj, key, ownerText(at), at);
}

/** `obj[i]` with `i` known at compile time: an item of an array. */
export function index(obj: LV, i: number, at: Node): LV {
  if (obj.k === "arr") {
    const item = Number.isInteger(i) ? obj.items[i] : undefined;
    if (item === undefined) throw indexError(obj, i, ownerText(at), at);
    return item;
  }
  throw indexError(obj, i, ownerText(at), at);
}

function prefix(h: Host, e: import("ts-morph").PrefixUnaryExpression): LV {
  const x = h.expr(e.getOperand());
  const symbol = ts.tokenToString(e.getOperatorToken());
  const unary = symbol !== undefined && Object.hasOwn(PREFIX, symbol) ? PREFIX[symbol]! : undefined;
  if (unary) {
    if (x.k === "num") return { k: "num", n: unary.fold(x.n) };
    requireNumbers(`unary ${symbol}`, [x], e);
    return { k: "val", v: h.op(unary.op, [h.asValue(x, e)], e) };
  }
  switch (e.getOperatorToken()) {
    case SyntaxKind.PlusToken:
      requireNumbers("unary +", [x], e);
      return x;
    case SyntaxKind.ExclamationToken:
      if (x.k === "bool") return { k: "bool", b: !x.b };
      return { k: "val", v: h.op("not", [boolValue(h, x, e)], e) };
    default:
      throw new LowerError("GRADC1013", e, [symbol ?? "?", OPERATORS_HINT]);
  }
}

function boolValue(h: Host, x: LV, at: Node): Value {
  const v = h.asValue(x, at);
  if (v.type.dtype !== "bool") throw new LowerError("GRADC2005", at, ["a condition must be a comparison or a boolean"]);
  return v;
}

/** Arithmetic (`op` is a symbol of operators.ts, ARITHMETIC) on lowered values, folding compile-time numbers. */
export function arith(h: Host, op: string, x: LV, y: LV, at: Node): LV {
  const { op: name, fold } = operator(ARITHMETIC, op)!;
  if (x.k === "num" && y.k === "num") return { k: "num", n: fold(x.n, y.n) };
  requireNumbers(op, [x, y], at);
  return { k: "val", v: h.op(name, [h.asValue(x, at), h.asValue(y, at)], at) };
}

function binary(h: Host, e: import("ts-morph").BinaryExpression): LV {
  const tok = e.getOperatorToken().getKind();
  const symbol = ts.tokenToString(tok);
  if (operator(ARITHMETIC, symbol)) return arith(h, symbol!, h.expr(e.getLeft()), h.expr(e.getRight()), e);
  const cmp = operator(COMPARISONS, symbol);
  if (cmp) {
    const x = h.expr(e.getLeft());
    const y = h.expr(e.getRight());
    if (x.k === "num" && y.k === "num") return { k: "bool", b: cmp.fold(x.n, y.n) };
    requireNumbers(e.getOperatorToken().getText(), [x, y], e);
    const v = h.op(cmp.op, [h.asValue(x, e), h.asValue(y, e)], e);
    if (v.type.shape.length !== 0)
      throw new LowerError("GRADC2005", e, ["comparisons of tensors are not conditions; use maximum/minimum/relu for elementwise choices"]);
    return { k: "val", v };
  }
  if (tok === SyntaxKind.AmpersandAmpersandToken || tok === SyntaxKind.BarBarToken) {
    const and = tok === SyntaxKind.AmpersandAmpersandToken;
    const x = condition(h, e.getLeft());
    if (x.k === "bool") return x.b === and ? condition(h, e.getRight()) : x;
    const y = condition(h, e.getRight());
    if (y.k === "bool") return y.b === and ? x : y;
    return { k: "val", v: h.op(and ? "and" : "or", [x.v, y.v], e) };
  }
  throw new LowerError("GRADC1013", e, [e.getOperatorToken().getText(), OPERATORS_HINT]);
}

/** A condition: a compile-time boolean or a boolean scalar value. */
export function condition(h: Host, e: Expression): Condition {
  const c = h.expr(e);
  if (c.k === "bool") return c;
  if (c.k === "val" && c.v.type.dtype === "bool" && c.v.type.shape.length === 0) return c;
  throw new LowerError("GRADC2005", e, ["a condition must be a comparison or a boolean"]);
}

function conditional(h: Host, e: import("ts-morph").ConditionalExpression): LV {
  const c = condition(h, e.getCondition());
  if (c.k === "bool") return h.expr(c.b ? e.getWhenTrue() : e.getWhenFalse());
  const [t, f] = [e.getWhenTrue(), e.getWhenFalse()].map((branch) => region(h, branch, () => [h.expr(branch)])) as [Region, Region];
  const [out] = merge(h, e, {
    shapes: [t.yields, f.yields],
    leaves: [t.block.results, f.block.results],
    what: () => "This conditional expression",
    typeMismatch: branchesDiffer,
    build: () => h.b.ifNode(c.v, t.block, f.block),
  });
  return out!;
}
