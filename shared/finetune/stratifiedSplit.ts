/** A seeded train/validation split that keeps each label's share: the same seed and items give the same split. */
import { mulberry32 } from './mulberry32';

export interface Split<T> {
  train: T[];
  validation: T[];
}

/**
 * Per stratum (label), items are ordered by key, shuffled with a seeded PRNG (mulberry32), and the first
 * round(share × n) go to validation; a label with a single example stays in training (it cannot be on both sides, and
 * training on it is what teaches it). The order of `items` does not matter: strata and keys are sorted first.
 */
export function stratifiedSplit<T>(items: readonly T[], stratum: (item: T) => string, key: (item: T) => string, share: number, seed: number): Split<T> {
  const groups = new Map<string, T[]>();
  for (const item of items) {
    const s = stratum(item);
    const g = groups.get(s);
    if (g === undefined) groups.set(s, [item]);
    else g.push(item);
  }
  const random = mulberry32(seed);
  const train: T[] = [];
  const validation: T[] = [];
  for (const s of [...groups.keys()].sort()) {
    const group = [...(groups.get(s) ?? [])].sort((a, b) => (key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0));
    for (let i = group.length - 1; i > 0; i--) {
      const j = Math.floor(random() * (i + 1));
      [group[i], group[j]] = [group[j] as T, group[i] as T];
    }
    const n = group.length < 2 ? 0 : Math.min(group.length - 1, Math.round(share * group.length));
    validation.push(...group.slice(0, n));
    train.push(...group.slice(n));
  }
  return { train, validation };
}
