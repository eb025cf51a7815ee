// The vocabulary of lowering, shared by every frontend module: lowered values (LV), the
// variables a body declares and the scopes they live in. No logic beyond that, so any module
// (and the op-call table in opcalls.ts) may import it without pulling in the lowering itself.

import { Node } from "ts-morph";
import type { IRBuilder } from "../ir/builder.js";
import type { Dim, Value } from "../ir/types.js";

/** A lowered expression: an IR value, a compile-time constant, a structure, or a callee. */
export type LV =
  | { readonly k: "val"; readonly v: Value }
  | { readonly k: "num"; readonly n: number }
  | { readonly k: "bool"; readonly b: boolean }
  | { readonly k: "obj"; readonly fields: ReadonlyMap<string, LV> }
  | { readonly k: "arr"; readonly items: readonly LV[] }
  | { readonly k: "fn"; readonly decl: FunctionLike; readonly scope?: Scope }
  | { readonly k: "op"; readonly call: OpCall; readonly name: string }
  | { readonly k: "math" }
  /** A string literal argument of an op that reads one (`zeros([3], "f32")`). */
  | { readonly k: "str"; readonly s: string }
  /** A transformation of gradc (`grad`), a transformed function (`grad(f)`), a `customVjp` function. */
  | { readonly k: "transform"; readonly name: TransformName }
  | { readonly k: "transformed"; readonly name: "grad" | "valueAndGrad" | "jvp"; readonly fn: LV; readonly argnums: readonly number[]; readonly isArray: boolean }
  | { readonly k: "custom"; readonly f: LV; readonly vjp: LV }
  /** What a variable holds after the statement computing it failed (see statements.ts, recover). */
  | { readonly k: "poison" }
  | { readonly k: "undefined" };

export type TransformName = "grad" | "valueAndGrad" | "jvp" | "customVjp";

/** A condition: a compile-time boolean or a boolean scalar value. */
export type Condition = { k: "bool"; b: boolean } | { k: "val"; v: Value };

export const POISON: LV = { k: "poison" };

export type FunctionLike =
  | import("ts-morph").FunctionDeclaration
  | import("ts-morph").ArrowFunction
  | import("ts-morph").FunctionExpression;

export const isFunctionLike = (n: Node | undefined): n is FunctionLike =>
  n !== undefined && (Node.isFunctionDeclaration(n) || Node.isArrowFunction(n) || Node.isFunctionExpression(n));

export interface Var {
  readonly name: string;
  readonly isParam: boolean;
  readonly mutable: boolean;
}

export class Scope {
  private vars = new Map<string, Var>();
  constructor(readonly parent: Scope | undefined) {}
  declare(v: Var): void {
    this.vars.set(v.name, v);
  }
  lookup(name: string): Var | undefined {
    return this.vars.get(name) ?? this.parent?.lookup(name);
  }
}

/** Names an IR value after the variable that first holds it (what IR dumps and codegen show). */
export function nameValue(lv: LV, name: string): void {
  if (lv.k === "val" && lv.v.name === undefined) lv.v.name = name;
}

/** What an op call's lowering (opcalls.ts) may use of the lowering around it. */
export interface OpCallContext {
  readonly b: IRBuilder;
  /** Materializes a lowered value (compile-time numbers become constants). */
  value(lv: LV): Value;
  /** Folds a Math function over compile-time numbers, if all are. */
  fold(mathName: string, xs: readonly LV[]): LV | undefined;
  fail(message: string): Error;
  /** A located GRADC2006 for an index the compiler knows to be out of range. */
  failIndex(message: string): Error;
  /** What is wrong with index `i` into a leading dimension `n`, when the compiler can tell. */
  indexProblem(i: Value, n: Dim): string | undefined;
}

/** How a call to a gradc op or a Math function lowers (the tables are in opcalls.ts). */
export interface OpCall {
  /** Math functions take numbers only: a tensor there is refused, naming the gradc op. */
  readonly numbersOnly?: boolean;
  readonly minArgs: number;
  readonly maxArgs: number;
  lower(ctx: OpCallContext, args: readonly LV[]): LV;
}
