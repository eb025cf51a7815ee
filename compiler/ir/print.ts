// The IR's text form, as `gradc --dump` prints it and fixtures store it. Names are stable: source names where they exist,
// deduplicated in definition order, and numbers in definition order for the rest.

import type { AttrValue, Attrs, Block, Func, Loc, Node, Type, Value } from "./types.js";
import { walkValues } from "./types.js";

export function formatType(t: Type): string {
  return `${t.dtype}[${t.shape.join(",")}]`;
}

function formatAttr(v: AttrValue): string {
  if (Array.isArray(v)) return `[${v.join(",")}]`;
  if (typeof v === "number") return Object.is(v, -0) ? "-0" : String(v);
  if (typeof v === "string") return JSON.stringify(v);
  return String(v);
}

export function formatAttrs(attrs: Attrs): string {
  const keys = Object.keys(attrs).sort();
  if (keys.length === 0) return "";
  return ` {${keys.map((k) => `${k}=${formatAttr(attrs[k]!)}`).join(", ")}}`;
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

export function formatLoc(loc: Loc | undefined): string {
  return loc ? `${loc.file.replace(/[\r\n\u2028\u2029]/g, " ")}:${loc.line}` : "";
}

/** The IR's text form of a function, as `gradc --dump` prints it and fixtures store it. */
export function printFunc(fn: Func): string {
  const names = nameValues(fn.body);
  const ref = (v: Value): string => `%${names.get(v) ?? `?${v.id}`}`;
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
    const head = `${indent}${outs === "" ? "" : `${outs} = `}${node.op}${args}${formatAttrs(node.attrs)}`;
    if (node.blocks.length === 0) {
      lines.push(comment(head, node.loc));
      return;
    }
    lines.push(comment(`${head} {`, node.loc));
    node.blocks.forEach((b, i) => {
      // A custom_vjp's second block is its backward pass.
      if (i > 0) lines.push(`${indent}} ${node.op === "custom_vjp" ? "backward" : "else"} {`);
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
