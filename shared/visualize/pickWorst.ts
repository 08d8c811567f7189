/** `--worst N`: the N images with the most errors (FP + FN boxes, wrong label, tags, attributes); ties by name. */
import type { ImageComparison } from './compareImage';

export function pickWorst(comparisons: readonly ImageComparison[], n: number): ImageComparison[] {
  return comparisons
    .filter((c) => c.errors > 0)
    .sort((a, b) => b.errors - a.errors || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
    .slice(0, n);
}
