// Line and column of a position in a source file, as ts-morph's `getLineAndColumnAtPos` gives
// them (1-based; lines end at "\n", columns restart after "\n" or "\r"), but in O(log n) from
// a per-text index instead of a scan from the start of the file for every call: lowering asks
// for the location of every statement and op, which made long functions quadratic.

import type { SourceFile } from "ts-morph";

interface LineIndex {
  /** Positions of "\n". */
  readonly newlines: readonly number[];
  /** Positions of "\n" and "\r". */
  readonly breaks: readonly number[];
}

const indexes = new WeakMap<object, LineIndex>();

function buildIndex(text: string): LineIndex {
  const newlines: number[] = [];
  const breaks: number[] = [];
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 10) newlines.push(i);
    if (c === 10 || c === 13) breaks.push(i);
  }
  return { newlines, breaks };
}

/** How many entries of the sorted `xs` are below `pos`. */
function countBelow(xs: readonly number[], pos: number): number {
  let lo = 0;
  let hi = xs.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (xs[mid]! < pos) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** 1-based line and column of `pos`, identical to `sf.getLineAndColumnAtPos(pos)`. */
export function lineAndColumn(sf: SourceFile, pos: number): { line: number; column: number } {
  // Keyed by the compiler node, which ts-morph replaces when the file's text changes.
  let index = indexes.get(sf.compilerNode);
  if (!index) indexes.set(sf.compilerNode, (index = buildIndex(sf.getFullText())));
  return locate(sf.getFullText(), index, pos);
}

/** The same for a text that has no source file. */
export function lineAndColumnInText(text: string, pos: number): { line: number; column: number } {
  return locate(text, buildIndex(text), pos);
}

function locate(text: string, index: LineIndex, pos: number): { line: number; column: number } {
  const at = Math.max(0, Math.min(pos, text.length));
  const line = countBelow(index.newlines, at) + 1;
  const b = countBelow(index.breaks, at);
  const lineStart = b === 0 ? 0 : index.breaks[b - 1]! + 1;
  return { line, column: at - lineStart + 1 };
}
