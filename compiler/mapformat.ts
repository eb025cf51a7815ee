// The source map format (version 3), declared here so that gradc's published types (the
// integration core returns maps) need no source map library's declarations.

/** A source map, version 3, with `mappings` encoded. */
export interface EncodedSourceMap {
  readonly version: 3;
  readonly file?: string | null;
  readonly names: readonly string[];
  readonly sourceRoot?: string;
  readonly sources: readonly (string | null)[];
  readonly sourcesContent?: readonly (string | null)[];
  readonly mappings: string;
  readonly ignoreList?: readonly number[];
}
