// What "gradc" exports at run time is the op registry's list plus a fixed set of other things:
// an op exposed in the registry (`gradc: "name"` on its entry, or a composite) without a
// runtime function fails here by name, and so does a runtime export the registry does not know.

import { describe, expect, it } from "vitest";
import { gradcOpNames } from "../../compiler/ops/index.js";
import * as gradc from "../../runtime/index.js";

/** Exports that are not tensor ops: constructors, errors, transformations, checkers, optimizers. */
const NOT_OPS = [
  "GradcError",
  "adam",
  "checkGrad",
  "customVjp",
  "grad",
  "gradcErrorPrelude",
  "isTensor",
  "jvp",
  "ones",
  "randn",
  "sgd",
  "tensor",
  "valueAndGrad",
  "zeros",
];

describe("gradc's runtime exports", () => {
  const exported = Object.keys(gradc);

  it("has a function for every op the registry exposes in gradc", () => {
    const missing = gradcOpNames().filter((n) => typeof (gradc as Record<string, unknown>)[n] !== "function");
    expect(missing, `add to runtime/ops.ts: ${missing.map((n) => `export const ${n} = unary/binary("${n}")`).join("; ")}`).toEqual([]);
  });

  it("exports nothing else than those ops and the listed other names", () => {
    const unknown = exported.filter((n) => !gradcOpNames().includes(n) && !NOT_OPS.includes(n));
    expect(unknown, "an op needs `gradc: name` on its registry entry; anything else belongs in NOT_OPS").toEqual([]);
    expect(NOT_OPS.filter((n) => !exported.includes(n)), "listed in NOT_OPS but not exported").toEqual([]);
  });

  it("the ops and the other names do not overlap", () => {
    expect(NOT_OPS.filter((n) => gradcOpNames().includes(n))).toEqual([]);
  });
});
