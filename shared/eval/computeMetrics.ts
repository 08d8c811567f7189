/**
 * Every metric of one set of matched images (the whole evaluation, or one slice). Which sections appear follows
 * from the truth and the profile: a label → classification, labels → multi-label, attributes → attributes,
 * boxes → detection; calibration wherever the answers carry confidences; latency and cost wherever the predictions
 * come from a run.
 */
import { calibration, type ScoredDecision } from './calibration';
import { classificationMetrics, type LabelPair } from './classificationMetrics';
import type { DetectionImage, DetectionOptions, DetectionReport } from './detection/types';
import { ratio } from './labelScores';
import { latencyStats } from './latencyStats';
import type { MatchedImage } from './matchImages';
import { multiLabelMetrics } from './multiLabelMetrics';
import { toDetectionImages } from './toDetectionImages';
import type { AttributeScores, AttributesSection, CalibrationSection, CostSection, DetectionSection, EvaluationMetrics, ImagesSection } from './types';

/** BDD100K writes "undefined" where an attribute was not annotated: no truth for that attribute on that frame. */
export const UNDEFINED_ATTRIBUTE = 'undefined';

export type DetectFn = (images: readonly DetectionImage[], options: DetectionOptions) => DetectionReport;

export interface MetricsContext {
  kinds: { classification: boolean; multiLabel: boolean; attributes: string[]; detection: boolean };
  /** Label vocabularies from the profile: single/multi labels, per attribute, detection categories. */
  labels: string[];
  attributeLabels: Record<string, string[]>;
  detectionCategories: string[] | null;
  bdd100k: boolean;
  targetPrecision: number;
  /** The profile's box score threshold, for detection's at-0.5 counts. */
  scoreThreshold: number;
  detect: DetectFn;
}

export interface ComputedMetrics {
  metrics: EvaluationMetrics;
  detectionReport: DetectionReport | null;
}

export function computeMetrics(matched: readonly MatchedImage[], images: ImagesSection, ctx: MetricsContext): ComputedMetrics {
  const out: EvaluationMetrics = { images };
  const decisions: ScoredDecision[] = [];
  let correctLabels = 0;
  if (ctx.kinds.classification) {
    const pairs: LabelPair[] = [];
    for (const m of matched) {
      if (m.truth.label === undefined) continue;
      const p = m.prediction.label;
      pairs.push({ truth: m.truth.label, predicted: p?.label ?? null });
      if (p?.confidence !== null && p?.confidence !== undefined) decisions.push({ key: p.label, confidence: p.confidence, correct: p.label === m.truth.label, image: m.name });
    }
    out.classification = classificationMetrics(pairs, ctx.labels);
    correctLabels += out.classification.correct;
  }
  if (ctx.kinds.multiLabel) {
    const pairs = matched
      .filter((m) => m.truth.labels !== undefined)
      .map((m) => {
        const truth = m.truth.labels as string[];
        const predicted = m.prediction.labels;
        for (const d of predicted ?? []) if (d.confidence !== null) decisions.push({ key: d.label, confidence: d.confidence, correct: truth.includes(d.label), image: m.name });
        return { truth, predicted: predicted === undefined ? null : predicted.map((d) => d.label) };
      });
    out.multiLabel = multiLabelMetrics(pairs, ctx.labels);
    correctLabels += out.multiLabel.correctLabels;
  }
  if (ctx.kinds.attributes.length > 0) {
    out.attributes = attributesSection(matched, ctx, decisions);
    correctLabels += out.attributes.overall.correct;
  }
  let detectionReport: DetectionReport | null = null;
  if (ctx.kinds.detection) {
    const options: DetectionOptions = { scoreThreshold: ctx.scoreThreshold, targetPrecision: ctx.targetPrecision };
    if (ctx.detectionCategories !== null) options.categories = ctx.detectionCategories;
    const conversion: string[] = [];
    detectionReport = ctx.detect(toDetectionImages(matched, ctx.bdd100k, conversion), options);
    detectionReport = { ...detectionReport, warnings: [...conversion, ...detectionReport.warnings] };
    out.detection = detectionSection(detectionReport);
    correctLabels += detectionReport.at50.tp;
  }
  const cal = calibrationSection(decisions, detectionReport, ctx.targetPrecision);
  if (cal !== null) out.calibration = cal;
  const fromRun = matched.filter((m) => m.prediction.usage !== undefined);
  if (fromRun.length > 0) {
    // Latency of images that made a model call: a reused answer took no model time and would flatter the figures.
    out.latency = latencyStats(fromRun.filter((m) => (m.prediction.usage?.modelCalls ?? 0) > 0 && m.prediction.totalMs !== undefined).map((m) => m.prediction.totalMs as number));
    out.cost = costSection(fromRun, correctLabels);
  }
  return { metrics: out, detectionReport };
}

