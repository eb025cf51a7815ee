// Code generation failures are compiler bugs or unsupported IR, never user errors: the
// frontend rejects what codegen cannot handle before it gets here.
export class CodegenError extends Error {}
