// The readable listing of a module (`--dump wasm`): WebAssembly text format in its flat form,
// one instruction per line, indented by block depth, locals by name. Printed from the same
// instruction lists the encoder turns into bytes.

import type { FunctionBuilder, Instr, ModuleBuilder } from "./encoder.js";
import { OPCODES } from "./opcodes.js";

export function printModule(m: ModuleBuilder): string {
  const lines: string[] = ["(module"];
  const mem = m.memory;
  const limits = `${mem.min}${mem.max === undefined ? "" : ` ${mem.max}`}${mem.kind === "import" && mem.shared ? " shared" : ""}`;
  if (mem.kind === "import") lines.push(`  (import "${mem.module}" "${mem.name}" (memory ${limits}))`);
  else lines.push(`  (memory (export "${mem.name}") ${limits})`);
  for (const f of m.functions) lines.push(...printFunction(f, m.exported.has(f.name)));
  lines.push(")");
  return lines.join("\n") + "\n";
}

function printFunction(f: FunctionBuilder, exported: boolean): string[] {
  const head = [`(func $${f.name}`];
  if (exported) head.push(`(export "${f.name}")`);
  for (const p of f.params) head.push(`(param $${p.name} ${p.type})`);
  if (f.results.length) head.push(`(result ${f.results.join(" ")})`);
  const lines = [`  ${head.join(" ")}`];
  for (const l of f.locals) lines.push(`    (local $${l.name} ${l.type})`);
  let depth = 2;
  for (const i of f.body) {
    if (i.op === "end" || i.op === "else") depth--;
    lines.push(`${"  ".repeat(depth)}${printInstr(i)}`);
    if (i.op === "block" || i.op === "loop" || i.op === "if" || i.op === "else") depth++;
  }
  lines.push("  )");
  return lines;
}

function printInstr(i: Instr): string {
  if (i.op === "comment") return `;; ${i.text}`;
  const info = OPCODES[i.op];
  switch (info.imm) {
    case "none":
      return i.op;
    case "block":
      return i.blockType ? `${i.op} (result ${i.blockType})` : i.op;
    case "label":
    case "lane":
    case "i32":
      return `${i.op} ${i.value}`;
    case "f32":
    case "f64":
      return `${i.op} ${formatFloat(i.value!)}`;
    case "local":
      return `${i.op} $${i.local!.name}`;
    case "func":
      return `${i.op} $${i.callee}`;
    case "memarg": {
      const parts: string[] = [i.op];
      if (i.memarg!.offset !== 0) parts.push(`offset=${i.memarg!.offset}`);
      if (i.memarg!.align !== info.align) parts.push(`align=${2 ** i.memarg!.align}`);
      return parts.join(" ");
    }
    case "v128":
      return `${i.op} i8x16 ${i.v128!.join(" ")}`;
  }
}

function formatFloat(x: number): string {
  if (Number.isNaN(x)) return "nan";
  if (!Number.isFinite(x)) return x > 0 ? "inf" : "-inf";
  return Object.is(x, -0) ? "-0" : String(x);
}