function attributesSection(matched: readonly MatchedImage[], ctx: MetricsContext, decisions: ScoredDecision[]): AttributesSection {
  let all = 0;
  let allRight = 0;
  let decided = 0;
  let right = 0;
  const section: Record<string, AttributeScores> = {};
  const perImage = new Map<string, boolean>();
  for (const a of ctx.kinds.attributes) {
    const pairs: LabelPair[] = [];
    for (const m of matched) {
      const t = m.truth.attributes?.[a];
      if (t === undefined || t === UNDEFINED_ATTRIBUTE) continue;
      const p = m.prediction.attributes?.[a];
      pairs.push({ truth: t, predicted: p?.label ?? null });
      perImage.set(m.name, (perImage.get(m.name) ?? true) && p?.label === t);
      if (p?.confidence !== null && p?.confidence !== undefined) decisions.push({ key: `${a}.${p.label}`, confidence: p.confidence, correct: p.label === t, image: m.name });
    }
    const c = classificationMetrics(pairs, ctx.attributeLabels[a] ?? []);
    section[a] = { accuracy: c.accuracy, images: c.images, correct: c.correct, macro: c.macro, weighted: c.weighted, perLabel: c.perClass, confusion: c.confusion };
    decided += c.images;
    right += c.correct;
  }
  for (const ok of perImage.values()) {
    all++;
    if (ok) allRight++;
  }
  return { ...section, overall: { accuracy: decided === 0 ? null : right / decided, decisions: decided, correct: right, allCorrect: all === 0 ? null : allRight / all } };
}

function detectionSection(r: DetectionReport): DetectionSection {
  return { AP: r.AP, AP50: r.AP50, AP75: r.AP75, APsmall: r.APsmall, APmedium: r.APmedium, APlarge: r.APlarge, AR1: r.AR1, AR10: r.AR10, AR100: r.AR100, ARsmall: r.ARsmall, ARmedium: r.ARmedium, ARlarge: r.ARlarge, at50: r.at50, perClass: r.perClass };
}

function calibrationSection(decisions: readonly ScoredDecision[], detection: DetectionReport | null, targetPrecision: number): CalibrationSection | null {
  if (decisions.length === 0 && (detection === null || Object.keys(detection.scoreThresholds).length === 0)) return null;
  const c = calibration(decisions, targetPrecision);
  // Detection: the per-class score thresholds the detection evaluator found at IoU 0.5, keyed by category.
  for (const [category, t] of Object.entries(detection?.scoreThresholds ?? {})) {
    c.thresholds[category] = { threshold: t.threshold, precision: t.precision, reviewShare: t.reviewShare ?? 0, answers: null };
  }
  return c;
}

function costSection(fromRun: readonly MatchedImage[], correctLabels: number): CostSection {
  let prompt = 0;
  let completion = 0;
  let cost: number | null = 0;
  for (const m of fromRun) {
    const u = m.prediction.usage as NonNullable<MatchedImage['prediction']['usage']>;
    prompt += u.promptTokens;
    completion += u.completionTokens;
    // An image without a price (a model missing from the price table) makes the total unknown, not smaller.
    if (u.modelCalls > 0) cost = u.costUsd === null || cost === null ? null : cost + u.costUsd;
  }
  const n = fromRun.length;
  return {
    perImageUsd: cost === null ? null : ratio(cost, n),
    totalUsd: cost,
    perCorrectLabelUsd: cost === null || correctLabels === 0 ? null : cost / correctLabels,
    tokens: { prompt, completion, total: prompt + completion, perImage: n === 0 ? null : (prompt + completion) / n },
    images: n,
  };
}
