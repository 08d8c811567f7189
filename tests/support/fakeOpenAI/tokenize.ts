/**
 * Splits the fake model's answer into GPT-4o's real tokens (o200k_base) and gives them logprobs that sum to
 * ln(confidence) over the tokens of each value, so the confidence code meets real token boundaries.
 */
import type { JsonSchemaObject } from './jsonSchemaObject';
import { deref, isPlainObject } from './jsonSchemaObject';
import { o200kTokens } from './o200k';

/** Log-probability of tokens the schema forces (punctuation, keys): certain, give or take rounding. */
export const FORCED_TOKEN_LOGPROB = -1e-6;
export const DEFAULT_CONFIDENCE = 0.97;

export interface AnswerToken {
  /** The token's text; a token holding part of a multi-byte character shows U+FFFD, `bytes` are exact. */
  text: string;
  bytes: Buffer;
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

/** Where one scalar value sits in the JSON text (characters; a string's quotes excluded). */
interface ValueSpan {
  path: string;
  start: number;
  end: number;
  value: unknown;
  cursor: SchemaCursor | undefined;
}

/** The text of several tokens: their bytes joined, decoded once (so split characters come out whole). */
export function tokensText(tokens: readonly AnswerToken[]): string {
  return Buffer.concat(tokens.map((t) => t.bytes)).toString('utf8');
}

/**
 * Tokens of `JSON.stringify(answer)`. Each value's tokens (those overlapping its characters) share ln(confidence),
 * the first carrying most of it; a token overlapping two values carries both shares; every other token is forced.
 */
export function tokenizeJson(answer: unknown, options: JsonTokenizeOptions = {}): AnswerToken[] {
  const spans: ValueSpan[] = [];
  const schema = options.schema;
  const text = layout(answer, [], schema === undefined ? undefined : { root: schema, node: schema }, spans, { text: '' });
  if (text !== JSON.stringify(answer)) throw new Error('tokenizeJson: the laid-out answer differs from JSON.stringify');

  const tokens = o200kTokens(text);
  const shares = tokens.map((): number | undefined => undefined);
  const rivals = tokens.map((): string[] | undefined => undefined);
  const byteAt = (char: number): number => Buffer.byteLength(text.slice(0, char), 'utf8');
  for (const span of spans) {
    const start = byteAt(span.start);
    const end = byteAt(span.end);
    if (end <= start) continue;
    const inside = tokens.flatMap((t, i) => (t.start < end && t.end > start ? [i] : []));
    const confidence = clampProbability(options.confidences?.[span.path] ?? DEFAULT_CONFIDENCE);
    splitLogprob(Math.log(confidence), inside.length).forEach((share, k) => {
      const i = inside[k] ?? 0;
      shares[i] = (shares[i] ?? 0) + share;
    });
    const first = inside[0];
    const firstToken = first === undefined ? undefined : tokens[first];
    if (first !== undefined && firstToken !== undefined && rivals[first] === undefined) {
      // The rival's first token where the value starts, after whatever part of the token precedes the value.
      const lead = firstToken.bytes.subarray(0, Math.max(0, start - firstToken.start)).toString('utf8');
      rivals[first] = rivalsFor(span.value, span.cursor)
        .map((rival) => firstTokenText(lead + rival))
        .filter((r) => r !== '' && r !== decode(firstToken.bytes));
    }
  }
  return tokens.map((t, i) => {
    const share = shares[i];
    const rival = rivals[i];
    const token: AnswerToken = { text: decode(t.bytes), bytes: t.bytes, logprob: share ?? FORCED_TOKEN_LOGPROB };
    if (rival !== undefined) token.rivals = [...new Set(rival)];
    return token;
  });
}

/** Tokens of free text (a refusal, prose instead of JSON), slightly uncertain. */
export function tokenizeText(text: string): AnswerToken[] {
  return o200kTokens(text).map((t, i) => ({ text: decode(t.bytes), bytes: t.bytes, logprob: -(0.01 + (i % 5) * 0.03) }));
}

/** The `logprobs.content` entries for `tokens`, each with `topLogprobs` alternatives (the chosen token among them). */
export function toLogprobContent(tokens: readonly AnswerToken[], topLogprobs: number): TokenLogprob[] {
  return tokens.map((t) => ({
    token: t.text,
    logprob: t.logprob,
    bytes: [...t.bytes],
    top_logprobs: topAlternatives(t, topLogprobs).map((alt) => ({ token: alt.text, logprob: alt.logprob, bytes: alt.bytes })),
  }));
}

const FILLER_TOKENS = [' ', '\n', '"', ',', '}', ']', ':', '{', ' "', '\t', '.', '0', '1', 'a', 'e', 'the', 'null', ' {', '  ', 'n', 's', 'true', 'false'];

function topAlternatives(token: AnswerToken, k: number): { text: string; logprob: number; bytes: number[] }[] {
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
    return { text, logprob, bytes: utf8(text) };
  });
  return [{ text: token.text, logprob: token.logprob, bytes: [...token.bytes] }, ...alternatives].sort((a, b) => b.logprob - a.logprob);
}

interface SchemaCursor {
  root: JsonSchemaObject;
  node: JsonSchemaObject;
}

/** Appends `value` as JSON.stringify writes it, recording each scalar's characters. */
function layout(value: unknown, path: string[], cursor: SchemaCursor | undefined, spans: ValueSpan[], out: { text: string }): string {
  if (Array.isArray(value)) {
    out.text += '[';
    value.forEach((item, i) => {
      if (i > 0) out.text += ',';
      // JSON.stringify writes undefined array items as null.
      layout(item === undefined ? null : item, [...path, String(i)], childCursor(cursor, 'items'), spans, out);
    });
    out.text += ']';
    return out.text;
  }
  if (isPlainObject(value)) {
    out.text += '{';
    Object.entries(value)
      .filter(([, child]) => child !== undefined)
      .forEach(([key, child], i) => {
        out.text += `${i > 0 ? ',' : ''}${JSON.stringify(key)}:`;
        layout(child, [...path, key], childCursor(cursor, key), spans, out);
      });
    out.text += '}';
    return out.text;
  }
  const literal = JSON.stringify(value) ?? 'null';
  const quoted = typeof value === 'string' ? 1 : 0;
  spans.push({ path: path.join('.'), start: out.text.length + quoted, end: out.text.length + literal.length - quoted, value, cursor });
  out.text += literal;
  return out.text;
}

/** Where the model could have gone instead: every other enum value (as JSON text), or the other boolean. */
function rivalsFor(value: unknown, cursor: SchemaCursor | undefined): string[] {
  if (typeof value === 'boolean') return [String(!value)];
  if (cursor === undefined) return [];
  const node = deref(cursor.root, cursor.node);
  const options = node.enum ?? node.anyOf?.flatMap((b) => deref(cursor.root, b).enum ?? []) ?? [];
  const firsts = options
    .filter((option) => JSON.stringify(option) !== JSON.stringify(value))
    .map((option) => (typeof option === 'string' ? JSON.stringify(option).slice(1, -1) : JSON.stringify(option)))
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

/** The first o200k token of `text`. */
function firstTokenText(text: string): string {
  const first = o200kTokens(text)[0];
  return first === undefined ? '' : decode(first.bytes);
}

function decode(bytes: Buffer): string {
  return bytes.toString('utf8');
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
