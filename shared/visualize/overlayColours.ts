/** The overlay's legend: one colour per outcome, predicted boxes solid, ground truth dashed. */

export const OVERLAY_COLOURS = {
  /** A predicted box matched to a truth box of its class at IoU ≥ 0.5 (its truth box is drawn dashed in the same green). */
  matched: '#22c55e',
  /** A predicted box with no truth box to match: false positive. */
  falsePositive: '#ef4444',
  /** A truth box no prediction matched: false negative (missed). */
  missed: '#f59e0b',
  /** A crowd / ignored truth region: neither a miss nor a match. */
  crowd: '#94a3b8',
  /** The banner above the image. */
  banner: '#111827',
} as const;

export const OVERLAY_LEGEND = [
  `green solid: predicted box matched to a truth box of the same class (IoU ≥ 0.5); green dashed: that truth box`,
  `red solid: false positive (predicted, nothing to match)`,
  `orange dashed: false negative (truth box no prediction matched)`,
  `grey dashed: crowd / ignored truth region`,
  `banner: predicted vs truth label and scene attributes, ✓ right / ✗ wrong`,
].join('\n');
