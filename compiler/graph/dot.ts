// Draws an evaluated function as the computational graph of a backprop lecture: one box per
// operation, inputs on the left, the output on the right, and on every edge the forward value
// flowing along it (above, green) and the gradient flowing back along it (below, red). Scalar
// constants are folded into the gate that uses them (`+1`, `1/x`, `*-1`), as such figures do.

import { formatAttrs } from "../ir/print.js";
import type { Func, Value } from "../ir/types.js";
import { getOp, hasOp } from "../ops/index.js";
import type { Val } from "../ops/values.js";
import type { Evaluation, Step } from "./evaluate.js";

/** Forward values are drawn in green, gradients in red, as in the lecture figures. */
export const VALUE_COLOR = "#2e7d32";
export const GRAD_COLOR = "#c62828";

/** Two decimals, as lecture figures print them; tiny and huge magnitudes in exponent form. */
export function formatNumber(x: number): string {
  if (Number.isNaN(x)) return "NaN";
  if (!Number.isFinite(x)) return x > 0 ? "Infinity" : "-Infinity";
  const a = Math.abs(x);
  if (a !== 0 && (a < 0.005 || a >= 1e6)) return x.toExponential(1);
  const s = x.toFixed(2);
  return s === "-0.00" ? "0.00" : s;
}

/** A value as an edge label: a number, a boolean, or a tensor's shape and first entries. */
export function formatVal(v: Val): string {
  if (typeof v === "boolean") return String(v);
  if (typeof v === "number") return formatNumber(v);
  const data = Array.from(v.data, (x) => formatNumber(Number(x)));
  const shape = `[${v.shape.join("×")}]`;
  if (data.length <= 4) {
    if (v.shape.length === 1) return `[${data.join(", ")}]`;
    return `${shape} ${data.join(" ")}`;
  }
  return `${shape} ${data.slice(0, 3).join(" ")} …`;
}

/** A constant as it reads inside a gate label: short, exact when it can be. */
function constText(x: number): string {
  const s = String(x);
  return s.length <= 6 ? s : formatNumber(x);
}

const escapeHtml = (s: string): string => s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
const quote = (s: string): string => `"${s.replace(/\\/g, "\\\\").replace(/"/g, '\\"')}"`;

/** An op's box label: its registry entry's graph label, or its name. */
const symbol = (op: string): string => (hasOp(op) ? (getOp(op).graph?.label ?? op) : op);

/** The label of a gate with constant operand `c` folded in; undefined when the op does not fold. */
const foldedLabel = (op: string, c: string, constFirst: boolean): string | undefined =>
  hasOp(op) ? getOp(op).graph?.fold?.(c, constFirst) : undefined;

/** How to label the drawing. */
export interface DotOptions {
  /** Labels of the IR parameters (`w[0]`), in order; default: the IR names. */
  readonly labels?: readonly string[];
  /** Graph title; default: the function's name. */
  readonly title?: string;
}

