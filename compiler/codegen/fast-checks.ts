// The argument checks a generated function runs on every call, in two tiers. The function
// itself runs a compact test: the object fields' `for...in` scans, then one condition that is
// true exactly when some check of `checks.ts` fails (the same tests, chained with `||` in an
// order where each read is safe: a container is tested to be an object before the leaves in it
// are read, and each leaf is read inside the condition, `typeof (w_0 = w[0]) !== "number"`).
// When it is true, the function calls its cold twin, `$gradc_<name>_args`, which runs the
// checks of `checks.ts` one by one and throws the GradcError naming the first bad argument.
//
// Why: one `if` per leaf, each with its own four-argument error call, made the bytecode of a
// small model (a sigmoid neuron on two tuples) longer than V8 inlines into its caller (460
// bytes), so the call was never inlined where a hand-written function is; the compact test is a
// few bytes per leaf. The tests themselves cost nothing measurable: TurboFan merges a
// `typeof x !== "number"` with the number check the arithmetic makes anyway.

import { type ParamSpec, type Tree, leavesOf, tangentParams, wrtIndices } from "../ir/signature.js";
import type { Type, Value } from "../ir/types.js";
import { type Emitter, arrayType } from "./emitter.js";
import { emitFieldChecks } from "./checks.js";
import { propertyAccess } from "./names.js";

/** The name of the cold function that reports the first bad argument of `exportName`. */
export const coldCheckName = (exportName: string): string => `$gradc_${exportName}_args`;

/** Tests chained into one condition, with the names they assign and what runs after them. */
class Chain {
  readonly tests: string[] = [];
  readonly assigned: string[] = [];
  readonly after: string[] = [];

  /** `if (tests) cold(...)`, with the assigned names declared before it; then what follows. */
  flush(e: Emitter, fail: string): void {
    if (this.assigned.length > 0) e.line(`let ${this.assigned.map((n) => (e.ts ? `${n}: any` : n)).join(", ")};`);
    if (this.tests.length > 0) e.line(`if (${this.tests.join(" || ")}) ${fail};`);
    for (const line of this.after) e.line(line);
    this.tests.length = 0;
    this.assigned.length = 0;
    this.after.length = 0;
  }
}

/**
 * The fast tier of the argument checks of `paramNames` (laid out as `params`): binds the IR
 * parameters like `emitArgumentChecks` and calls `fail` (the cold function) when any check fails.
 */
export function emitFastArgumentChecks(e: Emitter, paramNames: readonly string[], fail: string, params: readonly ParamSpec[] = e.unit.spec.params): void {
  const { fn } = e.unit;
  // Undeclared fields first: statements of their own (they read through optional chains).
  params.forEach((p, k) => emitFieldChecks(e, p.tree, paramNames[k]!, p.name, [], "", fail));
  const chain = new Chain();
  params.forEach((p, k) => {
    const jsParam = paramNames[k]!;
    const plain = (path: readonly (string | number)[]): string => `${jsParam}${path.map(propertyAccess).join("")}`;
    const visit = (tree: Tree, path: readonly (string | number)[]): void => {
      if (tree.kind === "leaf") {
        const irParam = fn.body.params[tree.index]!;
        if (tree.type.shape.length === 0) {
          if (path.length === 0) {
            chain.tests.push(`typeof ${jsParam} !== "number"`);
            e.bind(irParam, jsParam);
          } else {
            const name = e.fresh([p.name, ...path].join("_"));
            chain.assigned.push(name);
            chain.tests.push(`typeof (${name} = ${plain(path)}) !== "number"`);
            e.bind(irParam, name);
          }
        } else tensorTests(e, chain, irParam, plain(path));
        return;
      }
      if (leavesOf(tree).length > 0) {
        const container = plain(path);
        chain.tests.push(`${container} === null`, `typeof ${container} !== "object"`);
      }
      if (tree.kind === "array") tree.items.forEach((t, i) => visit(t, [...path, i]));
      else tree.fields.forEach((f) => visit(f.tree, [...path, f.key]));
    };
    visit(p.tree, []);
    lengthTests(chain, p.tree, jsParam);
  });
  chain.flush(e, fail);
}

/** A tensor leaf's tests (as `emitTensorCheck`'s), its symbolic dimensions bound on the way. */
function tensorTests(e: Emitter, chain: Chain, param: Value, access: string): void {
  const t: Type = param.type;
  const plain = /^[A-Za-z_$][\w$]*$/.test(access);
  const name = plain ? access : e.freshName(param);
  if (!plain) chain.assigned.push(name);
  chain.tests.push(plain ? `${name} === null` : `(${name} = ${access}) === null`);
  chain.tests.push(`typeof ${name} !== "object"`, `!(${name}.data instanceof ${arrayType(t.dtype)})`, `!Array.isArray(${name}.shape)`, `${name}.shape.length !== ${t.shape.length}`);
  t.shape.forEach((d, k) => {
    if (typeof d === "number") chain.tests.push(`${name}.shape[${k}] !== ${d}`);
    else if (e.hasDim(d)) chain.tests.push(`${name}.shape[${k}] !== ${e.dim(d)}`);
  });
  t.shape.forEach((d, k) => {
    if (typeof d === "string" && !e.hasDim(d)) {
      const v = e.fresh(d);
      e.bindDim(d, v);
      chain.assigned.push(v);
      chain.tests.push(`!Number.isInteger(${v} = ${name}.shape[${k}])`, `${v} < 0`);
    }
  });
  chain.tests.push(`${name}.data.length !== ${e.size(t.shape)}`);
  const data = e.fresh(`${param.name ?? "x"}_d`);
  chain.after.push(`const ${data} = ${name}.data;`);
  e.bind(param, data);
}

/** No items beyond a tuple's length (its containers are objects by the time this is tested). */
function lengthTests(chain: Chain, tree: Tree, access: string): void {
  if (tree.kind === "leaf") return;
  if (tree.kind === "object") {
    tree.fields.forEach((f) => lengthTests(chain, f.tree, `${access}${propertyAccess(f.key)}`));
    return;
  }
  chain.tests.push(`${access}.length !== ${tree.items.length}`);
  tree.items.forEach((t, i) => lengthTests(chain, t, `${access}[${i}]`));
}

/** The fast tier for `jvp(f)(primals, tangents)`: the two tuples, then their items' checks. */
export function emitFastJvpArgumentChecks(e: Emitter, tuples: readonly string[], fail: string): void {
  const { spec, fn } = e.unit;
  const primalLeaves = fn.body.params.length - wrtIndices(spec).length;
  const tangents = tangentParams(spec, primalLeaves);
  const counts = [spec.params.length, tangents.length];
  e.line(`if (${tuples.map((t, i) => `!Array.isArray(${t}) || ${t}.length !== ${counts[i]}`).join(" || ")}) ${fail};`);
  const all = [...spec.params, ...tangents];
  const names = all.map((p, k) => {
    const name = e.fresh(k < spec.params.length ? p.name : `t_${spec.params[spec.argnums[k - spec.params.length]!]!.name}`);
    e.line(`const ${name} = ${tuples[k < spec.params.length ? 0 : 1]}[${k < spec.params.length ? k : k - spec.params.length}];`);
    return name;
  });
  emitFastArgumentChecks(e, names, fail, all.map((p, k) => (k < spec.params.length ? { ...p, name: `primals[${k}]` } : p)));
}
