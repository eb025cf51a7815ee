// `gradc --watch`: compile, then recompile whenever a file of the program changes, in the manner
// of `tsc --watch`. Folders are watched rather than files, because editors often save by writing
// a new file and renaming it over the old one, which a watch on the old file would miss. Changes
// are debounced, so a burst of saves compiles once. Errors, including crashes, are reported and
// the watch goes on; fixing them clears them on the next compilation.

import { type FSWatcher, watch } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { type BuildFlags, finishCompilation } from "./build.js";
import { type CliIO, watchStatus } from "./report.js";
import { Session, isGenerated } from "./session.js";

/** Quiet period after the last change before recompiling. */
const DEBOUNCE_MS = 20;

/** Control over a running --watch session. */
export interface WatchHandle {
  /** Stops watching; the promise returned by runWatch then resolves. */
  close(): void;
}

/** Runs until SIGINT (or `handle.close()`); resolves with exit code 0. */
export function runWatch(flags: BuildFlags, io: CliIO, onStart?: (handle: WatchHandle) => void): Promise<number> {
  return new Promise((resolveExit) => {
    let session: Session | undefined;
    const watchers = new Map<string, FSWatcher>();
    const pending = new Set<string>();
    let timer: NodeJS.Timeout | undefined;
    let closed = false;

    const compile = (first: boolean): void => {
      watchStatus(first ? "Starting compilation in watch mode..." : "File change detected. Starting incremental compilation...", io);
      let errors = 0;
      try {
        if (session) session.refresh(pending);
        else session = new Session(flags);
        pending.clear();
        const result = session.compile();
        finishCompilation(result, flags, io, { summary: false });
        errors = result.diagnostics.length + result.internalErrors.length;
      } catch (e) {
        // A broken tsconfig or a named file that vanished: say so, start afresh next time.
        session = undefined;
        pending.clear();
        io.stdout.write(`gradc: error: ${e instanceof Error ? e.message : String(e)}\n`);
        errors = 1;
      }
      // Watch before saying so: a change made right after the status line must not be missed.
      updateWatchers();
      watchStatus(`Found ${errors} error${errors === 1 ? "" : "s"}. Watching for file changes.`, io);
    };

    const onChange = (path: string): void => {
      // Without a session (the last compilation could not load the program), only a source file
      // or a tsconfig.json can change that; any other write in the folder (such as the log this
      // very output is redirected to) must not start a compilation, or each would start the next.
      const relevant = session ? session.affects(path) : /\.[cm]?[jt]sx?$|(^|[\\/])tsconfig\.json$/.test(path) && !isGenerated(path);
      if (!relevant || closed) return;
      pending.add(path);
      clearTimeout(timer);
      timer = setTimeout(() => compile(false), DEBOUNCE_MS);
    };

    const updateWatchers = (): void => {
      const dirs = new Set<string>();
      for (const f of session?.watchedFiles() ?? []) dirs.add(dirname(f));
      for (const f of flags.files) dirs.add(dirname(resolve(flags.cwd, f)));
      if (flags.project) dirs.add(dirname(flags.project));
      if (flags.files.length === 0 && !flags.project) dirs.add(flags.cwd);
      for (const [dir, w] of watchers)
        if (!dirs.has(dir)) {
          w.close();
          watchers.delete(dir);
        }
      for (const dir of dirs) {
        if (watchers.has(dir)) continue;
        try {
          const w = watch(dir, (_event, name) => name && onChange(join(dir, name.toString())));
          w.on("error", () => {
            w.close();
            watchers.delete(dir);
          });
          watchers.set(dir, w);
        } catch {
          // The folder does not exist (yet); the next compilation tries again.
        }
      }
    };

    const close = (): void => {
      if (closed) return;
      closed = true;
      clearTimeout(timer);
      for (const w of watchers.values()) w.close();
      watchers.clear();
      process.off("SIGINT", close);
      process.off("SIGTERM", close);
      resolveExit(0);
    };
    process.on("SIGINT", close);
    process.on("SIGTERM", close);
    compile(true);
    onStart?.({ close });
  });
}
