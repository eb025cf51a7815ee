// The IR's text form, as `gradc --dump` prints it and fixtures store it. Names are stable: source names where they exist,
// deduplicated in definition order, and numbers in definition order for the rest.

import type { AttrValue, Attrs, Block, Dim, Func, Loc, Node, Type, Value } from "./types.js";
import { walkValues } from "./types.js";

/** `dim` maps a dimension to its text (a `while` loop's trip count is named after the loop). */
export function formatType(t: Type, dim: (d: Dim) => string = String): string {
  return `${t.dtype}[${t.shape.map(dim).join(",")}]`;
}

function formatAttr(v: AttrValue): string {
  if (Array.isArray(v)) return `[${v.join(",")}]`;
  if (typeof v === "number") return Object.is(v, -0) ? "-0" : String(v);
  if (typeof v === "string") return JSON.stringify(v);
  return String(v);
}

export function formatAttrs(attrs: Attrs, dim: (d: Dim) => string = String): string {
  const keys = Object.keys(attrs).sort();
  if (keys.length === 0) return "";
  const text = (k: string): string => {
    const v = attrs[k]!;
    // Trip counts, and shapes that mention one (an adjoint of a history), print by name.
    if (k === "trips" && typeof v === "string") return formatAttr(dim(v));
    return Array.isArray(v) ? formatAttr((v as readonly Dim[]).map((d) => (typeof d === "string" ? dim(d) : d))) : formatAttr(v);
  };
  return ` {${keys.map((k) => `${k}=${text(k)}`).join(", ")}}`;
}

const PLAIN_NAME = /^[A-Za-z_$][\w$]*$/;

/** Assigns every value of a function its printed name. */
export function nameValues(body: Block): Map<Value, string> {
  const names = new Map<Value, string>();
  const used = new Set<string>();
  let counter = 0;
  walkValues(body, (v) => {
    let name: string;
    if (v.name !== undefined && PLAIN_NAME.test(v.name)) {
      name = v.name;
      for (let k = 1; used.has(name); k++) name = `${v.name}.${k}`;
    } else {
      do name = String(counter++);
      while (used.has(name));
    }
    used.add(name);
    names.set(v, name);
  });
  return names;
}

const formatTypeWith = formatType;

export function formatLoc(loc: Loc | undefined): string {
  return loc ? `${loc.file.replace(/[\r\n\u2028\u2029]/g, " ")}:${loc.line}` : "";
}

/** The IR's text form of a function, as `gradc --dump` prints it and fixtures store it. */
export function printFunc(fn: Func): string {
  const names = nameValues(fn.body);
  const ref = (v: Value): string => `%${names.get(v) ?? `?${v.id}`}`;
  // A `while` loop's trip count `#<id>` is printed after the loop's first result, `#name`.
  const byId = new Map<number, Value>();
  walkValues(fn.body, (v) => byId.set(v.id, v));
  const dim = (d: Dim): string => {
    if (typeof d !== "string" || !d.startsWith("#")) return String(d);
    const v = byId.get(Number(d.slice(1)));
    return v ? `#${names.get(v)}` : d;
  };
  const formatType = (t: Type): string => formatTypeWith(t, dim);
  const lines: string[] = [];
  const comment = (text: string, loc: Loc | undefined): string => {
    if (!loc) return text;
    return `${text.padEnd(36)} # ${formatLoc(loc)}`;
  };
  const printBlock = (block: Block, indent: string, terminator: string): void => {
    if (terminator === "yield" && block.params.length > 0)
      lines.push(`${indent}params ${block.params.map((p) => `${ref(p)}: ${formatType(p.type)}`).join(", ")}`);
    for (const node of block.nodes) printNode(node, indent);
    if (terminator) lines.push(`${indent}${terminator} ${block.results.map(ref).join(", ")}`.trimEnd());
  };
  const printNode = (node: Node, indent: string): void => {
    const outs = node.outs.map((o) => `${ref(o)}: ${formatType(o.type)}`).join(", ");
    const args = node.args.map((a) => ` ${ref(a)}`).join("");
    // A region with no results (an `if` kept only for the index check inside it) has no `=`.
    const head = `${indent}${outs === "" ? "" : `${outs} = `}${node.op}${args}${formatAttrs(node.attrs, dim)}`;
    if (node.blocks.length === 0) {
      lines.push(comment(head, node.loc));
      return;
    }
    lines.push(comment(`${head} {`, node.loc));
    node.blocks.forEach((b, i) => {
      // A custom_vjp's second block is its backward pass, a while's its body.
      if (i > 0) lines.push(`${indent}} ${node.op === "custom_vjp" ? "backward" : node.op === "while" ? "do" : "else"} {`);
      printBlock(b, indent + "  ", "yield");
    });
    lines.push(`${indent}}`);
  };
  const params = fn.body.params.map((p) => `${ref(p)}: ${formatType(p.type)}`).join(", ");
  const resultTypes = fn.body.results.map((r) => formatType(r.type));
  const ret = resultTypes.length === 1 ? resultTypes[0]! : `(${resultTypes.join(", ")})`;
  lines.push(`fn ${fn.name}(${params}) -> ${ret} {`);
  printBlock(fn.body, "  ", "return");
  lines.push("}");
  return lines.join("\n") + "\n";
}
