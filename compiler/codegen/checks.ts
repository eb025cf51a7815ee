// Every check a generated function makes of its arguments, before any work: the helpers they
// call (the shared GradcError and the message formatting), the walk over each parameter's
// pytree (containers, undeclared fields, tuple lengths), number and tensor leaves (dtype, rank,
// sizes, symbolic dimensions fixed by the first argument that mentions them), and the two
// tuples of a compiled `jvp`. A failed check throws a GradcError naming the function, the
// argument, what was expected and what was passed.

import { gradcErrorBinding } from "../../runtime/error-source.js";
import { type ParamSpec, type Tree, leavesOf, tangentParams, wrtIndices } from "../ir/signature.js";
import type { Type, Value } from "../ir/types.js";
import { type Emitter, arrayType } from "./emitter.js";
import { propertyAccess } from "./names.js";

/** The module-level helpers every generated module starts with (after its header). */
export function argumentHelpers(ts: boolean, i32 = false): string {
  const text = `${gradcErrorBinding("$gradc_GradcError")}
function $gradc_describe(v) {
  if (v === null) return "null";
  if (typeof v === "object" && Array.isArray(v.shape)) {
    const dtype = v.data instanceof Float32Array ? "f32" : v.data instanceof Float64Array ? "f64" : ${i32 ? `v.data instanceof Int32Array ? "i32" : ` : ""}"non-float";
    return \`a \${dtype} tensor of shape [\${v.shape.join(", ")}] with \${v.data?.length} entries\`;
  }
  if (Array.isArray(v)) return \`an array of \${v.length}\`;
  return typeof v === "number" ? \`the number \${v}\` : \`\${typeof v}\`;
}
function $gradc_badArg(fn, arg, expected, actual) {
  throw new $gradc_GradcError(\`\${fn}: argument \${arg} must be \${expected}, got \${$gradc_describe(actual)}\`);
}
function $gradc_extraField(fn, arg, obj, key, declared) {
  const missing = declared.filter((k) => !(k in obj)).map((k) => JSON.stringify(k));
  const names = declared.map((k) => JSON.stringify(k)).join(", ") + (missing.length > 0 ? \`; missing: \${missing.join(", ")}\` : "");
  throw new $gradc_GradcError(\`\${fn}: argument \${arg} has a field \${JSON.stringify(key)} that its type does not declare (declared: \${names}); pass only the declared fields\`);
}`;
  if (!ts) return text;
  return text
    .replace(gradcErrorBinding("$gradc_GradcError"), gradcErrorBinding("$gradc_GradcError", { ts: true }))
    .replace("function $gradc_describe(v) {", "function $gradc_describe(v: any): string {")
    .replace("function $gradc_badArg(fn, arg, expected, actual) {", "function $gradc_badArg(fn: string, arg: string, expected: string, actual: unknown): never {")
    .replace("function $gradc_extraField(fn, arg, obj, key, declared) {", "function $gradc_extraField(fn: string, arg: string, obj: object, key: string, declared: string[]): never {");
}

function pathText(param: string, path: readonly (string | number)[]): string {
  return param + path.map((p) => (typeof p === "number" ? `[${p}]` : /^[A-Za-z_$][\w$]*$/.test(p) ? `.${p}` : `[${JSON.stringify(p)}]`)).join("");
}

/**
 * Checks the arguments named `paramNames` against their layout `params` and binds the IR
 * parameters to their values (numbers) or data arrays (tensors).
 */
