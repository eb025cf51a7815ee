// The one definition of GradcError: the class the runtime uses (runtime/error.ts) and, beside
// it, its source text that code generators embed in every generated module; all of them store
// the class in one global slot and define it only when the slot is empty, so `instanceof
// GradcError` holds whichever copy (runtime, generated module, bundled runtime) threw.
// Kept free of imports: the compiler reads it without loading the runtime.

/** The global slot's key, for `Symbol.for`, so that separate copies of gradc agree on it. */
export const GRADC_ERROR_SLOT = "gradc.GradcError";

/**
 * The class itself, for the runtime. Defined as code rather than evaluated from the text below,
 * so that importing gradc works under a Content-Security-Policy that forbids `eval`; a test
 * (test/layering/imports.test.ts) holds the text to this definition.
 */
export const GradcErrorClass = class GradcError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "GradcError";
  }
};

/** The class's source text. Its exact text is part of every generated module (fixtures pin it). */
export const GRADC_ERROR_CLASS = `class GradcError extends Error {
  constructor(message) {
    super(message);
    this.name = "GradcError";
  }
}`;

/**
 * A statement binding `name` to the shared class, defining it first if the slot is empty.
 * `oneLine` collapses the class onto one line (for a prelude pasted before other code).
 */
export function gradcErrorBinding(name: string, options: { ts?: boolean; oneLine?: boolean } = {}): string {
  const global = options.ts ? "(globalThis as any)" : "globalThis";
  const cls = options.ts ? GRADC_ERROR_CLASS.replace("constructor(message) {", "constructor(message: string) {") : GRADC_ERROR_CLASS;
  const text = `const ${name} = (${global}[Symbol.for(${JSON.stringify(GRADC_ERROR_SLOT)})] ??= ${cls});`;
  return options.oneLine ? text.replace(/\n\s*/g, " ") : text;
}
