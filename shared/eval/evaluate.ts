/**
 * `blobsight evaluate`'s computation: predictions (a run or a file) against ground truth, matched by name, into the
 * EvaluationResult the CLI prints, `--json` writes and the report draws.
 */
import type { Profile } from '../profiles/profileSchema';
import type { DetectFn, MetricsContext } from './computeMetrics';
import { computeMetrics, UNDEFINED_ATTRIBUTE } from './computeMetrics';
import type { DetectionImage } from './detection/types';
import { evaluateDetection } from './detectionEvaluator';
import type { PredictionItem, PredictionSet, TruthItem, TruthSet } from './evalInput';
import type { PredictionOptions } from './loadPredictions';
import { loadPredictions } from './loadPredictions';
import type { TruthFormat } from './loadTruth';
import { detectTruthFormat, loadTruth } from './loadTruth';
import type { MatchedImage } from './matchImages';
import { matchImages } from './matchImages';
import { sliceImages } from './sliceImages';
import { Synonyms } from './synonyms';
import { BDD100K_DETECTION_CLASSES, boxErrors, toDetectionImages } from './toDetectionImages';
import type { EvaluationMetrics, EvaluationResult, ImageOutcome, ImagesSection } from './types';

export const DEFAULT_TARGET_PRECISION = 0.95;

export interface EvaluateOptions extends PredictionOptions {
  pred: string;
  truth: string;
  format?: 'auto' | TruthFormat;
  /** The profile the predictions answer (its labels, thresholds); default: none (labels from the data). */
  profile?: Profile | null;
  targetPrecision?: number;
  sliceBy?: string;
  synonyms?: Synonyms;
  detect?: DetectFn;
}

export function evaluate(options: EvaluateOptions): EvaluationResult {
  const format = options.format === undefined || options.format === 'auto' ? detectTruthFormat(options.truth) : options.format;
  const truth = loadTruth(options.truth, format);
  const pred = loadPredictions(options.pred, truth, options);
  return evaluateSets(pred, truth, { ...options, inputs: { pred: options.pred, truth: options.truth } });
}

export interface EvaluateSetsOptions {
  profile?: Profile | null;
  targetPrecision?: number;
  sliceBy?: string;
  synonyms?: Synonyms;
  detect?: DetectFn;
  inputs?: { pred: string; truth: string };
}

/** The evaluation of already-loaded inputs (tests and `runs compare` call this). */
export function evaluateSets(pred: PredictionSet, truth: TruthSet, options: EvaluateSetsOptions = {}): EvaluationResult {
  const synonyms = options.synonyms ?? Synonyms.none();
  const match = matchImages(pred.items, truth.items);
  const matched = match.matched.map((m) => applySynonyms(m, synonyms));
  const profile = options.profile ?? null;
  const ctx = contextFor(matched, truth, profile, options.targetPrecision ?? DEFAULT_TARGET_PRECISION, options.detect ?? evaluateDetection);
  const warnings = [...truth.warnings, ...pred.warnings];
  const images = imagesSection(matched, match.predictionsWithoutTruth, match.truthWithoutPredictions);
  if (images.predictionsWithoutTruth > 0) warnings.push(`${images.predictionsWithoutTruth} predictions have no ground truth (e.g. ${images.examples.predictionsWithoutTruth.slice(0, 3).join(', ')}); not evaluated`);
  if (images.truthWithoutPredictions > 0) warnings.push(`${images.truthWithoutPredictions} ground-truth images have no prediction (e.g. ${images.examples.truthWithoutPredictions.slice(0, 3).join(', ')}); not evaluated`);
  if (images.unanswered > 0) warnings.push(`${images.unanswered} evaluated images were rejected or failed in the run: they count as wrong (the "unknown" column)`);
  if (matched.length === 0) warnings.push('no image of the predictions matched the ground truth by name (or by basename without extension)');
  const { metrics, detectionReport } = computeMetrics(matched, images, ctx);
  if (detectionReport !== null) warnings.push(...detectionReport.warnings);
  const result: EvaluationResult = {
    ...metrics,
    inputs: {
      pred: options.inputs?.pred ?? '',
      predFormat: pred.format,
      truth: options.inputs?.truth ?? '',
      truthFormat: truth.format,
      profile: profile === null ? (pred.profile ?? null) : { name: profile.name, version: profile.version, kind: profile.kind },
    },
    warnings,
    perImage: perImageOutcomes(matched, ctx),
  };
  if (detectionReport !== null) result.detectionDetails = { prCurves: detectionReport.prCurves, scoreThresholds: detectionReport.scoreThresholds };
  if (options.sliceBy !== undefined) {
    const values: Record<string, EvaluationMetrics> = {};
    for (const s of sliceImages(matched, options.sliceBy, ctx)) {
      values[s.value] = computeMetrics(s.matched, imagesSection(s.matched, [], []), s.ctx).metrics;
    }
    result.slices = { by: options.sliceBy, values };
  }
  const used = synonyms.used();
  if (used.length > 0) result.synonyms = used;
  return result;
}

