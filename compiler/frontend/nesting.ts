// Source nested too deeply for a recursive-descent compiler. TypeScript's parser, binder and
// checker, ts-morph and gradc's own lowering all recurse once (or more) per level of nesting,
// so `((((x))))` ten thousand levels deep, or `x + x + ... + x` with 10⁵ terms (a left-deep
// tree), overflows the JavaScript stack somewhere in them. Such files are kept away from the
// type checker (one overflowing file would break the checker for the whole program) and
// answered with GRADC1021 at the offending construct, found here without recursion.

import { ts } from "ts-morph";

/**
 * Deepest syntax tree accepted. Real code stays far below (a few dozen levels); every stage
 * of the pipeline has been checked to compile each kind of construct at this depth with
 * Node's default stack.
 */
export const MAX_NESTING = 400;

/** Where a too-deep file should be reported: a position and what is there. */
export interface TooDeep {
  readonly pos: number;
  readonly end: number;
  /** "This expression", "This statement", "This code". */
  readonly what: string;
}

export const isStackOverflow = (e: unknown): boolean => e instanceof RangeError && /call stack/i.test(e.message);

const isFunctionLike = (n: ts.Node): boolean =>
  ts.isFunctionDeclaration(n) || ts.isFunctionExpression(n) || ts.isArrowFunction(n) || ts.isMethodDeclaration(n);

/**
 * The construct to report when the syntax tree of `sf` is deeper than MAX_NESTING: on the
 * deepest path, the first statement or expression inside a function (or the first top-level
 * one). Undefined when the tree is shallow enough.
 */
export function findTooDeep(sf: ts.SourceFile): TooDeep | undefined {
  // Almost every file is shallow: a recursive walk that gives up below MAX_NESTING (so it
  // recurses at most that deep) says so without the maps below.
  if (!deeperThan(sf, 0)) return undefined;
  // Heights by an explicit post-order walk.
  const height = new Map<ts.Node, number>();
  const stack: { node: ts.Node; expanded: boolean }[] = [{ node: sf, expanded: false }];
  let deepest = 0;
  const depthOf = new Map<ts.Node, number>([[sf, 0]]);
  while (stack.length > 0) {
    const top = stack[stack.length - 1]!;
    if (!top.expanded) {
      top.expanded = true;
      const d = depthOf.get(top.node)!;
      deepest = Math.max(deepest, d);
      ts.forEachChild(top.node, (c) => {
        depthOf.set(c, d + 1);
        stack.push({ node: c, expanded: false });
      });
      continue;
    }
    stack.pop();
    let h = 0;
    ts.forEachChild(top.node, (c) => {
      h = Math.max(h, height.get(c)! + 1);
    });
    height.set(top.node, h);
  }
  if (deepest <= MAX_NESTING) return undefined;
  // The deepest path, then on it the first statement or expression inside a function (the
  // first top-level one when no function is on the path).
  const path: ts.Node[] = [];
  for (let node: ts.Node | undefined = sf; node !== undefined; ) {
    let next: ts.Node | undefined;
    ts.forEachChild(node, (c) => {
      if (next === undefined || height.get(c)! > height.get(next)!) next = c;
    });
    if (next !== undefined) path.push(next);
    node = next;
  }
  const reportable = (n: ts.Node): boolean => !isFunctionLike(n) && (ts.isExpression(n) || (ts.isStatement(n) && !ts.isBlock(n)));
  const firstFunction = path.findIndex(isFunctionLike);
  const rest = firstFunction >= 0 && path.slice(firstFunction).some(reportable) ? path.slice(firstFunction) : path;
  let node = rest.find(reportable) ?? path[0] ?? sf;
  // A statement whose depth is all in one expression (`return ((...))`): point at the expression.
  const inner = rest.slice(rest.indexOf(node) + 1).find((n) => ts.isExpression(n) && !isFunctionLike(n));
  if (!ts.isExpression(node) && inner && height.get(inner)! >= height.get(node)! - 3) node = inner;
  return {
    pos: node.getStart(sf),
    end: node.getEnd(),
    what: ts.isExpression(node) ? "This expression" : "This statement",
  };
}

/** True when some node under `node` (at `depth`) is deeper than MAX_NESTING. */
function deeperThan(node: ts.Node, depth: number): boolean {
  if (depth > MAX_NESTING) return true;
  return ts.forEachChild(node, (c) => deeperThan(c, depth + 1) || undefined) === true;
}

/**
 * For a text the parser itself could not take: the first place where brackets are nested
 * deepest, by an iterative token scan (or the start of the file when brackets are not the cause).
 */
export function findTooDeepInText(text: string): TooDeep {
  const scanner = ts.createScanner(ts.ScriptTarget.Latest, true, ts.LanguageVariant.Standard, text);
  let depth = 0;
  let best = { depth: 0, pos: 0 };
  for (let tok = scanner.scan(); tok !== ts.SyntaxKind.EndOfFileToken; tok = scanner.scan()) {
    if (tok === ts.SyntaxKind.OpenParenToken || tok === ts.SyntaxKind.OpenBracketToken || tok === ts.SyntaxKind.OpenBraceToken) {
      depth++;
      if (depth > best.depth) best = { depth, pos: scanner.getTokenStart() };
    } else if (tok === ts.SyntaxKind.CloseParenToken || tok === ts.SyntaxKind.CloseBracketToken || tok === ts.SyntaxKind.CloseBraceToken) {
      depth = Math.max(0, depth - 1);
    }
  }
  if (best.depth <= MAX_NESTING) return { pos: 0, end: Math.min(1, text.length), what: "This file" };
  return { pos: best.pos, end: best.pos + 1, what: "This code" };
}
