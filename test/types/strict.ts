// The settings a user's strictest project checks with, shared by the tests that type-check what
// gradc publishes (consumer.test.ts: the packed declarations, with the real `tsc`) and what it
// generates (generated.test.ts: every `.grad.ts` and `.grad.d.ts`, with ts-morph). Both must
// hold under the same flags, so the flags live here once.

/**
 * tsc's strictest checks, library files checked too (`skipLibCheck: false`) and no ambient
 * `@types` packages: the published declarations may lean only on TypeScript's own library.
 * Written as tsconfig `compilerOptions`; target, module and lib are each test's own.
 */
export const STRICT_CHECKS = {
  strict: true,
  noImplicitAny: true,
  noUncheckedIndexedAccess: true,
  exactOptionalPropertyTypes: true,
  noImplicitReturns: true,
  skipLibCheck: false,
  noEmit: true,
  types: [] as string[],
};
