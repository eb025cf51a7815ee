// Identifiers in generated code. Every name derived from user source is made a plain ASCII
// identifier that cannot be a keyword, cannot shadow a global the generated code uses, and
// cannot collide with the `$gradc_` helpers.

const RESERVED = new Set(
  (
    "break case catch class const continue debugger default delete do else enum export extends false finally for " +
    "function if import in instanceof new null return super switch this throw true try typeof var void while with " +
    "yield let static implements interface package private protected public await async of arguments eval " +
    "Math Object Array Number Float64Array Float32Array Uint8Array Int32Array Symbol Error TypeError " +
    "globalThis undefined NaN Infinity"
  ).split(" "),
);

export function sanitize(raw: string): string {
  let s = raw.replace(/[^A-Za-z0-9_]/g, "_");
  if (s === "" || /^[0-9]/.test(s)) s = `_${s}`;
  if (s.startsWith("$gradc") || RESERVED.has(s)) s = `${s}_`;
  return s;
}

/**
 * True when a user's name can be declared as it is at the generated module's top level: a plain
 * identifier that is no reserved word in strict mode, no global the generated code reads
 * (`Math`, `Float64Array`, ...) and no name of a `$gradc_` helper or buffer.
 */
export function isPlainName(name: string): boolean {
  return /^[A-Za-z_$][\w$]*$/.test(name) && !RESERVED.has(name) && !name.startsWith("$gradc");
}

/** Hands out unique identifiers within one generated function. */
export class NameTable {
  private used = new Set<string>();
  /** Names handed out by fresh(), as opposed to reserved ones. */
  readonly handed = new Set<string>();
  constructor(reserved: Iterable<string> = []) {
    for (const r of reserved) this.used.add(r);
  }
  /** Next suffix to try per base, so handing out n names of one base stays linear. */
  private nextSuffix = new Map<string, number>();

  fresh(hint: string): string {
    const base = sanitize(hint);
    let name = base;
    let k = this.nextSuffix.get(base) ?? 1;
    if (this.used.has(name)) {
      do name = `${base}_${k++}`;
      while (this.used.has(name));
    }
    this.nextSuffix.set(base, k);
    this.used.add(name);
    this.handed.add(name);
    return name;
  }
}

/** A JS property access that is safe for any key, including `__proto__` and quotes. */
export function propertyAccess(key: string | number): string {
  if (typeof key === "number") return `[${key}]`;
  return /^[A-Za-z_$][\w$]*$/.test(key) && key !== "__proto__" ? `.${key}` : `[${JSON.stringify(key)}]`;
}

/** An object-literal key that defines an own property for any key (never sets a prototype). */
export function objectKey(key: string): string {
  return /^[A-Za-z_$][\w$]*$/.test(key) && key !== "__proto__" ? key : `[${JSON.stringify(key)}]`;
}

/** Text safe inside a `//` comment. */
export const commentText = (s: string): string => s.replace(/[\r\n\u2028\u2029]/g, " ");
