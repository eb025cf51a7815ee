// Random scalar programs for property tests, as TypeScript source the compiler accepts: DAGs
// of + - * / (denominators kept away from zero), Math functions on their safe domains,
// fan-out, comparisons in ternaries and if/else, and `let` reassignment. Programs are generated
// as small syntax trees whose variable references are indices, resolved against the variables
// in scope when rendered, so every generated tree renders to a valid program.

import fc from "fast-check";

export type Expr =
  | { readonly k: "var"; readonly i: number }
  | { readonly k: "num"; readonly v: number }
  | { readonly k: "bin"; readonly op: "+" | "-" | "*" | "/"; readonly a: Expr; readonly b: Expr }
  | { readonly k: "fn"; readonly f: UnaryName; readonly a: Expr }
  | { readonly k: "pow"; readonly a: Expr; readonly p: number }
  | { readonly k: "minmax"; readonly f: "max" | "min"; readonly a: Expr; readonly b: Expr }
  | { readonly k: "tern"; readonly cmp: Cmp; readonly a: Expr; readonly b: Expr; readonly t: Expr; readonly e: Expr }
  | { readonly k: "call"; readonly i: number; readonly a: Expr };

type UnaryName = "exp" | "log" | "sqrt" | "tanh" | "sin" | "cos" | "abs" | "neg";
type Cmp = "<" | ">" | "<=" | ">=";

export type Stmt =
  | { readonly k: "const" | "let"; readonly e: Expr }
  | { readonly k: "assign"; readonly target: number; readonly op: "=" | "+=" | "-=" | "*="; readonly e: Expr }
  | { readonly k: "if"; readonly cmp: Cmp; readonly a: Expr; readonly b: Expr; readonly target: number; readonly then: Expr; readonly otherwise: Expr | null }
  /** An early return: `if (a cmp b) { return e; }`. */
  | { readonly k: "return"; readonly cmp: Cmp; readonly a: Expr; readonly b: Expr; readonly e: Expr }
  /** A closure over the variables in scope: `const hN = (t: number): number => e;`. */
  | { readonly k: "closure"; readonly e: Expr }
  /**
   * A loop of more than 16 trips (so it stays a loop), updating a `let` by a contraction
   * (bounded whatever the trip count), with a data-dependent conditional inside.
   */
  | { readonly k: "loop"; readonly trips: number; readonly target: number; readonly cmp: Cmp; readonly a: Expr; readonly b: Expr; readonly then: Expr; readonly otherwise: Expr };

export interface Program {
  readonly arity: number;
  readonly body: readonly Stmt[];
  readonly ret: Expr;
  /** Differentiated parameter positions, in the order the gradients are returned. */
  readonly argnums: readonly number[];
}

const cmp = fc.constantFrom<Cmp>("<", ">", "<=", ">=");

const exprArb: fc.Arbitrary<Expr> = fc.letrec<{ expr: Expr }>((tie) => ({
  expr: fc.oneof(
    { maxDepth: 3, depthSize: "small", withCrossShrink: true },
    fc.record({ k: fc.constant("var" as const), i: fc.nat(50) }),
    fc.record({ k: fc.constant("num" as const), v: fc.constantFrom(0.5, 1, 2, 3, -1.5) }),
    fc.record({ k: fc.constant("bin" as const), op: fc.constantFrom<"+" | "-" | "*" | "/">("+", "-", "*", "/"), a: tie("expr"), b: tie("expr") }),
    fc.record({ k: fc.constant("fn" as const), f: fc.constantFrom<UnaryName>("exp", "log", "sqrt", "tanh", "sin", "cos", "abs", "neg"), a: tie("expr") }),
    fc.record({ k: fc.constant("pow" as const), a: tie("expr"), p: fc.constantFrom(0.5, 2, -1, 1.5) }),
    fc.record({ k: fc.constant("minmax" as const), f: fc.constantFrom<"max" | "min">("max", "min"), a: tie("expr"), b: tie("expr") }),
    fc.record({ k: fc.constant("tern" as const), cmp, a: tie("expr"), b: tie("expr"), t: tie("expr"), e: tie("expr") }),
    fc.record({ k: fc.constant("call" as const), i: fc.nat(10), a: tie("expr") }),
  ),
})).expr;

const stmtArb: fc.Arbitrary<Stmt> = fc.oneof(
  fc.record({ k: fc.constantFrom<"const" | "let">("const", "let"), e: exprArb }),
  fc.record({ k: fc.constant("assign" as const), target: fc.nat(50), op: fc.constantFrom<"=" | "+=" | "-=" | "*=">("=", "+=", "-=", "*="), e: exprArb }),
  fc.record({
    k: fc.constant("if" as const),
    cmp,
    a: exprArb,
    b: exprArb,
    target: fc.nat(50),
    then: exprArb,
    otherwise: fc.option(exprArb, { nil: null }),
  }),
  fc.record({ k: fc.constant("return" as const), cmp, a: exprArb, b: exprArb, e: exprArb }),
  fc.record({ k: fc.constant("closure" as const), e: exprArb }),
  fc.record({
    k: fc.constant("loop" as const),
    trips: fc.integer({ min: 17, max: 40 }),
    target: fc.nat(50),
    cmp,
    a: exprArb,
    b: exprArb,
    then: exprArb,
    otherwise: exprArb,
  }),
);