export function emitArgumentChecks(e: Emitter, paramNames: readonly string[], params: readonly ParamSpec[] = e.unit.spec.params): void {
  const { spec, fn } = e.unit;
  const fnName = JSON.stringify(spec.exportName);
  params.forEach((p, k) => {
    const jsParam = paramNames[k]!;
    // Undeclared fields first: a misspelt field (`bias` for `b`) is named as such, with the
    // declared one it leaves missing, rather than only as a missing `b`.
    emitFieldChecks(e, p.tree, jsParam, p.name, [], fnName);
    const plain = (path: readonly (string | number)[]): string => `${jsParam}${path.map(propertyAccess).join("")}`;
    // Read where the check failed: TypeScript has narrowed the container to `never` there.
    const root = e.ts ? `(${jsParam} as any)` : jsParam;
    const optional = (path: readonly (string | number)[]): string => `${root}${path.map((s) => `?.${propertyAccess(s).replace(/^\./, "")}`).join("")}`;
    const expected = (t: Type): string => (t.shape.length === 0 ? "a number" : `a ${t.dtype} tensor of shape [${t.shape.join(", ")}]`);
    // Each container is checked once, before the leaves below it are read with plain property
    // accesses: optional chains (`w?.[0]`) on every read cost as much as a small model's math.
    // A container that is not an object is reported as its first leaf would be (same message).
    const visit = (tree: Tree, path: readonly (string | number)[]): void => {
      if (tree.kind === "leaf") {
        const irParam = fn.body.params[tree.index]!;
        const access = plain(path);
        const argText = JSON.stringify(pathText(p.name, path));
        if (tree.type.shape.length === 0) {
          const name = path.length === 0 ? jsParam : e.fresh([p.name, ...path].join("_"));
          if (path.length > 0) e.line(`const ${name} = ${access};`);
          e.line(`if (typeof ${name} !== "number") $gradc_badArg(${fnName}, ${argText}, "a number", ${name});`);
          e.bind(irParam, name);
        } else {
          emitTensorCheck(e, irParam, access, fnName, argText);
        }
        return;
      }
      const first = leavesOf(tree)[0];
      if (first) {
        const firstPath = [...path, ...first.path];
        const container = plain(path);
        e.line(
          `if (${container} === null || typeof ${container} !== "object") $gradc_badArg(${fnName}, ${JSON.stringify(pathText(p.name, firstPath))}, ${JSON.stringify(expected(first.type))}, ${optional(firstPath)});`,
        );
      }
      if (tree.kind === "array") tree.items.forEach((t, i) => visit(t, [...path, i]));
      else tree.fields.forEach((f) => visit(f.tree, [...path, f.key]));
    };
    visit(p.tree, []);
    // Once every declared leaf is there: no extra items.
    emitLengthChecks(e, p.tree, jsParam, p.name, [], fnName);
  });
}

/**
 * Checks a tensor argument (a `{ shape, data }` of the declared dtype, rank and sizes) and binds
 * its IR parameter to its data. The first argument that mentions a symbolic dimension fixes it
 * for the call; later ones must agree.
 */
function emitTensorCheck(e: Emitter, param: Value, access: string, fnName: string, argText: string): void {
  const t = param.type;
  const plain = /^[A-Za-z_$][\w$]*$/.test(access);
  const name = plain ? access : e.freshName(param);
  if (!plain) e.line(`const ${name} = ${access};`);
  const checks = [`${name} === null`, `typeof ${name} !== "object"`, `!(${name}.data instanceof ${arrayType(t.dtype)})`, `!Array.isArray(${name}.shape)`, `${name}.shape.length !== ${t.shape.length}`];
  t.shape.forEach((d, k) => {
    if (typeof d === "number") checks.push(`${name}.shape[${k}] !== ${d}`);
    else if (e.hasDim(d)) checks.push(`${name}.shape[${k}] !== ${e.dim(d)}`);
  });
  t.shape.forEach((d, k) => {
    if (typeof d === "string" && !e.hasDim(d)) {
      const v = e.fresh(d);
      e.bindDim(d, v);
      e.line(`const ${v} = ${name}?.shape?.[${k}];`);
      checks.push(`!Number.isInteger(${v})`, `${v} < 0`);
    }
  });
  checks.push(`${name}.data.length !== ${e.size(t.shape)}`);
  const expected = `a ${t.dtype} tensor of shape [${t.shape.join(", ")}]`;
  e.line(`if (${checks.join(" || ")}) $gradc_badArg(${fnName}, ${argText}, ${JSON.stringify(expected)}, ${name});`);
  const data = e.fresh(`${param.name ?? "x"}_d`);
  e.line(`const ${data} = ${name}.data;`);
  e.bind(param, data);
}

/** A name for the value at `access`: itself when it is one, else a const holding it. */
function valueName(e: Emitter, access: string, param: string, path: readonly (string | number)[]): string {
  if (/^[A-Za-z_$][\w$]*$/.test(access)) return access;
  const value = e.fresh([param, ...path].join("_"));
  e.line(`const ${value} = ${access};`);
  return value;
}

