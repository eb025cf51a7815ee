// The one table of diagnostics. Codes are stable: tests, docs and users' CI refer to them.
// 1xxx: constructs the compiler does not accept; 2xxx: shapes and types; 3xxx: usage.

/** Every diagnostic's message by code; `{0}`, `{1}`… are filled in with the particulars. */
export const MESSAGES = {
  GRADC1000: "Syntax error: {0}",
  GRADC1001: "{0} is not supported in a differentiable function. {1}",
  GRADC1002: "'{0}' loops are not supported in a differentiable function. Write a 'for', 'while' or 'do' loop.",
  GRADC1003: "Cannot differentiate through '{0}': it is not a gradc op, a Math function, or a function of this program. Write it in TypeScript in this program, or use a gradc op.",
  GRADC1004: "Parameter '{0}' is mutated. Differentiable functions must not mutate their inputs: compute a new value instead.",
  GRADC1005: "A differentiable function must return a number (a scalar loss), but this returns {0}. Reduce it with sum(...) or mean(...).",
  GRADC1006: "Parameter '{0}' has type '{1}', which gradc cannot lay out. Use number, Tensor<[...]>, or objects, tuples and fixed-length arrays of them.",
  GRADC1007: "The bound of this loop must be a constant or a symbolic dimension, not {0}.",
  GRADC1008: "The argument of {0}(...) must be a function declared in this program (a function declaration or a const arrow function).",
  GRADC1009: "argnums must be a number or an array of numbers literal, each a parameter position below {0}; got {1}.",
  GRADC1010: "'{0}' calls itself. Recursion cannot be inlined: write the iteration as a 'for' loop.",
  GRADC1011: "'{0}' is not defined here, or is used before it is assigned. Declare it (with a value) before this use, or pass it as a parameter.",
  GRADC1012: "Not every path through '{0}' returns a value. Add a return at the end.",
  GRADC1013: "The operator '{0}' is not supported in a differentiable function. {1}",
  GRADC1014: "Index into '{0}' must be known at compile time: a constant, or the counter of a loop of at most 16 constant trips (which is unrolled). For a tensor, use at(x, i), whose index may be computed at run time.",
  GRADC1015: "Math.{0} is not supported. Supported: {1}.",
  GRADC1016: "'{0}' is not supported in a differentiable function: {1}.",
  GRADC1017: "{0} takes values of different kinds on the two branches of a conditional (say a number on one, an array or nothing on the other). Give it the same structure on both.",
  GRADC1018: "A 'return' inside a loop is not supported. Assign to a variable declared before the loop and return after it.",
  GRADC1019: "'{0}' takes {1} argument(s), got {2}. Pass {1}.",
  GRADC1020: "'{0}' does not exist on '{1}'. {2}",
  GRADC1021: "{0} is nested too deeply to compile. Break it up: assign intermediate results to 'const' variables.",
  GRADC1023: "'{0}' grows past {1} operations once calls are inlined and short loops unrolled. Write repeated work as a 'for' loop of more than 16 trips, which stays a loop instead of being copied.",
  GRADC1022: "'{0}' destructures the function {1}(...) returns. Bind it to one name: const g = {1}(f).",
  GRADC1024: "'{0}' is not a transformation gradc compiles, so this binding would not be compiled. Use grad(f, { argnums }), valueAndGrad(f, { argnums }) or jvp(f, { argnums }).",
  GRADC1025: "'{0}' is not an option of {1}(...). Its options are argnums (the arguments to differentiate), hasAux (f returns [loss, aux]; grad and valueAndGrad), reuse (results overwritten in place) and scope (names for the uncompiled fallback).",
  GRADC1026: "The option '{0}' of {1}(...) is not supported by the compiler yet. Remove it: {2}",
  GRADC1027: "{0} takes numbers, but '{1}' is a tensor of shape {2}. {3}",
  GRADC1028: "'{0}' from gradc cannot be used inside a differentiable function. {1}",
  GRADC1029: "'{1}.{0}' exists, but gradc does not support it in a differentiable function. {2}",
  GRADC1030: "This loop over a symbolic dimension is not supported: {0}.",
  GRADC1031: "Reverse-mode differentiation of a gradient computed through a while loop is not supported. Write the second derivative as forward over reverse, jvp(grad(f)), which keeps the loops rolled.",
  GRADC1032: "{0}(...) inside a differentiable function: {1}",
  GRADC1033: "customVjp: {0}",
  GRADC1034: "This '{0}' loop never ends: {1}. Assign in the body a variable the condition reads, or leave the loop with break.",
  GRADC1040: "The option '{0}' of {1}(...) must be written true or false, so the compiler knows what the function returns; got {2}.",
  GRADC1041: "With hasAux, '{0}' must return a pair [loss, aux] (a number and any structure of numbers and tensors), but this returns {1}.",
  GRADC1042: "The auxiliary value of '{0}' may hold only numbers and tensors (in objects and arrays), but {1} is {2}.",
  GRADC1050: "This switch statement is not supported: {0}. {1}",
  GRADC2001: "Shapes do not broadcast: {0}. Aligned from the last axis, each pair of dimensions must be equal or one of them 1; reshape or transpose an operand.",
  GRADC2002: "Matrix product shape mismatch: {0}. matmul multiplies [..., M, K] by [..., K, N]: the inner dimensions must be equal (transpose an operand if needed).",
  GRADC2003: "Bad axis: {0}. Axes count from 0 (or from -1 at the end) and stay below the rank.",
  GRADC2004: "Bad reshape: {0}. The new shape must hold as many elements as the old; at most one dimension may be -1 (inferred).",
  GRADC2005: "Type mismatch: {0}.",
  GRADC2006: "Index out of range: {0}. Indices count from 0 and stay below the dimension's size; negative indices are not supported.",
  GRADC2007: "Bad window: {0}. conv2d takes x [N, C, H, W] and w [O, C, KH, KW], pooling takes [N, C, H, W]; the window (with its padding) must fit in the input.",
  GRADC2008: "Shapes do not fit: {0}. concat and stack join tensors of one dtype that agree on every other axis; slice takes 0 ≤ start ≤ end ≤ size on each axis.",
  GRADC2009: "argnums selects '{0}', but {1} is an i32 tensor: labels and indices are integers and have no gradient. Leave it out of argnums (pass it as a further argument).",
  GRADC3001: "Cannot read file '{0}'.",
} as const;

/** A diagnostic code such as `GRADC1002`: a key of `MESSAGES`. */
export type DiagnosticCode = keyof typeof MESSAGES;

export function formatMessage(code: DiagnosticCode, args: readonly (string | number)[]): string {
  return MESSAGES[code].replace(/\{(\d+)\}/g, (_m, i: string) => String(args[Number(i)] ?? "")).trim();
}
