// The walk shared by the rewriting passes: rebuilds a function node by node (blocks
// recursively), substituting replaced values in every later use.

import { IRBuilder } from "../ir/builder.js";
import { opTypes } from "../ops/index.js";
import { type Block, type Func, type Node, type Value, IdSource, hasFixedName, isRegionOp } from "../ir/types.js";

export interface RewriteScope {
  readonly b: IRBuilder;
  /** The node that defines a value, for rules that look at their operands' producers. */
  def(v: Value): Node | undefined;
}

/**
 * What a rule says of a node: keep this (possibly new) node, and/or use other values for some
 * of the original node's results (`replace[i]` stands for `node.outs[i]`).
 */
export interface RuleResult {
  keep?: Node;
  replace?: readonly (Value | undefined)[];
}

export type Rule = (node: Node, scope: RewriteScope) => RuleResult;

/** Scoped state (CSE tables) is pushed and popped around every block. */
export interface RewriteHooks {
  enterBlock?(): void;
  exitBlock?(): void;
}

export function rewrite(fn: Func, rule: Rule, hooks: RewriteHooks = {}): Func {
  const b = new IRBuilder(opTypes, IdSource.after(fn));
  // Replacements by value id (ids are unique within a function): an array grown entry by
  // entry, cheaper than a Map keyed by the values.
  const subst: (Value | undefined)[] = [];
  let substituted = 0;
  const s = (v: Value): Value => {
    let cur = v;
    for (let next = subst[cur.id]; next !== undefined; next = subst[cur.id]) cur = next;
    return cur;
  };
  const scope: RewriteScope = { b, def: (v) => b.defOf(s(v)) };
  const walk = (block: Block): Block =>
    b.block(() => {
      hooks.enterBlock?.();
      try {
        for (const node of block.nodes) {
          // Copied only when something changed: most nodes of a large function keep theirs.
          const blocks = node.blocks.length === 0 ? node.blocks : node.blocks.map(walk);
          let args = node.args;
          if (substituted > 0)
            for (let i = 0; i < args.length; i++) {
              const a = s(args[i]!);
              if (a === args[i]) continue;
              if (args === node.args) args = args.slice();
              (args as Value[])[i] = a;
            }
          const changed = args !== node.args || (blocks !== node.blocks && blocks.some((nb, i) => nb !== node.blocks[i]));
          const current: Node = changed ? { ...node, args, blocks } : node;
          b.loc = node.loc;
          const result = rule(current, scope);
          if (result.keep) b.push(result.keep);
          const replace = result.replace;
          if (replace === undefined) continue;
          for (let i = 0; i < replace.length; i++) {
            const v = replace[i];
            const o = node.outs[i]!;
            if (v === undefined || v === o) continue;
            while (subst.length <= o.id) subst.push(undefined);
            if (subst[o.id] === undefined) substituted++;
            subst[o.id] = v;
            // The replacement carries on the source name, for readable dumps and code; the
            // frontend's values keep theirs (the `ir` dump must not change under later passes).
            if (v.name === undefined && o.name !== undefined && !hasFixedName(v)) v.name = o.name;
          }
        }
        return block.results.map(s);
      } finally {
        hooks.exitBlock?.();
      }
    }, block.params);
  const body = walk(fn.body);
  return { ...fn, body };
}