/**
 * Refuses fields an object's type does not declare. The compiled function reads only declared
 * fields, so an extra one (often a misspelt name, or state that is not a parameter) would get
 * no gradient: `sgd` would then fail on it, or a value the user believes is trained would
 * silently stay put. Runs before the leaves are read, through optional chains (a missing part
 * is reported by the leaf check after it); `for...in` allocates nothing.
 */
export function emitFieldChecks(e: Emitter, tree: Tree, access: string, param: string, path: readonly (string | number)[], fnName: string, fail?: string): void {
  if (tree.kind === "leaf" || !has(tree, "object")) return;
  const value = valueName(e, access, param, path);
  if (tree.kind === "object") {
    const argText = JSON.stringify(pathText(param, path));
    const key = e.fresh("key");
    const declared = tree.fields.map((f) => `${key} !== ${JSON.stringify(f.key)}`).join(" && ");
    const keys = `[${tree.fields.map((f) => JSON.stringify(f.key)).join(", ")}]`;
    e.line(`if (typeof ${value} === "object") for (const ${key} in ${value}) if (${declared}) ${fail ?? `$gradc_extraField(${fnName}, ${argText}, ${value}, ${key}, ${keys})`};`);
    tree.fields.forEach((f) => emitFieldChecks(e, f.tree, `${value}?.${propertyAccess(f.key).replace(/^\./, "")}`, param, [...path, f.key], fnName, fail));
  } else tree.items.forEach((t, i) => emitFieldChecks(e, t, `${value}?.[${i}]`, param, [...path, i], fnName, fail));
}

/** Refuses items beyond a tuple's length (every declared item was checked already). */
function emitLengthChecks(e: Emitter, tree: Tree, access: string, param: string, path: readonly (string | number)[], fnName: string): void {
  if (tree.kind === "leaf" || !has(tree, "array")) return;
  const value = valueName(e, access, param, path);
  if (tree.kind === "object") {
    tree.fields.forEach((f) => emitLengthChecks(e, f.tree, `${value}${propertyAccess(f.key)}`, param, [...path, f.key], fnName));
    return;
  }
  const argText = JSON.stringify(pathText(param, path));
  e.line(`if (${value}.length !== ${tree.items.length}) $gradc_badArg(${fnName}, ${argText}, "an array of ${tree.items.length}", ${value});`);
  tree.items.forEach((t, i) => emitLengthChecks(e, t, `${value}[${i}]`, param, [...path, i], fnName));
}

/** True when `tree` is or holds a node of that kind. */
const has = (tree: Tree, kind: "object" | "array"): boolean =>
  tree.kind === kind || (tree.kind === "object" ? tree.fields.some((f) => has(f.tree, kind)) : tree.kind === "array" && tree.items.some((t) => has(t, kind)));

/**
 * `jvp(f)(primals, tangents)`: checks the two tuples, names their items, then checks those like
 * the arguments of any compiled function.
 */
export function emitJvpArgumentChecks(e: Emitter, tuples: readonly string[]): void {
  const { spec, fn } = e.unit;
  const fnName = JSON.stringify(spec.exportName);
  const primalLeaves = fn.body.params.length - wrtIndices(spec).length;
  const tangents = tangentParams(spec, primalLeaves);
  const counts = [spec.params.length, tangents.length];
  const what = [`an array of ${counts[0]} arguments`, `an array of ${counts[1]} tangents (one per differentiated argument)`];
  tuples.forEach((t, i) =>
    e.line(`if (!Array.isArray(${t}) || ${t}.length !== ${counts[i]}) $gradc_badArg(${fnName}, ${JSON.stringify(t)}, ${JSON.stringify(what[i])}, ${t});`),
  );
  const all = [...spec.params, ...tangents];
  const names = all.map((p, k) => {
    const name = e.fresh(k < spec.params.length ? p.name : `t_${spec.params[spec.argnums[k - spec.params.length]!]!.name}`);
    e.line(`const ${name} = ${tuples[k < spec.params.length ? 0 : 1]}[${k < spec.params.length ? k : k - spec.params.length}];`);
    return name;
  });
  emitArgumentChecks(e, names, all.map((p, k) => (k < spec.params.length ? { ...p, name: `primals[${k}]` } : p)));
}
