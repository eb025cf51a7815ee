// Parses the IR text form back into a function, so pass tests can start from IR text.

import type { AttrValue, Attrs, Block, DType, Dim, Func, Loc, Node, Type, Value } from "./types.js";
import { IdSource, isRegionOp } from "./types.js";

export class IRParseError extends Error {
  constructor(message: string, readonly line: number) {
    super(`IR text line ${line}: ${message}`);
  }
}

const TYPE = /^(f64|f32|i32|bool)\[([^\]]*)\]$/;

export function parseType(text: string, line = 0): Type {
  const m = TYPE.exec(text.trim());
  if (!m) throw new IRParseError(`bad type '${text}'`, line);
  const dims = m[2]!.trim() === "" ? [] : m[2]!.split(",").map((d): Dim => (/^\d+$/.test(d.trim()) ? Number(d) : d.trim()));
  return { dtype: m[1] as DType, shape: dims };
}

function parseAttrValue(text: string, line: number): AttrValue {
  const t = text.trim();
  if (t === "true" || t === "false") return t === "true";
  if (t.startsWith('"')) return JSON.parse(t) as string;
  if (t.startsWith("[")) {
    const inner = t.slice(1, -1).trim();
    return inner === "" ? [] : inner.split(",").map((d): Dim => (/^-?\d+$/.test(d.trim()) ? Number(d) : d.trim()));
  }
  const n = Number(t);
  if (t === "NaN" || !Number.isNaN(n)) return n;
  throw new IRParseError(`bad attribute value '${t}'`, line);
}

/** Splits `k=v, k=[a,b]` at top-level commas. */
function parseAttrs(text: string, line: number): Attrs {
  const attrs: Record<string, AttrValue> = {};
  let depth = 0;
  let start = 0;
  const parts: string[] = [];
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c === "[") depth++;
    else if (c === "]") depth--;
    else if (c === "," && depth === 0) {
      parts.push(text.slice(start, i));
      start = i + 1;
    }
  }
  parts.push(text.slice(start));
  for (const part of parts) {
    if (part.trim() === "") continue;
    const eq = part.indexOf("=");
    if (eq < 0) throw new IRParseError(`bad attribute '${part}'`, line);
    attrs[part.slice(0, eq).trim()] = parseAttrValue(part.slice(eq + 1), line);
  }
  return attrs;
}

function parseLoc(comment: string | undefined): Loc | undefined {
  if (!comment) return undefined;
  const m = /^(.*):(\d+)$/.exec(comment.trim());
  return m ? { file: m[1]!, line: Number(m[2]), col: 1 } : undefined;
}

