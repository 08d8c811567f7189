/**
 * Calibration of the model's confidence against correctness, and the review threshold each label needs.
 *
 * Reliability: 10 equal-width bins [0, 0.1), …, [0.9, 1.0] (1.0 falls in the last); ECE = Σ_b (n_b / N) ·
 * |accuracy_b − mean confidence_b| (Guo et al. 2017). Thresholds: for each label, over the answers of that label,
 * the lowest observed confidence t such that the answers with confidence ≥ t reach the target precision; answers
 * below t are the ones that would go to review. Observed values (not 0) are used so a label whose every answer was
 * right still gets the lowest confidence actually seen, not "accept anything".
 */
import type { CalibrationSection, LabelThreshold, ReliabilityBin } from './types';

export interface ScoredDecision {
  /** Threshold key: the label, `<attribute>.<label>`, or a detection category. */
  key: string;
  confidence: number;
  correct: boolean;
  /** The image the decision belongs to, for the overall review share. */
  image: string;
}

export const BINS = 10;

export function reliabilityBins(decisions: readonly Pick<ScoredDecision, 'confidence' | 'correct'>[]): ReliabilityBin[] {
  const acc = Array.from({ length: BINS }, () => ({ n: 0, conf: 0, right: 0 }));
  for (const d of decisions) {
    const b = acc[Math.min(BINS - 1, Math.max(0, Math.floor(d.confidence * BINS)))] as { n: number; conf: number; right: number };
    b.n++;
    b.conf += d.confidence;
    if (d.correct) b.right++;
  }
  return acc.map((b, i) => ({ lower: i / BINS, upper: (i + 1) / BINS, count: b.n, meanConfidence: b.n === 0 ? null : b.conf / b.n, accuracy: b.n === 0 ? null : b.right / b.n }));
}

export function expectedCalibrationError(bins: readonly ReliabilityBin[]): number | null {
  const n = bins.reduce((a, b) => a + b.count, 0);
  if (n === 0) return null;
  return bins.reduce((a, b) => (b.count === 0 ? a : a + (b.count / n) * Math.abs((b.accuracy as number) - (b.meanConfidence as number))), 0);
}

export function labelThreshold(decisions: readonly Pick<ScoredDecision, 'confidence' | 'correct'>[], targetPrecision: number): LabelThreshold {
  const sorted = [...decisions].sort((a, b) => b.confidence - a.confidence);
  let best: { threshold: number; precision: number; accepted: number } | null = null;
  let right = 0;
  for (let i = 0; i < sorted.length; i++) {
    const d = sorted[i] as ScoredDecision;
    if (d.correct) right++;
    // Only at the end of a run of equal confidences: a threshold accepts all of them or none.
    if (i + 1 < sorted.length && (sorted[i + 1] as ScoredDecision).confidence === d.confidence) continue;
    const precision = right / (i + 1);
    if (precision >= targetPrecision) best = { threshold: d.confidence, precision, accepted: i + 1 };
  }
  if (best === null) return { threshold: null, precision: null, reviewShare: sorted.length === 0 ? 0 : 1, answers: sorted.length };
  return { threshold: best.threshold, precision: best.precision, reviewShare: (sorted.length - best.accepted) / sorted.length, answers: sorted.length };
}

export function calibration(decisions: readonly ScoredDecision[], targetPrecision: number): CalibrationSection {
  const bins = reliabilityBins(decisions);
  const byKey = new Map<string, ScoredDecision[]>();
  for (const d of decisions) byKey.set(d.key, [...(byKey.get(d.key) ?? []), d]);
  const thresholds: Record<string, LabelThreshold> = {};
  for (const key of [...byKey.keys()].sort()) thresholds[key] = labelThreshold(byKey.get(key) as ScoredDecision[], targetPrecision);
  // An image goes to review when any of its decisions is below its label's threshold (or its label has none).
  const images = new Map<string, boolean>();
  for (const d of decisions) {
    const t = (thresholds[d.key] as LabelThreshold).threshold;
    const review = t === null || d.confidence < t;
    images.set(d.image, (images.get(d.image) ?? false) || review);
  }
  const reviewed = [...images.values()].filter(Boolean).length;
  return { ece: expectedCalibrationError(bins), bins, decisions: decisions.length, targetPrecision, thresholds, reviewShare: images.size === 0 ? null : reviewed / images.size };
}