function contextFor(matched: readonly MatchedImage[], truth: TruthSet, profile: Profile | null, targetPrecision: number, detect: DetectFn): MetricsContext {
  const has = (f: (t: TruthItem) => boolean): boolean => matched.some((m) => f(m.truth));
  const attributes = new Set<string>();
  if (profile?.kind === 'attributes' || (profile?.kind === 'objects' && profile.attributes !== undefined)) for (const a of profile.attributes ?? []) attributes.add(a.name);
  for (const m of matched) {
    for (const [k, v] of Object.entries(m.truth.attributes ?? {})) if (v !== UNDEFINED_ATTRIBUTE && m.prediction.attributes !== undefined) attributes.add(k);
  }
  // Attributes the predictions never answer (a local detector's boxes-only run) are not scored as all wrong.
  const answered = [...attributes].filter((a) => matched.some((m) => m.prediction.attributes?.[a] !== undefined) || profile?.kind === 'attributes');
  const attributeLabels: Record<string, string[]> = {};
  if (profile !== null && (profile.kind === 'attributes' || profile.kind === 'objects')) for (const a of profile.attributes ?? []) attributeLabels[a.name] = a.labels.map((l) => l.name);
  const detection = has((t) => t.boxes !== undefined) && (profile === null ? matched.some((m) => m.prediction.boxes !== undefined) : profile.kind === 'objects');
  let detectionCategories: string[] | null = null;
  if (truth.format === 'bdd100k') detectionCategories = [...BDD100K_DETECTION_CLASSES];
  else if (profile?.kind === 'objects' && profile.categories !== undefined) detectionCategories = [...profile.categories];
  return {
    kinds: {
      classification: has((t) => t.label !== undefined) && (profile === null || profile.kind === 'single-label'),
      multiLabel: has((t) => t.labels !== undefined) && (profile === null || profile.kind === 'multi-label'),
      attributes: answered.sort(),
      detection,
    },
    labels: profile !== null && (profile.kind === 'single-label' || profile.kind === 'multi-label') ? profile.labels.map((l) => l.name) : [],
    attributeLabels,
    detectionCategories,
    bdd100k: truth.format === 'bdd100k',
    targetPrecision,
    scoreThreshold: profile?.kind === 'objects' ? profile.confidenceThreshold : 0,
    detect,
  };
}

function applySynonyms(m: MatchedImage, s: Synonyms): MatchedImage {
  const truth: TruthItem = { ...m.truth };
  const prediction: PredictionItem = { ...m.prediction };
  if (truth.label !== undefined) truth.label = s.map(null, truth.label, 'truth');
  if (truth.labels !== undefined) truth.labels = truth.labels.map((l) => s.map(null, l, 'truth'));
  if (truth.attributes !== undefined) truth.attributes = Object.fromEntries(Object.entries(truth.attributes).map(([k, v]) => [k, s.map(k, v, 'truth')]));
  if (prediction.label !== undefined) prediction.label = { ...prediction.label, label: s.map(null, prediction.label.label, 'predictions') };
  if (prediction.labels !== undefined) prediction.labels = prediction.labels.map((d) => ({ ...d, label: s.map(null, d.label, 'predictions') }));
  if (prediction.attributes !== undefined) prediction.attributes = Object.fromEntries(Object.entries(prediction.attributes).map(([k, d]) => [k, { ...d, label: s.map(k, d.label, 'predictions') }]));
  return { ...m, truth, prediction };
}

