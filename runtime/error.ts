// The one error class users see from gradc at run time. Generated modules are standalone and
// cannot import it, so every party (this runtime, each generated module, each bundled copy of
// the runtime) obtains the class from one global slot and defines it only if it is absent:
// `instanceof GradcError` then holds whoever threw.

/** The global slot's key, `Symbol.for` so that separate copies of gradc agree on it. */
const SLOT = "gradc.GradcError";

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
  new (message?: string, options?: { cause?: unknown }): GradcError;
  readonly prototype: GradcError;
}

// The same definition as the prelude below, written in TypeScript so it has a type.
const GradcErrorDefinition: GradcErrorConstructor = class GradcError extends Error {
  override readonly name = "GradcError";
  constructor(message?: string, options?: { cause?: unknown }) {
    super(message, options);
  }
};

const slots = globalThis as unknown as Record<symbol, GradcErrorConstructor | undefined>;

/**
 * The error gradc throws for misuse at run time: a shape that does not fit, a function the
 * fallback cannot interpret, a missing pytree field. Errors thrown by generated code are
 * instances of this same class.
 *
 * @example
 * try { add(zeros([2]), zeros([3])); } catch (e) { if (e instanceof GradcError) console.error(e.message); }
 */
export const GradcError: GradcErrorConstructor = (slots[Symbol.for(SLOT)] ??= GradcErrorDefinition);

/**
 * The JavaScript source of a one-line statement that binds `GradcError` to the shared class,
 * defining it if no copy of gradc has yet. Code generators paste it into generated modules.
 *
 * @example
 * const source = `${gradcErrorPrelude()}\nexport function f(x) { ... }`;
 */
export function gradcErrorPrelude(): string {
  return (
    `const GradcError = (globalThis[Symbol.for(${JSON.stringify(SLOT)})] ??= ` +
    `class GradcError extends Error { constructor(message, options) { super(message, options); this.name = "GradcError"; } });`
  );
}
