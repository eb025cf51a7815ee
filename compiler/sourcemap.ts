// Source maps for generated code. Codegen records, for each line it writes, the source location
// of the IR block the line computes (the same location its `// model.ts:12` comments name);
// here those locations become mappings. Nothing parses generated text: a line maps from its
// first column to the model line's location, so a stack frame or breakpoint anywhere on the
// line lands on the model's line.

import { GenMapping, addSegment, setSourceContent, toEncodedMap } from "@jridgewell/gen-mapping";
import type { Loc } from "./ir/types.js";
import type { EncodedSourceMap } from "./mapformat.js";

export type { EncodedSourceMap };

/**
 * Adds one mapping per located line to `map`. Locations' files are written as given: paths
 * relative to the generated file's folder (or absolute), as source maps want them.
 */
export function addLineMappings(map: GenMapping, lines: readonly (Loc | undefined)[], firstLine = 0): void {
  lines.forEach((loc, i) => {
    if (loc) addSegment(map, firstLine + i, 0, loc.file, loc.line - 1, Math.max(0, loc.col - 1));
  });
}

/**
 * The source map of a generated module written to `file`, from its line locations. With
 * `contents`, each source's text is embedded (`sourcesContent`), so the map works without the
 * sources beside it.
 */
export function moduleSourceMap(
  file: string,
  lines: readonly (Loc | undefined)[],
  contents?: (source: string) => string | undefined,
): EncodedSourceMap {
  const map = new GenMapping({ file });
  addLineMappings(map, lines);
  if (contents)
    for (const source of new Set(lines.flatMap((l) => (l ? [l.file] : [])))) {
      const text = contents(source);
      if (text !== undefined) setSourceContent(map, source, text);
    }
  return toEncodedMap(map);
}

/** A `//# sourceMappingURL=` comment for a map: a file name, or the map inline as a data URL. */
export function sourceMappingURL(map: EncodedSourceMap | string): string {
  const url = typeof map === "string" ? map : `data:application/json;charset=utf-8;base64,${Buffer.from(JSON.stringify(map)).toString("base64")}`;
  return `//# sourceMappingURL=${url}`;
}