/** The DOT text of an evaluated function. Deterministic: same IR and inputs, same text. */
export function toDot(fn: Func, ev: Evaluation, options: DotOptions = {}): string {
  const params = fn.body.params;
  const producer = new Map<Value, string>();
  params.forEach((p, i) => producer.set(p, `in${i}`));
  // Constants, dimensions, loop counters, and scalars computed from nothing else (index
  // arithmetic): drawn as plain text, or folded into the gate that uses them.
  const leafText = new Map<Value, string>();
  ev.steps.forEach((s, k) => {
    producer.set(s.out, `n${k}`);
    const v = ev.values.get(s.out);
    if (s.op === "dim") leafText.set(s.out, String(s.attrs["name"]));
    else if (typeof v === "number" && (s.op === "const" || (s.kind === "op" && s.args.length > 0 && s.args.every((a) => leafText.has(a)))))
      leafText.set(s.out, constText(v));
  });

  // Which argument of each step is folded into its label, and which leaves are still drawn.
  const folded = new Map<Step, number>();
  const drawnLeaves = new Set<Value>();
  for (const s of ev.steps) {
    if (leafText.has(s.out)) continue; // a constant: its own inputs are not drawn
    if (s.kind === "op" && s.args.length === 2 && foldedLabel(s.op, "", false) !== undefined) {
      const isLeaf = s.args.map((a) => leafText.has(a));
      if (isLeaf[0] !== isLeaf[1]) {
        folded.set(s, isLeaf[0] ? 0 : 1);
        continue;
      }
    }
    s.args.forEach((a) => leafText.has(a) && drawnLeaves.add(a));
  }

  const lines: string[] = [];
  const title = options.title ?? fn.name;
  lines.push(`digraph ${quote(title)} {`);
  lines.push("  rankdir=LR;");
  lines.push(`  graph [fontname="Helvetica", fontsize=12, labelloc=t, nodesep=0.4, ranksep=0.9, label=<<b>${escapeHtml(title)}</b><br/><font color="${VALUE_COLOR}">forward value (above each edge)</font><br/><font color="${GRAD_COLOR}">gradient (below)</font>>];`);
  lines.push('  node [fontname="Helvetica", fontsize=12, shape=box, style="rounded,filled", fillcolor="#f5f5f5"];');
  lines.push('  edge [fontname="Helvetica", fontsize=10];');

  const twoLines = (top: string | undefined, bottom: string | undefined): string => {
    const parts: string[] = [];
    if (top !== undefined) parts.push(`<font color="${VALUE_COLOR}">${escapeHtml(top)}</font>`);
    if (bottom !== undefined) parts.push(`<font color="${GRAD_COLOR}">${escapeHtml(bottom)}</font>`);
    return parts.join("<br/>");
  };
  const gradText = (v: Value): string | undefined => {
    if (v.type.dtype === "bool" || v.type.dtype === "i32") return undefined;
    const g = ev.adjoints.get(v);
    return g === undefined ? formatNumber(0) : formatVal(g);
  };

  // Inputs, on the left: name, value and total gradient.
  const inputs: string[] = [];
  params.forEach((p, i) => {
    const name = options.labels?.[i] ?? p.name ?? `x${i}`;
    const value = ev.values.get(p);
    const cell = twoLines(value === undefined ? undefined : formatVal(value), gradText(p));
    lines.push(`  in${i} [shape=plaintext, style="", label=<<b>${escapeHtml(name)}</b><br/>${cell}>];`);
    inputs.push(`in${i}`);
  });
  if (inputs.length > 0) lines.push(`  { rank=source; ${inputs.join("; ")}; }`);

  // One box per operation.
  ev.steps.forEach((s, k) => {
    const id = `n${k}`;
    const tooltip = s.loc ? `, tooltip=${quote(`${s.loc.file}:${s.loc.line}`)}` : "";
    if (leafText.has(s.out)) {
      if (drawnLeaves.has(s.out)) lines.push(`  ${id} [shape=plaintext, style="", label=${quote(leafText.get(s.out)!)}${tooltip}];`);
      return;
    }
    let label: string;
    const f = folded.get(s);
    if (f !== undefined) label = foldedLabel(s.op, leafText.get(s.args[f]!)!, f === 0)!;
    else if (s.kind === "if") label = `if (${s.taken})`;
    else if (s.kind === "custom") label = "customVjp";
    else label = `${symbol(s.op)}${formatAttrs(s.attrs)}`;
    const shape = s.kind === "if" ? ", shape=diamond, style=filled" : "";
    lines.push(`  ${id} [label=${quote(label)}${shape}${tooltip}];`);
  });

  // Edges: every argument that is drawn, with the value it carries and the gradient it gets back.
  ev.steps.forEach((s, k) => {
    if (leafText.has(s.out)) return;
    const grads = ev.edgeGrads.get(s);
    // A gate with a gradient rule that no gradient reached passes back zero; comparisons none.
    const differentiable = s.kind !== "op" || getOp(s.op).vjp !== "not-differentiable";
    s.args.forEach((a, i) => {
      if (folded.get(s) === i) return;
      const from = producer.get(a);
      const value = ev.values.get(a);
      if (from === undefined || value === undefined) return;
      if (leafText.has(a)) {
        // A constant's text is its value, and no gradient flows into it.
        lines.push(`  ${from} -> n${k} [arrowsize=0.6];`);
        return;
      }
      const g = grads?.[i];
      const grad =
        a.type.dtype === "bool" || a.type.dtype === "i32" ? undefined : g !== null && g !== undefined ? formatVal(g) : differentiable ? formatNumber(0) : undefined;
      const isCondition = s.kind === "if" && i === 0;
      const style = isCondition || grad === undefined ? ", style=dashed" : "";
      lines.push(`  ${from} -> n${k} [label=<${twoLines(formatVal(value), grad)}>${style}];`);
    });
  });

  // The output, on the right, where backpropagation starts with gradient 1.
  const out = ev.output;
  const outValue = ev.values.get(out);
  const from = producer.get(out);
  lines.push(`  out [shape=plaintext, style="", label=<<b>${escapeHtml(title)}</b>>];`);
  lines.push("  { rank=sink; out; }");
  if (from !== undefined && outValue !== undefined)
    lines.push(`  ${from} -> out [label=<${twoLines(formatVal(outValue), formatNumber(1))}>];`);
  lines.push("}");
  return lines.join("\n") + "\n";
}
