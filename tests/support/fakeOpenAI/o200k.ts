/** GPT-4o's tokenizer (o200k_base, ranks shipped in js-tiktoken), with each token's exact UTF-8 bytes. */
/** The part of js-tiktoken's Tiktoken used here. */
interface Encoder {
  encode(text: string): number[];
}

// js-tiktoken's types are ESM-only; its CommonJS build is loaded with require, as this project compiles to CommonJS.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { Tiktoken } = require('js-tiktoken/lite') as { Tiktoken: new (ranks: unknown) => Encoder };
// eslint-disable-next-line @typescript-eslint/no-require-imports
const ranks = require('js-tiktoken/ranks/o200k_base') as { default?: unknown };

/** One token of a text: its id, its bytes (a token may hold part of a multi-byte character) and their byte range. */
export interface O200kToken {
  id: number;
  bytes: Buffer;
  start: number;
  end: number;
}

const encoding = new Tiktoken(ranks.default ?? ranks);
// js-tiktoken keeps each rank's bytes in `textMap` (private in its types); `decode` would turn a token holding half
// a character into U+FFFD, and the API reports such tokens by their bytes.
const rankBytes = (encoding as unknown as { textMap?: Map<number, Uint8Array> }).textMap;

/**
 * The same prompt (system text, label list, schema) arrives with every request: its tokens are computed once. A
 * burst benchmark of 10,000 requests otherwise spends most of its CPU here. Callers only read the arrays.
 */
const memo = new Map<string, O200kToken[]>();
const MEMO_LIMIT = 256;

export function o200kTokens(text: string): O200kToken[] {
  const hit = memo.get(text);
  if (hit !== undefined) return hit;
  const tokens = tokenize(text);
  if (memo.size >= MEMO_LIMIT) memo.clear();
  memo.set(text, tokens);
  return tokens;
}

function tokenize(text: string): O200kToken[] {
  if (!(rankBytes instanceof Map)) throw new Error('js-tiktoken no longer exposes token bytes (textMap); update tests/support/fakeOpenAI/o200k.ts');
  const tokens: O200kToken[] = [];
  let offset = 0;
  for (const id of encoding.encode(text)) {
    const raw = rankBytes.get(id);
    if (raw === undefined) throw new Error(`o200k_base has no bytes for token ${id}`);
    const bytes = Buffer.from(raw);
    tokens.push({ id, bytes, start: offset, end: offset + bytes.length });
    offset += bytes.length;
  }
  // The tokens must spell the text exactly, or every offset computed from them is wrong.
  if (!Buffer.concat(tokens.map((t) => t.bytes)).equals(Buffer.from(text, 'utf8'))) throw new Error('o200k tokens do not spell the text');
  return tokens;
}

export function o200kCount(text: string): number {
  return o200kTokens(text).length;
}
