// Writing generated files so that no reader ever sees half of one: the text goes to a temporary
// file in the destination's folder (same filesystem), which is then renamed over the
// destination in one step. Files whose content would not change are not touched at all, so
// their timestamps stay put and watchers (bundlers, tsc --watch) are not woken for nothing.

import { randomBytes } from "node:crypto";
import { mkdirSync, readFileSync, readdirSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { basename, dirname, join } from "node:path";

/** The file's current text, or undefined when there is no file (nothing, or a directory). */
export function readIfExists(file: string): string | undefined {
  try {
    return readFileSync(file, "utf8");
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === "ENOENT" || code === "EISDIR" || code === "ENOTDIR") return undefined;
    throw e;
  }
}

const isAlive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === "EPERM";
  }
};

/** Removes the temporaries of `file` that a gradc killed mid-write (its pid is gone) left behind. */
function removeAbandoned(dir: string, file: string): void {
  const prefix = `.${basename(file)}.`;
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return;
  }
  for (const name of names) {
    const m = name.startsWith(prefix) ? /^(\d+)\.[0-9a-f]{8}\.tmp$/.exec(name.slice(prefix.length)) : null;
    if (m && Number(m[1]) !== process.pid && !isAlive(Number(m[1]))) rmSync(join(dir, name), { force: true });
  }
}

/** Atomically replaces `file` by `text`; returns false (and writes nothing) when equal. */
export function writeIfChanged(file: string, text: string): boolean {
  if (readIfExists(file) === text) return false;
  const dir = dirname(file);
  mkdirSync(dir, { recursive: true });
  removeAbandoned(dir, file);
  const temp = join(dir, `.${basename(file)}.${process.pid}.${randomBytes(4).toString("hex")}.tmp`);
  try {
    writeFileSync(temp, text);
    renameSync(temp, file);
  } catch (e) {
    rmSync(temp, { force: true });
    throw e;
  }
  return true;
}
