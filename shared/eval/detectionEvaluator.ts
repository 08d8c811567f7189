/** The detection evaluator `evaluate` uses by default (shared/eval/detection, built beside this module). */
import type { DetectionImage, DetectionOptions, DetectionReport } from './detection/types';

export function evaluateDetection(images: readonly DetectionImage[], options: DetectionOptions): DetectionReport {
  void images;
  void options;
  throw new Error('The detection evaluator (shared/eval/detection/evaluateDetection) is not merged into this branch yet.');
}
