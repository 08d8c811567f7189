/**
 * One image's prediction against its truth, as the overlay draws it and `--worst` ranks it: matched and missed boxes,
 * the label, the tags and each scene attribute, right or wrong. Inputs are the evaluator's normalised items
 * (shared/eval loadPredictions / loadTruth), so a person's review already wins over the model's answer there. An
 * attribute counts only when the answer gives it (a box-only detector is not wrong about the weather); an
 * unanswered image (rejected, failed, or no prediction) misses everything the truth has.
 */
import type { PredictionItem, TruthItem } from '../eval/evalInput';
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
  /** Where the image is (the run's source path or blob URL), when the predictions say. */
  location: string | null;
  status: PredictionItem['status'] | 'missing';
  reviewed: boolean;
  /** Present when the truth or the answer has boxes. */
  boxes: BoxMatches | null;
  label: ValueCheck | null;
  tags: { predicted: string[]; truth: string[]; missing: string[]; extra: string[] } | null;
  attributes: (ValueCheck & { name: string })[];
  /** The truth's scene attributes as given, judged or not (the banner shows them for a box-only answer). */
  truthAttributes?: Record<string, string>;
  /** FP + FN boxes + a wrong label + each missing or extra tag + each wrong attribute. */
  errors: number;
}

export function compareImage(prediction: PredictionItem | undefined, truth: TruthItem): ImageComparison {
  const p = prediction;
  const boxes = truth.boxes !== undefined || p?.boxes !== undefined ? matchBoxes(p?.boxes ?? [], truth.boxes ?? []) : null;

  let label: ValueCheck | null = null;
  if (truth.label !== undefined || p?.label !== undefined) {
    const predicted = p?.label?.label ?? null;
    label = { predicted, confidence: p?.label?.confidence ?? null, truth: truth.label ?? null, right: truth.label === undefined ? null : same(predicted, truth.label) };
  }

  let tags: ImageComparison['tags'] = null;
  if (truth.labels !== undefined || p?.labels !== undefined) {
    const predicted = (p?.labels ?? []).map((d) => d.label);
    const wanted = truth.labels ?? [];
    tags = truth.labels === undefined ? { predicted, truth: [], missing: [], extra: [] } : { predicted, truth: wanted, missing: wanted.filter((t) => !predicted.some((x) => same(x, t))), extra: predicted.filter((x) => !wanted.some((t) => same(x, t))) };
  }

  const answered = p?.attributes;
  const unanswered = p === undefined || (p.label === undefined && p.labels === undefined && p.attributes === undefined && p.boxes === undefined);
  const attributes: ImageComparison['attributes'] = [];
  const names = [...new Set([...Object.keys(truth.attributes ?? {}), ...Object.keys(answered ?? {})])].sort();
  for (const name of names) {
    const d = answered?.[name];
    const t = truth.attributes?.[name];
    // An attribute the answer does not give is not judged (a weather-only profile is not wrong about the scene),
    // except on an unanswered image, which misses everything.
    if (d === undefined && !unanswered) continue;
    attributes.push({ name, predicted: d?.label ?? null, confidence: d?.confidence ?? null, truth: t ?? null, right: t === undefined ? null : same(d?.label ?? null, t) });
  }

  const errors =
    (boxes === null ? 0 : boxes.falsePositives.length + boxes.missed.length) +
    (label?.right === false ? 1 : 0) +
    (tags === null ? 0 : tags.missing.length + tags.extra.length) +
    attributes.filter((a) => a.right === false).length;
  return {
    name: truth.name,
    location: p?.location ?? null,
    status: p?.status ?? 'missing',
    reviewed: p?.reviewed ?? false,
    boxes,
    label,
    tags,
    attributes,
    errors,
    ...(truth.attributes === undefined ? {} : { truthAttributes: truth.attributes }),
  };
}

/** Labels compare trimmed and case-insensitively: "Rose" from a model is the folder "rose". */
function same(a: string | null, b: string): boolean {
  return a !== null && a.trim().toLowerCase() === b.trim().toLowerCase();
}
