/**
 * `--slice-by`: the subsets every metric is computed again on.
 *
 * - `weather` | `timeofday` | `scene`: one slice per value of the frame's truth attribute (BDD100K), frames
 *   without one in `(none)`.
 * - `size`: `small` (area < 32²), `medium` (32²–96²), `large` (> 96²) boxes; every image stays, with only the truth
 *   and predicted boxes whose own area is in the range (so a slice's AP is that of a data set of only such boxes,
 *   which differs from COCO's APsmall, where out-of-range boxes are ignored rather than removed).
 * - `class:<a,b>`: one slice of the images whose truth or answer has one of these labels (detection: those
 *   categories), with the averages over these labels only.
 * - `prefix:<p>`: the images whose name starts with `p`, and `(other)` for the rest.
 */
import { UsageError } from '../cli/UsageError';
import type { MetricsContext } from './computeMetrics';
import type { EvalBox } from './evalInput';
import type { MatchedImage } from './matchImages';

export interface Slice {
  value: string;
  matched: MatchedImage[];
  ctx: MetricsContext;
}

const ATTRIBUTE_SLICES = new Set(['weather', 'timeofday', 'scene']);
const SIZES: readonly { name: string; lo: number; hi: number }[] = [
  { name: 'small', lo: 0, hi: 32 ** 2 },
  { name: 'medium', lo: 32 ** 2, hi: 96 ** 2 },
  { name: 'large', lo: 96 ** 2, hi: Infinity },
];

export function parseSliceBy(by: string): void {
  if (ATTRIBUTE_SLICES.has(by) || by === 'size') return;
  if (/^class:.+/.test(by) || /^prefix:.+/.test(by)) return;
  throw new UsageError(`--slice-by ${by}: expected size, weather, timeofday, scene, class:<a,b> or prefix:<p>.`);
}

export function sliceImages(matched: readonly MatchedImage[], by: string, ctx: MetricsContext): Slice[] {
  parseSliceBy(by);
  if (ATTRIBUTE_SLICES.has(by)) {
    const groups = new Map<string, MatchedImage[]>();
    for (const m of matched) {
      const v = m.truth.attributes?.[by] ?? '(none)';
      groups.set(v, [...(groups.get(v) ?? []), m]);
    }
    return [...groups.keys()].sort().map((value) => ({ value, matched: groups.get(value) as MatchedImage[], ctx }));
  }
  if (by === 'size') {
    // The boxes' own areas; BDD100K's +1 convention is applied to the area as the evaluator does.
    const plus = ctx.bdd100k ? 1 : 0;
    const area = (b: EvalBox): number => b.area ?? (b.x2 - b.x1 + plus) * (b.y2 - b.y1 + plus);
    return SIZES.map((s) => {
      const inRange = (b: EvalBox): boolean => area(b) >= s.lo && area(b) < s.hi;
      return {
        value: s.name,
        matched: matched.map((m) => ({ ...m, truth: { ...m.truth, boxes: (m.truth.boxes ?? []).filter(inRange) }, prediction: { ...m.prediction, ...(m.prediction.boxes === undefined ? {} : { boxes: m.prediction.boxes.filter(inRange) }) } })),
        ctx,
      };
    });
  }
  if (by.startsWith('class:')) {
    const classes = by.slice('class:'.length).split(',').map((c) => c.trim()).filter((c) => c !== '');
    const set = new Set(classes);
    const touches = (m: MatchedImage): boolean =>
      (m.truth.label !== undefined && set.has(m.truth.label)) ||
      (m.prediction.label !== undefined && set.has(m.prediction.label.label)) ||
      (m.truth.labels ?? []).some((l) => set.has(l)) ||
      (m.truth.boxes ?? []).some((b) => set.has(b.category)) ||
      (m.prediction.boxes ?? []).some((b) => set.has(b.category));
    const sub: MetricsContext = { ...ctx, labels: ctx.labels.filter((l) => set.has(l)), detectionCategories: classes };
    // Classification over the images whose truth is one of the classes (answers of other labels are then errors).
    const chosen = matched.filter((m) => (m.truth.label !== undefined ? set.has(m.truth.label) : touches(m)));
    return [{ value: classes.join(','), matched: chosen, ctx: sub }];
  }
  const prefix = by.slice('prefix:'.length);
  return [
    { value: prefix, matched: matched.filter((m) => m.name.startsWith(prefix)), ctx },
    { value: '(other)', matched: matched.filter((m) => !m.name.startsWith(prefix)), ctx },
  ];
}
