/** Finds where each scalar value of a JSON object sits in its text, so token logprobs can be attributed to it. */

export type JsonScalar = string | number | boolean | null;

export interface ScannedValue {
  /** Keys from the root to the value, e.g. `['labels', 'cat']`. */
  path: readonly string[];
  value: JsonScalar;
  /** Offsets into the text (UTF-16 code units), end exclusive; a string's span includes its quotes. */
  start: number;
  end: number;
}

/** Answers are a flat object, or one level deeper for multi-label; anything deeper is not ours. */
const MAX_DEPTH = 4;
const NUMBER = /-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?/y;
const WHITESPACE = /[ \t\n\r]*/y;

class NotScannable extends Error {}

/**
 * Scans a JSON text whose root is an object of objects and scalars. Returns every scalar with its path and
 * span, or null when the text is not such an object (arrays, duplicate keys, bad syntax, trailing text).
 */
export function scanJsonObject(text: string): ScannedValue[] | null {
  const values: ScannedValue[] = [];
  let i = 0;

  const skipWhitespace = (): void => {
    WHITESPACE.lastIndex = i;
    WHITESPACE.exec(text);
    i = WHITESPACE.lastIndex;
  };
  const expect = (ch: string): void => {
    if (text[i] !== ch) throw new NotScannable();
    i++;
  };

  const readString = (): string => {
    const start = i;
    expect('"');
    while (i < text.length && text[i] !== '"') i += text[i] === '\\' ? 2 : 1;
    expect('"');
    // JSON.parse decodes escapes exactly as the parser of the whole answer does.
    return JSON.parse(text.slice(start, i)) as string;
  };

  const readObject = (path: readonly string[]): void => {
    if (path.length >= MAX_DEPTH) throw new NotScannable();
    expect('{');
    const seen = new Set<string>();
    skipWhitespace();
    if (text[i] === '}') {
      i++;
      return;
    }
    for (;;) {
      skipWhitespace();
      const key = readString();
      if (seen.has(key)) throw new NotScannable();
      seen.add(key);
      skipWhitespace();
      expect(':');
      skipWhitespace();
      readValue([...path, key]);
      skipWhitespace();
      if (text[i] === ',') {
        i++;
        continue;
      }
      expect('}');
      return;
    }
  };

  const readValue = (path: readonly string[]): void => {
    const start = i;
    const ch = text[i];
    if (ch === '{') return readObject(path);
    let value: JsonScalar;
    if (ch === '"') value = readString();
    else if (text.startsWith('true', i)) [value, i] = [true, i + 4];
    else if (text.startsWith('false', i)) [value, i] = [false, i + 5];
    else if (text.startsWith('null', i)) [value, i] = [null, i + 4];
    else {
      NUMBER.lastIndex = i;
      const m = NUMBER.exec(text);
      if (m === null) throw new NotScannable();
      value = Number(m[0]);
      i = NUMBER.lastIndex;
    }
    values.push({ path, value, start, end: i });
  };

  try {
    skipWhitespace();
    readObject([]);
    skipWhitespace();
    if (i !== text.length) return null;
    return values;
  } catch (e) {
    if (e instanceof NotScannable || e instanceof SyntaxError) return null;
    throw e;
  }
}
