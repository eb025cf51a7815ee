// A V8 code cache for the CommonJS packages the CLI loads. The TypeScript compiler alone is
// 9 MB of JavaScript; parsing it and compiling the functions a compilation runs is a third of
// a one-file `gradc` run. V8 can serialize that work (`vm.Script#createCachedData`) and take it
// back on the next run; Node 22 does this with `module.enableCompileCache()`, which Node 20 has
// not, so the bin does it for the packages under node_modules while the CLI runs.
//
// The cache lives in a folder of the system's temporary folder that only the user can write
// (created with mode 0700; a folder of that name owned by someone else, or writable by others,
// turns the cache off, since cached code runs as the user's). One file per package file, keyed
// by the file's path, size and mtime, and by the Node version; V8 itself rejects data made by
// another V8 build or flags (the file is then rewritten). Any failure to read or write it only
// costs the time it would have saved. GRADC_COMPILE_CACHE=0 turns it off.

import { createHash } from "node:crypto";
import { lstatSync, mkdirSync, readFileSync, renameSync, statSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { Script } from "node:vm";

interface ModuleInternals {
  exports: unknown;
  require(id: string): unknown;
  _compile(content: string, filename: string): unknown;
}

interface ModuleStatics {
  prototype: ModuleInternals;
  wrap(content: string): string;
  _resolveFilename(request: string, parent: unknown, isMain: boolean, options?: unknown): string;
  _extensions: unknown;
  _cache: unknown;
}

const Module = createRequire(import.meta.url)("node:module") as ModuleStatics;

/** Where a script's cached data is kept, or undefined when it cannot be identified. */
function cacheFile(dir: string, filename: string): string | undefined {
  try {
    const { size, mtimeMs } = statSync(filename);
    const key = createHash("sha1").update(`${process.version}\0${process.arch}\0${filename}\0${size}\0${mtimeMs}`).digest("hex");
    return join(dir, `${key}.v8`);
  } catch {
    return undefined;
  }
}

/** The cache folder, created if missing; undefined unless it is the user's own and private. */
function privateDir(dir: string): string | undefined {
  try {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    const st = lstatSync(dir);
    const uid = process.getuid?.();
    if (!st.isDirectory() || (uid !== undefined && st.uid !== uid) || (st.mode & 0o022) !== 0) return undefined;
    return dir;
  } catch {
    return undefined;
  }
}

/**
 * Compiles the CommonJS files under node_modules loaded from now on through the cache. Returns
 * a function that stops that and saves the cache of every script that had none (call it once
 * the work is done, so the functions that ran are in it).
 */
export function installCompileCache(): () => void {
  if (process.env["GRADC_COMPILE_CACHE"] === "0") return () => {};
  const dir = privateDir(join(tmpdir(), `gradc-compile-cache-${process.getuid?.() ?? "user"}`));
  if (dir === undefined) return () => {};
  const original = Module.prototype._compile;
  const toSave: { script: Script; file: string }[] = [];

  Module.prototype._compile = function (this: ModuleInternals, content: string, filename: string): unknown {
    const file = filename.includes("/node_modules/") ? cacheFile(dir, filename) : undefined;
    if (!file) return original.call(this, content, filename);
    let cachedData: Buffer | undefined;
    try {
      cachedData = readFileSync(file);
    } catch {
      cachedData = undefined;
    }
    const source = Module.wrap(content.startsWith("#!") ? `//${content.slice(2)}` : content);
    const script = new Script(source, { filename, ...(cachedData ? { cachedData } : {}) });
    if (!cachedData || script.cachedDataRejected) toSave.push({ script, file });
    const mod = this;
    const require = Object.assign((id: string) => mod.require(id), {
      resolve: (request: string, options?: unknown) => Module._resolveFilename(request, mod, false, options),
      main: (process as { mainModule?: unknown }).mainModule,
      extensions: Module._extensions,
      cache: Module._cache,
    });
    const wrapper = script.runInThisContext({ displayErrors: true }) as (...args: unknown[]) => unknown;
    return wrapper.call(mod.exports, mod.exports, require, mod, filename, dirname(filename));
  };

  return () => {
    if (Module.prototype._compile === original) return;
    Module.prototype._compile = original;
    if (toSave.length === 0) return;
    try {
      for (const { script, file } of toSave) {
        const tmp = `${file}.${process.pid}.tmp`;
        writeFileSync(tmp, script.createCachedData());
        renameSync(tmp, file);
      }
    } catch {
      // A read-only or full temporary folder: the next run compiles from source again.
    }
  };
}