/** Reads a function from the IR's text form (what `printFunc` writes); throws on malformed text. */
export function parseFunc(text: string): Func {
  const lines = text.split("\n").map((raw, i) => {
    const hash = raw.indexOf(" #");
    return {
      no: i + 1,
      code: (hash >= 0 ? raw.slice(0, hash) : raw).trim(),
      loc: hash >= 0 ? parseLoc(raw.slice(hash + 2)) : undefined,
    };
  });
  let pos = 0;
  const ids = new IdSource();
  const scope = new Map<string, Value>();
  const next = () => {
    while (pos < lines.length && lines[pos]!.code === "") pos++;
    if (pos >= lines.length) throw new IRParseError("unexpected end of text", lines.length);
    return lines[pos++]!;
  };
  const define = (ref: string, type: Type, no: number): Value => {
    const key = ref.replace(/^%/, "");
    if (scope.has(key)) throw new IRParseError(`%${key} defined twice`, no);
    const base = key.replace(/\.\d+$/, "");
    const v = /^\d+$/.test(key) ? ids.value(type) : ids.value(type, base);
    scope.set(key, v);
    return v;
  };
  const use = (ref: string, no: number): Value => {
    const v = scope.get(ref.trim().replace(/^%/, ""));
    if (!v) throw new IRParseError(`${ref.trim()} is not defined`, no);
    return v;
  };
  // A `while` loop's trip count is written `#name` after its first result; stored `#id`.
  const tripDims = new Map<string, string>();
  const tripDim = (d: Dim): Dim => (typeof d === "string" && d.startsWith("#") ? (tripDims.get(d.slice(1)) ?? d) : d);
  const typeOf = (text: string, no: number): Type => {
    const t = parseType(text, no);
    return t.shape.some((d) => typeof d === "string" && d.startsWith("#")) ? { dtype: t.dtype, shape: t.shape.map(tripDim) } : t;
  };
  const refs = (text: string, no: number): Value[] =>
    text.trim() === "" ? [] : text.trim().split(/[\s,]+/).map((r) => use(r, no));

  const header = next();
  const hm = /^fn\s+([^\s(]+)\((.*)\)\s*->\s*(.+)\s*\{$/.exec(header.code);
  if (!hm) throw new IRParseError("expected 'fn name(params) -> type {'", header.no);
  const params =
    hm[2]!.trim() === ""
      ? []
      : hm[2]!.split(/,\s*(?=%)/).map((p) => {
          const [ref, type] = p.split(/:\s*/);
          return define(ref!, typeOf(type!, header.no), header.no);
        });

  // Reads nodes up to a terminator line (`return`/`yield`), returning the block.
  const parseBlock = (blockParams: Value[], terminator: "return" | "yield"): Block => {
    const nodes: Node[] = [];
    for (let first = true; ; first = false) {
      const ln = next();
      if (first && terminator === "yield" && ln.code.startsWith("params ")) {
        for (const p of ln.code.slice(7).split(/,\s*(?=%)/)) {
          const [ref, type] = p.split(/:\s*/);
          blockParams.push(define(ref!, typeOf(type!, ln.no), ln.no));
        }
        continue;
      }
      if (ln.code.startsWith(terminator)) {
        const results = refs(ln.code.slice(terminator.length), ln.no);
        return { params: blockParams, nodes, results };
      }
      const bare = /^(\S+)(\s.*)$/.exec(ln.code);
      const m = bare && isRegionOp(bare[1]!) ? ["", "", bare[1]!, bare[2]!] : /^(.+?)\s=\s(\S+)(.*)$/.exec(ln.code);
      if (!m) throw new IRParseError(`expected a node, got '${ln.code}'`, ln.no);
      let rest = m[3]!.trim();
      const opensBlock = isRegionOp(m[2]!);
      if (opensBlock) {
        if (!rest.endsWith("{")) throw new IRParseError(`expected '{' after ${m[2]}`, ln.no);
        rest = rest.slice(0, -1).trim();
      }
      let attrs: Attrs = {};
      const brace = rest.indexOf("{");
      if (brace >= 0) {
        attrs = parseAttrs(rest.slice(brace + 1, rest.lastIndexOf("}")), ln.no);
        rest = rest.slice(0, brace);
      }
      const args = refs(rest, ln.no);
      const blocks: Block[] = [];
      if (opensBlock) {
        blocks.push(parseBlock([], "yield"));
        const mid = next();
        if (mid.code === "} else {" || mid.code === "} backward {" || mid.code === "} do {") {
          blocks.push(parseBlock([], "yield"));
          const close = next();
          if (close.code !== "}") throw new IRParseError("expected '}'", close.no);
        } else if (mid.code !== "}") throw new IRParseError("expected '} else {', '} backward {', '} do {' or '}'", mid.no);
      }
      const outs = (m[1] === "" ? [] : m[1]!.split(/,\s*(?=%)/)).map((o, i) => {
        const [ref, type] = o.split(/:\s*/);
        const v = define(ref!, typeOf(type!, ln.no), ln.no);
        if (i === 0 && m[2] === "while") tripDims.set(ref!.trim().replace(/^%/, ""), `#${v.id}`);
        return v;
      });
      if (typeof attrs["trips"] === "string") attrs = { ...attrs, trips: tripDim(attrs["trips"]) as string };
      // A shape attribute may mention a trip count (an adjoint of a while loop's history).
      for (const [k, a] of Object.entries(attrs))
        if (Array.isArray(a) && a.some((d) => typeof d === "string" && d.startsWith("#"))) attrs = { ...attrs, [k]: (a as readonly Dim[]).map(tripDim) };
      nodes.push({ op: m[2]!, args, attrs, outs, blocks, ...(ln.loc ? { loc: ln.loc } : {}) });
    }
  };
  const body = parseBlock(params, "return");
  const close = next();
  if (close.code !== "}") throw new IRParseError("expected '}' closing the function", close.no);
  return { name: hm[1]!, body };
}
