// Which elementwise ops the generated code writes as a call (`Math.exp(x)`, `Math.max(x, 0)`):
// their operands need no parentheses, and the result is atomic where it is used. The one place codegen asks this, so that the answer can move onto the op's registry
// entry without touching the emitters.

const CALL_FORM = new Set(["exp", "log", "sqrt", "tanh", "sin", "cos", "abs", "sign", "maximum", "minimum", "relu"]);

/** True when `op`'s emitted expression is a call or otherwise self-delimiting. */
export function isCallForm(op: string): boolean {
  return CALL_FORM.has(op);
}
