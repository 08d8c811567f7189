/** Validates a vision model's detection answer and turns its grid boxes into the original image's pixels. */
import { z } from 'zod';

import type { ObjectsProfile } from '../profiles/profileSchema';
import { answerConfidenceKey } from './answerConfidenceKey';
import type { UprightSize } from './boxGrid';
import { gridBoxToPixels } from './boxGrid';
import type { Decision, DetectedObject } from './classification';
import type { AnswerFailure, ParsedAnswer } from './parseAnswer';

/**
 * Never throws. A category or attribute label outside the profile's lists is a failure (asked again), like a label
 * answer. Boxes scoring below the profile's threshold are dropped, zero-area boxes too; at most `maxObjects` are kept,
 * highest scores first. A missing or out-of-range score counts as unknown and keeps the box (with score 0 the
 * export formats would hide it): the threshold is for answers that say how sure they are.
 */
export function parseDetectionAnswer(profile: ObjectsProfile & { categories: readonly string[] }, content: string, original: UprightSize): ParsedAnswer | AnswerFailure {
  let json: unknown;
  try {
    json = JSON.parse(content);
  } catch (e) {
    return { ok: false, reason: 'invalid_json', message: `The answer is not JSON: ${(e as Error).message}` };
  }
  const coordinate = z.number().finite();
  const schema = z.object({
    objects: z.array(
      z.object({
        category: z.enum(profile.categories as [string, ...string[]]),
        box: z.object({ x1: coordinate, y1: coordinate, x2: coordinate, y2: coordinate }),
        score: z.unknown().optional(),
      }),
    ),
    ...Object.fromEntries((profile.attributes ?? []).map((a) => [a.name, z.enum(a.labels.map((l) => l.name) as [string, ...string[]])])),
  });
  const parsed = schema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const where = issue === undefined || issue.path.length === 0 ? 'answer' : issue.path.map(String).join('.');
    const reason = issue?.code === 'invalid_value' ? 'label_outside_set' : issue?.code === 'invalid_type' && issue.message.includes('undefined') ? 'missing_field' : 'invalid_answer';
    return { ok: false, reason, message: `${where}: ${issue?.message ?? 'the answer does not match the profile'}` };
  }
  const answer = parsed.data as { objects: { category: string; box: DetectedObject['box']; score?: unknown }[] } & Record<string, unknown>;
  const raw = (json as Record<string, unknown>)[answerConfidenceKey(profile)];
  const self = probability(raw);

  const objects: DetectedObject[] = answer.objects
    .map((o) => ({ label: o.category, detectorClass: o.category, score: probability(o.score) ?? self ?? 1, box: gridBoxToPixels(o.box, original) }))
    .filter((o) => o.box.x2 > o.box.x1 && o.box.y2 > o.box.y1 && o.score >= profile.confidenceThreshold)
    .sort((a, b) => b.score - a.score)
    .slice(0, profile.maxObjects);
  const attributes: Record<string, Decision> | undefined =
    profile.attributes === undefined ? undefined : Object.fromEntries(profile.attributes.map((a) => [a.name, { label: answer[a.name] as string, confidence: self }]));
  return { ok: true, result: { kind: 'objects', objects, ...(attributes === undefined ? {} : { attributes }) }, selfReportedConfidence: self };
}

function probability(v: unknown): number | null {
  return typeof v === 'number' && Number.isFinite(v) && v >= 0 && v <= 1 ? v : null;
}