export const programArb: fc.Arbitrary<Program> = fc
  .record({
    arity: fc.integer({ min: 1, max: 4 }),
    body: fc.array(stmtArb, { minLength: 1, maxLength: 7 }),
    ret: exprArb,
    order: fc.array(fc.nat(3), { minLength: 1, maxLength: 4 }),
  })
  .map(({ arity, body, ret, order }) => {
    // A non-empty list of distinct positions below the arity, in generated order.
    const argnums = [...new Set(order.map((i) => i % arity))];
    return { arity, body, ret, argnums };
  });

/** The TypeScript source of a program as `export function name(x0: number, ...): number`. */
export function render(p: Program, name: string): string {
  const vars: string[] = Array.from({ length: p.arity }, (_x, i) => `x${i}`);
  const lets: string[] = [];
  const closures: string[] = [];
  const pick = (i: number): string => vars[i % vars.length]!;
  const num = (v: number): string => (v < 0 ? `(${v})` : String(v));
  const expr = (e: Expr): string => {
    switch (e.k) {
      case "var":
        return pick(e.i);
      case "num":
        return num(e.v);
      case "bin":
        // Denominators are 1 + b² ≥ 1.
        return e.op === "/" ? `(${expr(e.a)} / (1 + ${sq(e.b)}))` : `(${expr(e.a)} ${e.op} ${expr(e.b)})`;
      case "fn":
        switch (e.f) {
          case "exp":
            return `Math.exp(Math.sin(${expr(e.a)}))`;
          case "log":
            return `Math.log(1 + ${sq(e.a)})`;
          case "sqrt":
            return `Math.sqrt(1 + ${sq(e.a)})`;
          case "neg":
            return `(-${expr(e.a)})`;
          default:
            return `Math.${e.f}(${expr(e.a)})`;
        }
      case "pow":
        return `((1 + ${sq(e.a)}) ** ${e.p})`;
      case "minmax":
        return `Math.${e.f}(${expr(e.a)}, ${expr(e.b)})`;
      case "tern":
        return `(${cond(e.cmp, e.a, e.b)} ? ${expr(e.t)} : ${expr(e.e)})`;
      case "call":
        return closures.length === 0 ? expr(e.a) : `${closures[e.i % closures.length]}(${expr(e.a)})`;
    }
  };
  // \`a < (b > (c) ...\` would parse as a generic call in TypeScript: write a < b as b > a.
  const cond = (c: Cmp, a: Expr, b: Expr): string => (c === "<" ? `${expr(b)} > ${expr(a)}` : `${expr(a)} ${c} ${expr(b)}`);
  const sq = (e: Expr): string => {
    const s = expr(e);
    return `${s} * ${s}`;
  };
  const lines: string[] = [];
  const declared = (): string[] => vars.slice(p.arity);
  for (const s of p.body) {
    if (s.k === "return") {
      lines.push(`  if (${cond(s.cmp, s.a, s.b)}) {`, `    return ${[expr(s.e), ...declared()].join(" + ")};`, "  }");
    } else if (s.k === "closure") {
      // The parameter t is in scope only in the body; the closure reads the others as they are at the call.
      vars.push("t");
      const body = expr(s.e);
      vars.pop();
      const h = `h${closures.length}`;
      lines.push(`  const ${h} = (t: number): number => ${body};`);
      closures.push(h);
    } else if (s.k === "const" || s.k === "let" || lets.length === 0) {
      const e = s.k === "if" || s.k === "loop" ? s.then : s.e;
      const v = `v${vars.length - p.arity}`;
      const kind = s.k === "const" ? "const" : "let";
      lines.push(`  ${kind} ${v} = ${expr(e)};`);
      vars.push(v);
      if (kind === "let") lets.push(v);
    } else if (s.k === "loop") {
      const t = lets[s.target % lets.length]!;
      vars.push("i");
      lines.push(
        `  for (let i = 0; i < ${s.trips}; i++) {`,
        `    if (${cond(s.cmp, s.a, s.b)}) {`,
        `      ${t} = 0.9 * ${t} + 0.1 * Math.tanh(${expr(s.then)} + i * 0.01);`,
        "    } else {",
        `      ${t} = 0.8 * ${t} + 0.2 * Math.sin(${expr(s.otherwise)});`,
        "    }",
        "  }",
      );
      vars.pop();
    } else if (s.k === "assign") {
      lines.push(`  ${lets[s.target % lets.length]} ${s.op} ${expr(s.e)};`);
    } else if (s.k === "if") {
      const t = lets[s.target % lets.length]!;
      lines.push(`  if (${cond(s.cmp, s.a, s.b)}) {`, `    ${t} = ${expr(s.then)};`);
      if (s.otherwise) lines.push("  } else {", `    ${t} = ${expr(s.otherwise)};`);
      lines.push("  }");
    }
  }
  // Every variable reaches the output, so no statement is dead on arrival.
  lines.push(`  return ${[expr(p.ret), ...declared()].join(" + ")};`);
  const params = Array.from({ length: p.arity }, (_x, i) => `x${i}: number`).join(", ");
  return `export function ${name}(${params}): number {\n${lines.join("\n")}\n}\n`;
}
