/**
 * One image's prediction against its truth, as the overlay draws it and `--worst` ranks it: matched and missed boxes,
 * the label, the tags and each scene attribute, right or wrong. A person's review wins over the model's answer, as in
 * the evaluator. An attribute counts only when the answer has attributes at all (a box-only detector is not wrong
 * about the weather); an unanswered image (rejected, failed, or no prediction) misses everything the truth has.
 */
import type { ClassificationResult, DetectedObject } from '../model/classification';
import type { PredictionRecord, PredictionStatus } from '../runs/predictionRecord';
import type { ImageTruth } from './ImageTruth';
import type { BoxMatches } from './matchBoxes';
import { matchBoxes } from './matchBoxes';

export interface ValueCheck {
  predicted: string | null;
  confidence: number | null;
  truth: string | null;
  /** null when there is no truth to judge by. */
  right: boolean | null;
}

export interface ImageComparison {
  name: string;
  status: PredictionStatus | 'missing';
  reviewed: boolean;
  /** Present when the truth or the answer has boxes. */
  boxes: BoxMatches | null;
  label: ValueCheck | null;
  tags: { predicted: string[]; truth: string[]; missing: string[]; extra: string[] } | null;
  attributes: (ValueCheck & { name: string })[];
  /** FP + FN boxes + a wrong label + each missing or extra tag + each wrong attribute. */
  errors: number;
}

export function compareImage(record: PredictionRecord | undefined, truth: ImageTruth): ImageComparison {
  const result: ClassificationResult | null = record?.review?.result ?? record?.result ?? null;
  const objects: DetectedObject[] = result?.kind === 'objects' ? result.objects : [];
  const boxes = truth.objects !== undefined || objects.length > 0 ? matchBoxes(objects, truth.objects ?? []) : null;

  let label: ValueCheck | null = null;
  if (truth.label !== undefined || result?.kind === 'single-label') {
    const predicted = result?.kind === 'single-label' ? result.label : null;
    label = { predicted, confidence: result?.kind === 'single-label' ? result.confidence : null, truth: truth.label ?? null, right: truth.label === undefined ? null : same(predicted, truth.label) };
  }

  let tags: ImageComparison['tags'] = null;
  if (truth.labels !== undefined || result?.kind === 'multi-label') {
    const predicted = result?.kind === 'multi-label' ? result.labels.map((d) => d.label) : [];
    const wanted = truth.labels ?? [];
    tags = truth.labels === undefined ? { predicted, truth: [], missing: [], extra: [] } : { predicted, truth: wanted, missing: wanted.filter((t) => !predicted.some((p) => same(p, t))), extra: predicted.filter((p) => !wanted.some((t) => same(p, t))) };
  }

  const answered = result?.kind === 'attributes' ? result.attributes : result?.kind === 'objects' ? result.attributes : undefined;
  const attributes: ImageComparison['attributes'] = [];
  const names = [...new Set([...Object.keys(truth.attributes ?? {}), ...Object.keys(answered ?? {})])].sort();
  // Truth-only attributes count for an unanswered image, or for an answer that has attributes but not this one.
  const judge = answered !== undefined || result === null;
  for (const name of names) {
    const d = answered?.[name];
    const t = truth.attributes?.[name];
    if (d === undefined && !judge) continue;
    attributes.push({ name, predicted: d?.label ?? null, confidence: d?.confidence ?? null, truth: t ?? null, right: t === undefined ? null : same(d?.label ?? null, t) });
  }

  const errors =
    (boxes === null ? 0 : boxes.falsePositives.length + boxes.missed.length) +
    (label?.right === false ? 1 : 0) +
    (tags === null ? 0 : tags.missing.length + tags.extra.length) +
    attributes.filter((a) => a.right === false).length;
  return { name: truth.name, status: record?.status ?? 'missing', reviewed: record?.review != null, boxes, label, tags, attributes, errors };
}

/** Labels compare trimmed and case-insensitively: "Rose" from a model is the folder "rose". */
function same(a: string | null, b: string): boolean {
  return a !== null && a.trim().toLowerCase() === b.trim().toLowerCase();
}
