// The one error class users see from gradc at run time. Generated modules are standalone and
// cannot import it, so every party (this runtime, each generated module, each bundled copy of
// the runtime) obtains the class from one global slot and defines it only if it is absent:
// `instanceof GradcError` then holds whoever threw. All of them define it from one place
// (error-source.ts: the class and its source text, held together by a test), so whichever copy
// comes first, the class is the same.

import { GRADC_ERROR_SLOT, GradcErrorClass, gradcErrorBinding } from "./error-source.js";

/** An instance of {@link GradcError}. */
export interface GradcError extends Error {
  readonly name: "GradcError";
}

/**
 * The class of {@link GradcError}. Declared rather than inferred from the class that
 * implements it: the inferred type would carry Node's `Error.captureStackTrace` typings into
 * the published declarations, which must need only the TypeScript standard library.
 */
export interface GradcErrorConstructor {
  new (message?: string): GradcError;
  readonly prototype: GradcError;
}

const slots = globalThis as unknown as Record<symbol, GradcErrorConstructor | undefined>;

/**
 * The error gradc throws for misuse at run time: a shape that does not fit, a function the
 * fallback cannot interpret, a missing pytree field. Errors thrown by generated code are
 * instances of this same class.
 *
 * @example
 * try { add(zeros([2]), zeros([3])); } catch (e) { if (e instanceof GradcError) console.error(e.message); }
 */
export const GradcError: GradcErrorConstructor = (slots[Symbol.for(GRADC_ERROR_SLOT)] ??= GradcErrorClass as unknown as GradcErrorConstructor);

/**
 * The JavaScript source of a one-line statement that binds `GradcError` to the shared class,
 * defining it if no copy of gradc has yet. Code generators paste it into generated modules.
 *
 * @example
 * const source = `${gradcErrorPrelude()}\nexport function f(x) { ... }`;
 */
export function gradcErrorPrelude(): string {
  return gradcErrorBinding("GradcError", { oneLine: true });
}
