// The evaluator's base: where the running function is (for messages), how names resolve, and
// how it refuses. A refusal is the compiler's: the same GRADC code and message text for the same
// mistake, placed by function and line instead of file and column. The evaluator is split by job
// into layers over this one: calls (interpret-calls.ts), expressions (interpret-expressions.ts)
// and statements (interpret-statements.ts).

import type * as ES from "acorn";
import type { DiagnosticCode } from "../compiler/diagnostics/messages.js";
import { COMPILE_HINT, looksMinified, minifiedSourceError } from "./bundled.js";
import { GRADC_ELSEWHERE, type Scope, UNRESOLVED, elsewhere, resolveFree } from "./interpret-names.js";
import type { FunctionNode, ParsedFunction } from "./interpret-parse.js";
import { refusal } from "./refusal.js";

export const BREAK = { kind: "break" } as const;
/** A labelled break: it names a loop, so it leaves a switch it is written in. */
export const BREAK_LOOP = { kind: "break-loop" } as const;
export const CONTINUE = { kind: "continue" } as const;
export class Return {
  constructor(readonly value: unknown) {}
}
/** How a statement ended: normally (undefined), or by break, continue or return. */
export type Completion = typeof BREAK | typeof BREAK_LOOP | typeof CONTINUE | Return | undefined;

/** Thrown inside an optional chain (`a?.b.c`) to short-circuit to undefined. */
export const SHORT_CIRCUIT = Symbol("short-circuit");

export type Expr = ES.Expression | ES.Super | ES.PrivateIdentifier | ES.SpreadElement;

export abstract class Core {
  /** Source of the function running now, for error locations. */
  protected current: ParsedFunction | null = null;
  /** Functions being run, outermost first: one already running is recursion. */
  protected readonly running: FunctionNode[] = [];

  constructor(protected readonly scope: Readonly<Record<string, unknown>> = {}) {}

  abstract eval(node: Expr, scope: Scope): unknown;
  abstract exec(node: ES.Statement, scope: Scope): Completion;
  abstract execBlockBody(body: readonly ES.Statement[], scope: Scope): Completion;
  abstract bind(pattern: ES.Pattern, value: unknown, scope: Scope, kind: "const" | "let" | "assign"): void;

  /** Refuses the model as the compiler would: `code` with its message arguments, at `node`. */
  refuse(node: ES.Node, code: DiagnosticCode, args: readonly (string | number)[], hint?: string): never {
    if (this.current !== null && looksMinified(this.current.source)) throw minifiedSourceError();
    throw refusal(code, args, this.where(node), hint);
  }

  protected where(node: ES.Node): string {
    const fn = this.current;
    if (fn === null) return "in the differentiated function";
    const pos = Math.max(0, node.start - fn.offset);
    const before = fn.source.slice(0, pos);
    const line = before.split("\n").length;
    const col = pos - before.lastIndexOf("\n");
    return `in ${fn.name}, line ${line}:${col} of its source`;
  }

  /** A node's source text, shortened to `max` characters as the compiler's messages do. */
  protected text(node: ES.Node, max = 40): string {
    const fn = this.current;
    if (fn === null) return "";
    const t = fn.source.slice(node.start - fn.offset, node.end - fn.offset);
    return t.length > max ? `${t.slice(0, max - 3)}...` : t;
  }

  /** A free identifier, refused as the compiler refuses it when nothing within reach defines it. */
  protected resolve(node: ES.Identifier): unknown {
    const v = resolveFree(node.name, this.scope);
    if (v === UNRESOLVED) this.unresolved(node, node.name);
    return this.reached(node, v);
  }

  /** A value read by name or as a field: a gradc export that is not an op is refused where it is reached. */
  protected reached(node: ES.Node, v: unknown): unknown {
    const name = elsewhere.get(v);
    if (name !== undefined) this.refuse(node, "GRADC1028", [name, GRADC_ELSEWHERE[name]!]);
    return v;
  }

  protected unresolved(node: ES.Node, name: string): never {
    if (Object.prototype.hasOwnProperty.call(GRADC_ELSEWHERE, name)) this.refuse(node, "GRADC1028", [name, GRADC_ELSEWHERE[name]!]);
    // A global of JavaScript outside the language (Number, console, JSON, …).
    if (name in globalThis) this.refuse(node, "GRADC1003", [name]);
    const short = name.replace(/^.*\./, "");
    this.refuse(
      node,
      "GRADC1011",
      [name],
      `Uncompiled, grad reads only the function's own source: if '${short}' is a function or constant of the module, ` +
        `pass it, as in grad(f, { scope: { ${short} } }), or ${COMPILE_HINT}.`,
    );
  }

  protected lookup(node: ES.Identifier, scope: Scope): unknown {
    const b = scope.lookup(node.name);
    if (b === undefined) return this.resolve(node);
    // Declared without a value, or assigned undefined: the compiler has nothing to read.
    if (b.value === undefined) this.refuse(node, "GRADC1011", [node.name]);
    return b.value;
  }
}