export function imagesSection(matched: readonly MatchedImage[], predOnly: readonly PredictionItem[], truthOnly: readonly TruthItem[]): ImagesSection {
  return {
    evaluated: matched.length,
    predictionsWithoutTruth: predOnly.length,
    truthWithoutPredictions: truthOnly.length,
    unanswered: matched.filter((m) => m.prediction.status === 'rejected' || m.prediction.status === 'failed').length,
    reviewed: matched.filter((m) => m.prediction.reviewed).length,
    matchedByBasename: matched.filter((m) => m.byBasename).length,
    examples: { predictionsWithoutTruth: predOnly.slice(0, 20).map((p) => p.name), truthWithoutPredictions: truthOnly.slice(0, 20).map((t) => t.name) },
  };
}

function perImageOutcomes(matched: readonly MatchedImage[], ctx: MetricsContext): ImageOutcome[] {
  const detImages: DetectionImage[] = ctx.kinds.detection ? toDetectionImages(matched, ctx.bdd100k) : [];
  const categories = ctx.detectionCategories === null ? null : new Set(ctx.detectionCategories);
  return matched.map((m, i) => {
    const t = m.truth;
    const p = m.prediction;
    let errors = 0;
    let correct: boolean | null = null;
    const truthLabels: string[] = [];
    const predicted: string[] = [];
    if (ctx.kinds.classification && t.label !== undefined) {
      truthLabels.push(t.label);
      if (p.label !== undefined) predicted.push(p.label.label);
      correct = p.label?.label === t.label;
      if (!correct) errors++;
    }
    if (ctx.kinds.multiLabel && t.labels !== undefined) {
      truthLabels.push(...t.labels);
      const pl = (p.labels ?? []).map((d) => d.label);
      predicted.push(...pl);
      const wrong = pl.filter((l) => !(t.labels as string[]).includes(l)).length + t.labels.filter((l) => !pl.includes(l)).length;
      errors += wrong;
      correct = p.labels !== undefined && wrong === 0;
    }
    if (ctx.kinds.attributes.length > 0) {
      let all = true;
      for (const a of ctx.kinds.attributes) {
        const tv = t.attributes?.[a];
        if (tv === undefined || tv === UNDEFINED_ATTRIBUTE) continue;
        if (p.attributes?.[a]?.label !== tv) {
          errors++;
          all = false;
        }
      }
      correct = correct === null ? all : correct && all;
    }
    if (ctx.kinds.detection) {
      const e = boxErrors(detImages[i] as DetectionImage, ctx.scoreThreshold, categories);
      errors += e.fp + e.fn;
      correct = correct === null ? e.fp + e.fn === 0 : correct && e.fp + e.fn === 0;
    }
    const confidences = [p.label?.confidence, ...(p.labels ?? []).map((d) => d.confidence), ...Object.values(p.attributes ?? {}).map((d) => d.confidence)].filter((c): c is number => typeof c === 'number');
    const outcome: ImageOutcome = { name: m.name, location: p.location, status: p.status, reviewed: p.reviewed, errors, correct, truth: truthLabels, predicted, confidence: confidences.length === 0 ? null : Math.min(...confidences) };
    if (t.attributes !== undefined) outcome.truthAttributes = t.attributes;
    if (p.attributes !== undefined) outcome.predictedAttributes = Object.fromEntries(Object.entries(p.attributes).map(([k, d]) => [k, d.label]));
    return outcome;
  });
}
