/** Validates the model's JSON answer against the profile (labels as enums) and turns it into a ClassificationResult. */
import { z } from 'zod';

import type { Label, LabelProfile } from '../profiles/profileSchema';
import { answerConfidenceKey } from './answerConfidenceKey';
import type { ClassificationResult } from './classification';

export interface ParsedAnswer {
  ok: true;
  /** Decisions carry the self-reported confidence (or null): the fallback when logprobs are unavailable. */
  result: ClassificationResult;
  /** The answer's own 0..1 estimate; null when missing or out of range. */
  selfReportedConfidence: number | null;
}

export type AnswerFailureReason = 'invalid_json' | 'label_outside_set' | 'missing_field' | 'invalid_answer';

export interface AnswerFailure {
  ok: false;
  reason: AnswerFailureReason;
  message: string;
}

/**
 * Never throws: an unusable answer is a typed failure the classifier can ask again about. Extra top-level
 * properties are ignored (endpoints without strict mode add them), but a label outside the profile's set, in
 * any field or as a multi-label key, is a failure. A missing or malformed self-estimate is not: it only
 * means there is no self-reported confidence.
 */
export function parseAnswer(profile: LabelProfile, content: string): ParsedAnswer | AnswerFailure {
  let json: unknown;
  try {
    json = JSON.parse(content);
  } catch (e) {
    return { ok: false, reason: 'invalid_json', message: `The answer is not JSON: ${(e as Error).message}` };
  }

  const confidenceKey = answerConfidenceKey(profile);
  const parsed = answerSchema(profile).safeParse(json);
  if (!parsed.success) return describeFailure(json, parsed.error.issues);

  const answer = parsed.data as Record<string, unknown>;
  const raw = (json as Record<string, unknown>)[confidenceKey];
  const self = typeof raw === 'number' && Number.isFinite(raw) && raw >= 0 && raw <= 1 ? raw : null;

  let result: ClassificationResult;
  switch (profile.kind) {
    case 'single-label':
      result = { kind: 'single-label', label: answer['label'] as string, confidence: self };
      break;
    case 'multi-label': {
      const labels = answer['labels'] as Record<string, boolean>;
      result = {
        kind: 'multi-label',
        labels: profile.labels.filter((l) => labels[l.name] === true).map((l) => ({ label: l.name, confidence: self })),
      };
      break;
    }
    case 'attributes':
      result = {
        kind: 'attributes',
        attributes: Object.fromEntries(profile.attributes.map((a) => [a.name, { label: answer[a.name] as string, confidence: self }])),
      };
      break;
  }
  return { ok: true, result, selfReportedConfidence: self };
}

function describeFailure(json: unknown, issues: readonly z.core.$ZodIssue[]): AnswerFailure {
  const issue = issues[0];
  if (issue === undefined) return { ok: false, reason: 'invalid_answer', message: 'the answer does not match the profile' };
  const where = issue.path.length === 0 ? 'answer' : issue.path.map(String).join('.');
  const found = valueAt(json, issue.path);
  if (issue.path.length > 0 && found === undefined) return { ok: false, reason: 'missing_field', message: `${where} is missing` };
  if (issue.code === 'invalid_value') {
    return { ok: false, reason: 'label_outside_set', message: `${where}: ${JSON.stringify(found)} is not one of the profile's labels` };
  }
  if (issue.code === 'unrecognized_keys') {
    return { ok: false, reason: 'label_outside_set', message: `${where}: ${issue.keys.map((k) => JSON.stringify(k)).join(', ')} not among the profile's labels` };
  }
  return { ok: false, reason: 'invalid_answer', message: `${where}: ${issue.message}` };
}

function valueAt(json: unknown, path: readonly PropertyKey[]): unknown {
  let v = json;
  for (const key of path) {
    if (typeof v !== 'object' || v === null || typeof key === 'symbol') return undefined;
    v = (v as Record<string | number, unknown>)[key];
  }
  return v;
}

function answerSchema(profile: LabelProfile): z.ZodType {
  switch (profile.kind) {
    case 'single-label':
      return z.object({ label: labelEnum(profile.labels) });
    case 'multi-label':
      return z.object({ labels: z.strictObject(Object.fromEntries(profile.labels.map((l) => [l.name, z.boolean()]))) });
    case 'attributes':
      return z.object(Object.fromEntries(profile.attributes.map((a) => [a.name, labelEnum(a.labels)])));
  }
}

function labelEnum(labels: readonly Label[]) {
  return z.enum(labels.map((l) => l.name) as [string, ...string[]]);
}
