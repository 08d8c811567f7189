/** Splits the fake model's answer into plausible tokens whose logprobs sum to ln(confidence) over each value. */
import type { JsonSchemaObject } from './jsonSchemaObject';
import { deref, isPlainObject } from './jsonSchemaObject';

/** Log-probability of tokens the schema forces (punctuation, keys): certain, give or take rounding. */
export const FORCED_TOKEN_LOGPROB = -1e-6;
export const DEFAULT_CONFIDENCE = 0.97;

export interface AnswerToken {
  text: string;
  logprob: number;
  /** Other tokens the model could have chosen here (other enum values, the other boolean), most likely first. */
  rivals?: string[];
}

export interface TokenLogprob {
  token: string;
  logprob: number;
  bytes: number[];
  top_logprobs: { token: string; logprob: number; bytes: number[] }[];
}

export interface JsonTokenizeOptions {
  schema?: JsonSchemaObject;
  /** Path → probability the value's tokens carry; DEFAULT_CONFIDENCE for any path not listed. */
  confidences?: Record<string, number>;
}

type Piece =
  | { kind: 'punct'; text: string }
  | { kind: 'key'; text: string }
  | { kind: 'value'; texts: string[]; path: string; rivals: string[] };

/** Tokens of `JSON.stringify(answer)`: concatenated, their texts are exactly that string. */
export function tokenizeJson(answer: unknown, options: JsonTokenizeOptions = {}): AnswerToken[] {
  const pieces: Piece[] = [];
  const schema = options.schema;
  emit(answer, [], schema === undefined ? undefined : { root: schema, node: schema }, pieces);

  const tokens: AnswerToken[] = [];
  let punct = '';
  const flush = (): void => {
    // Real BPE merges runs of punctuation such as `":"` or `"}` into one token; cap the merge at three characters.
    for (let i = 0; i < punct.length; i += 3) tokens.push({ text: punct.slice(i, i + 3), logprob: FORCED_TOKEN_LOGPROB });
    punct = '';
  };
  for (const piece of pieces) {
    if (piece.kind === 'punct') {
      punct += piece.text;
      continue;
    }
    flush();
    if (piece.kind === 'key') {
      tokens.push({ text: piece.text, logprob: FORCED_TOKEN_LOGPROB });
      continue;
    }
    const confidence = clampProbability(options.confidences?.[piece.path] ?? DEFAULT_CONFIDENCE);
    splitLogprob(Math.log(confidence), piece.texts.length).forEach((logprob, i) => {
      const text = piece.texts[i] ?? '';
      // Punctuation and keys are forced by the schema, so only value pieces carry the model's uncertainty.
      tokens.push(i === 0 ? { text, logprob, rivals: piece.rivals } : { text, logprob });
    });
  }
  flush();
  return tokens;
}

/** Tokens of free text (a refusal, prose instead of JSON): words with their leading space, slightly uncertain. */
export function tokenizeText(text: string): AnswerToken[] {
  const words = text.match(/\s*[\p{L}]+|\s*\d{1,3}|\s*[^\s\p{L}\d]|\s+/gu) ?? [];
  return words.map((word, i) => ({ text: word, logprob: -(0.01 + (i % 5) * 0.03) }));
}

/** The `logprobs.content` entries for `tokens`, each with `topLogprobs` alternatives (the chosen token among them). */
export function toLogprobContent(tokens: readonly AnswerToken[], topLogprobs: number): TokenLogprob[] {
  return tokens.map((t) => ({
    token: t.text,
    logprob: t.logprob,
    bytes: utf8(t.text),
    top_logprobs: topAlternatives(t, topLogprobs).map((alt) => ({ token: alt.text, logprob: alt.logprob, bytes: utf8(alt.text) })),
  }));
}

const FILLER_TOKENS = [' ', '\n', '"', ',', '}', ']', ':', '{', ' "', '\t', '.', '0', '1', 'a', 'e', 'the', 'null', ' {', '  ', 'n', 's', 'true', 'false'];

function topAlternatives(token: AnswerToken, k: number): { text: string; logprob: number }[] {
  if (k <= 0) return [];
  const chosenP = Math.exp(token.logprob);
  const rest = Math.max(0, 1 - chosenP);
  const seen = new Set([token.text]);
  const names = [...(token.rivals ?? []), ...FILLER_TOKENS].filter((n) => (seen.has(n) ? false : (seen.add(n), true)));
  const rivalCount = token.rivals?.filter((r) => r !== token.text).length ?? 0;
  const alternatives = names.slice(0, k - 1).map((text, i) => {
    // Rivals share what the chosen token left over (halving), fillers are far below everything else.
    const mass = i < rivalCount ? rest * (i === rivalCount - 1 ? 2 ** -i : 2 ** -(i + 1)) : 0;
    const logprob = mass > 1e-12 ? Math.log(mass) : -30 - i * 0.5;
    return { text, logprob };
  });
  return [{ text: token.text, logprob: token.logprob }, ...alternatives].sort((a, b) => b.logprob - a.logprob);
}

