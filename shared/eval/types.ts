/**
 * What `blobsight evaluate` computes: the `--json` form named in issue 11 (those names are an interface), plus the
 * per-image outcomes, reliability bins and PR data the report needs. Fractions are 0–1, `null` where undefined (a
 * precision with nothing predicted is 0, as sklearn's zero_division=0; a metric over no images is null). Sections
 * that do not apply are absent. Latency is in milliseconds, money in US dollars.
 */
import type { ClassDetection, DetectionCounts, DetectionSummary } from './detection/types';

/** Precision / recall / F1 and the support (number of truth items) of one label. */
export interface LabelScores {
  precision: number;
  recall: number;
  f1: number;
  support: number;
  /** How many times the label was predicted (tp + fp). */
  predicted: number;
}

export interface Averages {
  precision: number;
  recall: number;
  f1: number;
}

/** Rows are truth labels (`labels`), columns are `labels` then "unknown" (an answer outside the label set, or none). */
export interface Confusion {
  labels: string[];
  columns: string[];
  matrix: number[][];
}

export interface ClassificationSection {
  /** Correct images / evaluated images (an unanswered image counts as wrong, in the "unknown" column). */
  accuracy: number | null;
  macro: Averages;
  weighted: Averages;
  perClass: Record<string, LabelScores>;
  confusion: Confusion;
  images: number;
  correct: number;
}

export interface MultiLabelSection {
  /** Share of images whose predicted label set equals the truth set exactly. */
  exactMatch: number | null;
  micro: Averages;
  macro: Averages;
  perLabel: Record<string, LabelScores>;
  images: number;
  /** True positives over all labels: the "correct labels" cost is divided by. */
  correctLabels: number;
}

export interface AttributeScores {
  accuracy: number | null;
  /** Images with a truth value for this attribute (BDD100K's "undefined" is no value). */
  images: number;
  correct: number;
  macro: Averages;
  weighted: Averages;
  perLabel: Record<string, LabelScores>;
  confusion: Confusion;
}

export interface AttributesOverall {
  /** Correct decisions / decisions over every attribute. */
  accuracy: number | null;
  decisions: number;
  correct: number;
  /** Share of images with every attribute right. */
  allCorrect: number | null;
}

/** `overall`, and one AttributeScores per attribute name (weather, timeofday, scene). */
export type AttributesSection = { overall: AttributesOverall } & Record<string, AttributeScores | AttributesOverall>;

export interface SynonymUse {
  /** The attribute the synonym applied to, or null for a synonym for every attribute. */
  attribute: string | null;
  from: string;
  to: string;
  truth: number;
  predictions: number;
}

export interface ReliabilityBin {
  /** [lower, upper); the last bin includes 1. */
  lower: number;
  upper: number;
  count: number;
  /** Mean confidence and share correct in the bin; null when empty. */
  meanConfidence: number | null;
  accuracy: number | null;
}

export interface LabelThreshold {
  /** Lowest observed confidence t such that answers of this label with confidence ≥ t reach the target precision; null if none does. */
  threshold: number | null;
  /** Precision of the answers at or above the threshold (null when none reaches the target). */
  precision: number | null;
  /** Share of this label's answers that fall below the threshold and would go to review (1 when no threshold reaches the target). */
  reviewShare: number;
  /** Answers of this label with a confidence (null for detection classes, whose counts are in detection.perClass). */
  answers: number | null;
}

export interface CalibrationSection {
  /** Expected calibration error over 10 equal-width bins: Σ n_b/N · |accuracy_b − confidence_b|. */
  ece: number | null;
  bins: ReliabilityBin[];
  /** Decisions (answer, confidence) counted. */
  decisions: number;
  targetPrecision: number;
  /** Keys: the label (single- and multi-label), `<attribute>.<label>` (attributes), the category (detection scores). */
  thresholds: Record<string, LabelThreshold>;
  /** Share of images that would go to review with every label at its threshold (null without decisions). */
  reviewShare: number | null;
}

export interface LatencySection {
  /** Percentiles by linear interpolation between closest ranks (numpy's default), over images with a model call. */
  p50: number | null;
  p90: number | null;
  p95: number | null;
  p99: number | null;
  max: number | null;
  mean: number | null;
  /** Population standard deviation (ddof = 0, numpy's default). */
  std: number | null;
  count: number;
}

export interface CostSection {
  perImageUsd: number | null;
  totalUsd: number | null;
  /** Total cost / correct labels (correct images, true-positive tags, correct attribute values, TP boxes at IoU 0.5). */
  perCorrectLabelUsd: number | null;
  tokens: { prompt: number; completion: number; total: number; perImage: number | null };
  images: number;
}

/** The detection section as issue 11 names it: the detection evaluator's own summary types (shared/eval/detection). */
export type { DetectionCounts } from './detection/types';

export interface DetectionSection extends DetectionSummary {
  at50: DetectionCounts;
  perClass: Record<string, ClassDetection>;
}

/** Why an image is in the evaluation, and what went wrong with it: the report picks the worst images from these. */
export interface ImageOutcome {
  name: string;
  /** Where the image is, when known (the run's source location). */
  location: string | null;
  status: 'classified' | 'needs_review' | 'rejected' | 'failed' | 'answered';
  reviewed: boolean;
  /** Errors on this image: a wrong label counts 1, each wrong tag or attribute 1, each FP and FN box 1. */
  errors: number;
  correct: boolean | null;
  truth: string[];
  predicted: string[];
  confidence: number | null;
  /** BDD100K frame attributes of the truth, for slices and the report's banner. */
  truthAttributes?: Record<string, string>;
  predictedAttributes?: Record<string, string>;
}

export interface ImagesSection {
  evaluated: number;
  predictionsWithoutTruth: number;
  truthWithoutPredictions: number;
  /** Evaluated images the run could not answer (rejected or failed): they count as wrong. */
  unanswered: number;
  /** Evaluated images whose answer is a person's review (reviews win over the model's answer). */
  reviewed: number;
  /** Images matched by basename without extension because their relative names differ. */
  matchedByBasename: number;
  /** Up to 20 names of each unmatched kind, for the message. */
  examples: { predictionsWithoutTruth: string[]; truthWithoutPredictions: string[] };
}

/** Every metric of one set of images; a slice has the same shape without slices of its own. */
export interface EvaluationMetrics {
  images: ImagesSection;
  detection?: DetectionSection;
  classification?: ClassificationSection;
  multiLabel?: MultiLabelSection;
  attributes?: AttributesSection;
  calibration?: CalibrationSection;
  latency?: LatencySection;
  cost?: CostSection;
}

export interface EvaluationResult extends EvaluationMetrics {
  /** What was compared: the resolved inputs and formats. */
  inputs: { pred: string; predFormat: string; truth: string; truthFormat: string; profile: { name: string; version: string; kind: string } | null };
  /** `--slice-by`: slice value → the metrics of the images (and boxes) in it. */
  slices?: { by: string; values: Record<string, EvaluationMetrics> };
  synonyms?: SynonymUse[];
  /** Inputs that break other evaluators, skipped lines, unmatched names: printed and kept. */
  warnings: string[];
  /** Per image (sorted by name): the report's worst-mistakes gallery and `visualize --worst` read these. */
  perImage: ImageOutcome[];
  /** Detection extras passed through from the detection evaluator (PR curves, per-class score thresholds). */
  detectionDetails?: { prCurves?: unknown; scoreThresholds?: unknown };
}
