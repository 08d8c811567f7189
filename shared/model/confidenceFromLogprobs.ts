/** Turns token logprobs into per-decision probabilities: the joint probability of the tokens that spell each answer value. */
import type { LabelProfile } from '../profiles/profileSchema';
import type { ClassificationResult, Decision } from './classification';
import type { ScannedValue } from './scanJsonObject';
import { scanJsonObject } from './scanJsonObject';

/** One entry of `choices[0].logprobs.content`. */
export interface TokenLogprob {
  token: string;
  logprob: number;
  /** UTF-8 bytes of the token; lets tokens that split a multi-byte character line up exactly. */
  bytes?: readonly number[] | null;
}

export interface LogprobConfidence {
  /** Decisions carry their logprob confidence; multi-label lists only the labels answered true, with P(true). */
  result: ClassificationResult;
  /** The least confident decision, including P(false) of each label answered false. */
  confidence: number;
}

/**
 * Reconstructs the answer from its tokens (UTF-8 byte offsets), finds each decision's value in the JSON
 * text, and takes exp(sum of the logprobs of every token overlapping that value, quotes included). That is
 * the probability of emitting exactly this value: the closing quote counts because it is where the model
 * chooses between `cat` and a longer label such as `catfish`; structural tokens forced by the schema add
 * ~0 to the sum. Returns null, so the caller falls back to the self-reported confidence, when the tokens
 * do not spell the content exactly or the content lacks a decision: better no logprob confidence than a
 * guessed one.
 */
export function confidenceFromLogprobs(profile: LabelProfile, content: string, tokens: readonly TokenLogprob[]): LogprobConfidence | null {
  if (tokens.length === 0 || tokens.some((t) => !Number.isFinite(t.logprob))) return null;

  const tokenEnds: number[] = [];
  const parts: Buffer[] = [];
  let offset = 0;
  for (const t of tokens) {
    const bytes = t.bytes === undefined || t.bytes === null ? Buffer.from(t.token, 'utf8') : Buffer.from(t.bytes);
    parts.push(bytes);
    offset += bytes.length;
    tokenEnds.push(offset);
  }
  if (!Buffer.concat(parts).equals(Buffer.from(content, 'utf8'))) return null;

  const scanned = scanJsonObject(content);
  if (scanned === null) return null;
  const byPath = new Map(scanned.map((v) => [JSON.stringify(v.path), v]));
  const find = (...path: string[]): ScannedValue | undefined => byPath.get(JSON.stringify(path));

  const probability = (v: ScannedValue): number => {
    const start = Buffer.byteLength(content.slice(0, v.start), 'utf8');
    const end = Buffer.byteLength(content.slice(0, v.end), 'utf8');
    let sum = 0;
    let tokenStart = 0;
    tokens.forEach((t, k) => {
      const tokenEnd = tokenEnds[k] ?? tokenStart;
      if (tokenStart < end && tokenEnd > start) sum += t.logprob;
      tokenStart = tokenEnd;
    });
    return Math.min(1, Math.exp(sum));
  };

  switch (profile.kind) {
    case 'single-label': {
      const v = find('label');
      if (typeof v?.value !== 'string' || !profile.labels.some((l) => l.name === v.value)) return null;
      const p = probability(v);
      return { result: { kind: 'single-label', label: v.value, confidence: p }, confidence: p };
    }
    case 'multi-label': {
      const present: Decision[] = [];
      let least = 1;
      for (const { name } of profile.labels) {
        const v = find('labels', name);
        if (typeof v?.value !== 'boolean') return null;
        // P(true) for a label answered true, P(false) for one answered false: each decision's own odds.
        const p = probability(v);
        if (v.value) present.push({ label: name, confidence: p });
        least = Math.min(least, p);
      }
      return { result: { kind: 'multi-label', labels: present }, confidence: least };
    }
    case 'attributes': {
      const attributes: Record<string, Decision> = {};
      let least = 1;
      for (const field of profile.attributes) {
        const v = find(field.name);
        if (typeof v?.value !== 'string' || !field.labels.some((l) => l.name === v.value)) return null;
        const p = probability(v);
        attributes[field.name] = { label: v.value, confidence: p };
        least = Math.min(least, p);
      }
      return { result: { kind: 'attributes', attributes }, confidence: least };
    }
  }
}
