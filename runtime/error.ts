// The one error class users see from gradc at run time. Generated modules are standalone and
// cannot import it, so every party (this runtime, each generated module, each bundled copy of
// the runtime) obtains the class from one global slot and defines it only if it is absent:
// `instanceof GradcError` then holds whoever threw.

/** The global slot's key, `Symbol.for` so that separate copies of gradc agree on it. */
const SLOT = "gradc.GradcError";

// The same definition as the prelude below, written in TypeScript so it has a type.
const GradcErrorDefinition = class GradcError extends Error {
  constructor(message?: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "GradcError";
  }
};

const slots = globalThis as unknown as Record<symbol, typeof GradcErrorDefinition | undefined>;

/**
 * The error gradc throws for misuse at run time: a shape that does not fit, a function the
 * fallback cannot interpret, a missing pytree field. Errors thrown by generated code are
 * instances of this same class.
 *
 * @example
 * try { add(zeros([2]), zeros([3])); } catch (e) { if (e instanceof GradcError) console.error(e.message); }
 */
export const GradcError: typeof GradcErrorDefinition = (slots[Symbol.for(SLOT)] ??= GradcErrorDefinition);
/** An instance of {@link GradcError}. */
export type GradcError = InstanceType<typeof GradcErrorDefinition>;

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
