/** Whether a classification is confident enough to stand, or goes to a person. */
import type { ModelClassification } from '../model/classification';
import type { Profile } from '../profiles/profileSchema';

/**
 * Below the profile's threshold → `needs_review`. An unknown confidence (an endpoint with neither logprobs nor a
 * self-estimate) also goes to review unless the threshold is 0, because nothing says the answer is good.
 * With `labelThresholds` (set from evidence by `blobsight evaluate --write-thresholds`), each decision is held to its
 * own label's threshold (the profile's for labels without one) and any decision below its threshold sends the image
 * to review. For boxes the keys are the detection classes (and `<attribute>.<label>` for a box profile's attributes).
 */
export function decideStatus(classification: Pick<ModelClassification, 'confidence' | 'result'>, profile: Pick<Profile, 'confidenceThreshold'> & { labelThresholds?: Readonly<Record<string, number>> | undefined }): 'classified' | 'needs_review' {
  const { confidence, result } = classification;
  const perLabel = profile.labelThresholds;
  if (result.kind === 'objects') {
    // Detection applies the profile's threshold per box (weaker boxes are dropped), so what remains stands and no boxes
    // is an answer too; with per-class thresholds from evidence, a kept box (or attribute) below its own class's
    // threshold sends the image to a person, box and all.
    if (perLabel === undefined) return 'classified';
    const below = (key: string, score: number | null): boolean => {
      const threshold = perLabel[key];
      return threshold !== undefined && threshold > 0 && (score === null || score < threshold);
    };
    if (result.objects.some((o) => below(o.label, o.score))) return 'needs_review';
    if (Object.entries(result.attributes ?? {}).some(([a, d]) => below(`${a}.${d.label}`, d.confidence))) return 'needs_review';
    return 'classified';
  }
  if (perLabel !== undefined && Object.keys(perLabel).length > 0) {
    const decisions = result.kind === 'single-label' ? [{ key: result.label, confidence: result.confidence ?? confidence }] : result.kind === 'multi-label' ? result.labels.map((d) => ({ key: d.label, confidence: d.confidence })) : Object.entries(result.attributes).map(([a, d]) => ({ key: `${a}.${d.label}`, confidence: d.confidence }));
    for (const d of decisions) {
      const threshold = perLabel[d.key] ?? profile.confidenceThreshold;
      if (threshold === 0) continue;
      if (d.confidence === null || d.confidence < threshold) return 'needs_review';
    }
    return 'classified';
  }
  if (profile.confidenceThreshold === 0) return 'classified';
  if (confidence === null) return 'needs_review';
  return confidence < profile.confidenceThreshold ? 'needs_review' : 'classified';
}

/** Every label in a result, flattened for querying (`ARRAY_CONTAINS(c.labels, @label)`). */
export function flattenLabels(result: ModelClassification['result']): string[] {
  switch (result.kind) {
    case 'single-label':
      return [result.label];
    case 'multi-label':
      return result.labels.map((d) => d.label);
    case 'attributes':
      return Object.values(result.attributes).map((d) => d.label);
    case 'objects':
      return [...new Set([...result.objects.map((o) => o.label), ...Object.values(result.attributes ?? {}).map((d) => d.label)])].sort();
  }
}

/** The parts of a document (and of the on-demand answer) that come from one classification. */
export function classificationFields(c: ModelClassification): {
  result: ModelClassification['result'];
  labels: string[];
  confidence: number | null;
  confidenceSource: ModelClassification['confidenceSource'];
  model: ModelClassification['model'];
  usage: ModelClassification['usage'] & { modelCalls: number };
} {
  return { result: c.result, labels: flattenLabels(c.result), confidence: c.confidence, confidenceSource: c.confidenceSource, model: c.model, usage: { ...c.usage, modelCalls: c.calls } };
}
