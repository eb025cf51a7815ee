// Parsed files shared between the projects of one process. Each `compile()` builds a fresh
// ts-morph project, and each project used to parse and bind its own copy of every file of the
// program (TypeScript's libraries, gradc's declarations, the model and what it imports) before
// its first question to the checker. A TypeScript source file, once parsed and bound, is not
// changed by a program or a checker that uses it: TypeScript itself hands the same file
// objects to the next program when one is rebuilt after an edit, and its language service
// shares them between projects. So a project takes the copy an earlier project made of a file
// with the same path, text and compiler options, and parses only files that are new or changed.
//
// A file a project parses a second time (an edit in the incremental compiler, the placeholder
// of a file too deep to compile) is that project's own from then on. ts-morph does not expose
// its document registry as an option, so this wraps the registry's one creation method; if a
// ts-morph release moves it, projects simply parse their own copies again.

import { type Project, ts } from "ts-morph";

interface Registry {
  createOrUpdateSourceFile(fileName: string, settings: ts.CompilerOptions, snapshot: ts.IScriptSnapshot, kind?: ts.ScriptKind): ts.SourceFile;
}

/** Per path: the options key and text of the last parse, and the parsed file; oldest use first. */
const shared = new Map<string, { readonly key: string; readonly text: string; readonly file: ts.SourceFile }>();
/** Files kept at most: a program's libraries and declarations are about 100. */
const CAPACITY = 400;

/** Lets `project` reuse the files other projects of this process have parsed. */
export function shareParsedFiles(project: Project): void {
  const context = (project as unknown as { _context?: { compilerFactory?: { documentRegistry?: Partial<Registry> } } })._context;
  const registry = context?.compilerFactory?.documentRegistry;
  const create = registry?.createOrUpdateSourceFile;
  if (registry === undefined || typeof create !== "function") return;
  const own = new Set<string>();
  registry.createOrUpdateSourceFile = (fileName, settings, snapshot, kind) => {
    // A file this project parses a second time is being replaced: it stays the project's own.
    if (own.has(fileName)) return create.call(registry, fileName, settings, snapshot, kind);
    own.add(fileName);
    const text = snapshot.getText(0, snapshot.getLength());
    const key = `${JSON.stringify(settings)}\u0000${kind ?? ""}`;
    const hit = shared.get(fileName);
    shared.delete(fileName);
    if (hit !== undefined && hit.key === key && hit.text === text) {
      shared.set(fileName, hit);
      return hit.file;
    }
    const file = create.call(registry, fileName, settings, snapshot, kind);
    shared.set(fileName, { key, text, file });
    if (shared.size > CAPACITY) shared.delete(shared.keys().next().value!);
    return file;
  };
}