interface SchemaCursor {
  root: JsonSchemaObject;
  node: JsonSchemaObject;
}

function emit(value: unknown, path: string[], cursor: SchemaCursor | undefined, out: Piece[]): void {
  if (Array.isArray(value)) {
    out.push({ kind: 'punct', text: '[' });
    value.forEach((item, i) => {
      if (i > 0) out.push({ kind: 'punct', text: ',' });
      // JSON.stringify writes undefined array items as null.
      emit(item === undefined ? null : item, [...path, String(i)], childCursor(cursor, 'items'), out);
    });
    out.push({ kind: 'punct', text: ']' });
    return;
  }
  if (isPlainObject(value)) {
    out.push({ kind: 'punct', text: '{' });
    Object.entries(value)
      .filter(([, child]) => child !== undefined)
      .forEach(([key, child], i) => {
        out.push({ kind: 'punct', text: `${i > 0 ? ',' : ''}"` });
        for (const part of splitWords(JSON.stringify(key).slice(1, -1))) {
          out.push(/^[^\p{L}\d]$/u.test(part) ? { kind: 'punct', text: part } : { kind: 'key', text: part });
        }
        out.push({ kind: 'punct', text: '":' });
        emit(child, [...path, key], childCursor(cursor, key), out);
      });
    out.push({ kind: 'punct', text: '}' });
    return;
  }
  const dotted = path.join('.');
  const rivals = rivalsFor(value, cursor);
  if (typeof value === 'string') {
    const texts = splitWords(JSON.stringify(value).slice(1, -1));
    out.push({ kind: 'punct', text: '"' });
    if (texts.length > 0) out.push({ kind: 'value', texts, path: dotted, rivals });
    out.push({ kind: 'punct', text: '"' });
    return;
  }
  const literal = JSON.stringify(value) ?? 'null';
  const texts = typeof value === 'number' ? (literal.match(/\d{1,3}|\D/g) ?? [literal]) : [literal];
  out.push({ kind: 'value', texts, path: dotted, rivals });
}

/** Where the model could have gone instead: the first token of every other enum value, or the other boolean. */
function rivalsFor(value: unknown, cursor: SchemaCursor | undefined): string[] {
  if (typeof value === 'boolean') return [String(!value)];
  if (cursor === undefined) return [];
  const node = deref(cursor.root, cursor.node);
  const options = node.enum ?? node.anyOf?.flatMap((b) => deref(cursor.root, b).enum ?? []) ?? [];
  const firsts = options
    .filter((option) => JSON.stringify(option) !== JSON.stringify(value))
    .map((option) => (typeof option === 'string' ? splitWords(JSON.stringify(option).slice(1, -1))[0] : JSON.stringify(option)))
    .filter((t): t is string => typeof t === 'string' && t.length > 0);
  return [...new Set(firsts)];
}

function childCursor(cursor: SchemaCursor | undefined, key: string): SchemaCursor | undefined {
  if (cursor === undefined) return undefined;
  const node = deref(cursor.root, cursor.node);
  const candidates = [node, ...(node.anyOf ?? []).map((b) => deref(cursor.root, b))];
  for (const candidate of candidates) {
    const next = key === 'items' ? candidate.items : candidate.properties?.[key];
    if (next !== undefined) return { root: cursor.root, node: next };
  }
  return undefined;
}

/**
 * GPT-like pieces: a word with its leading separator, long words cut in chunks of about five letters,
 * digits in groups of up to three, other characters one by one.
 */
function splitWords(text: string): string[] {
  const pieces: string[] = [];
  for (const match of text.match(/[ _-]?[\p{L}]+|\d{1,3}|[^\p{L}\d]/gu) ?? []) {
    if (match.length <= 7) {
      pieces.push(match);
      continue;
    }
    let rest = match;
    while (rest.length > 7) {
      pieces.push(rest.slice(0, 5));
      rest = rest.slice(5);
    }
    pieces.push(rest);
  }
  return pieces;
}

/** n logprobs that sum to `total`: the first piece decides, so it carries most of the uncertainty. */
function splitLogprob(total: number, n: number): number[] {
  if (n <= 1) return [total];
  const first = total * 0.9;
  const each = (total - first) / (n - 1);
  return [first, ...Array.from({ length: n - 1 }, () => each)];
}

function clampProbability(p: number): number {
  if (!Number.isFinite(p) || p <= 0) return 1e-12;
  return Math.min(p, 1);
}

function utf8(text: string): number[] {
  return [...Buffer.from(text, 'utf8')];
}
