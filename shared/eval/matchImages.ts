/**
 * Pairs predictions with truth by image name. First the exact name (the path relative to the source root, `/`
 * separators, as the run records it and the truth loaders produce it); then, for what is left, the file's basename
 * without extension (`a/b/x.jpg` ~ `x.png` ~ `x`) when that key is unique on both sides, so a run over
 * `images/` meets BDD100K labels keyed `x.jpg`. Everything unmatched is returned, never dropped.
 */
import type { PredictionItem, TruthItem } from './evalInput';

export interface MatchedImage {
  name: string;
  truth: TruthItem;
  prediction: PredictionItem;
  byBasename: boolean;
}

export interface ImageMatch {
  matched: MatchedImage[];
  predictionsWithoutTruth: PredictionItem[];
  truthWithoutPredictions: TruthItem[];
}

export function basenameKey(name: string): string {
  const base = name.split('/').pop() ?? name;
  const dot = base.lastIndexOf('.');
  return dot > 0 ? base.slice(0, dot) : base;
}

export function matchImages(predictions: readonly PredictionItem[], truth: readonly TruthItem[]): ImageMatch {
  const truthByName = new Map(truth.map((t) => [t.name, t]));
  const matched: MatchedImage[] = [];
  const leftPred: PredictionItem[] = [];
  const usedTruth = new Set<string>();
  for (const p of predictions) {
    const t = truthByName.get(p.name);
    if (t !== undefined && !usedTruth.has(t.name)) {
      matched.push({ name: p.name, truth: t, prediction: p, byBasename: false });
      usedTruth.add(t.name);
    } else leftPred.push(p);
  }
  const leftTruth = truth.filter((t) => !usedTruth.has(t.name));
  const unique = <T extends { name: string }>(xs: readonly T[]): Map<string, T> => {
    const m = new Map<string, T | null>();
    for (const x of xs) {
      const k = basenameKey(x.name);
      m.set(k, m.has(k) ? null : x);
    }
    return new Map([...m].filter((e): e is [string, T] => e[1] !== null));
  };
  const predByBase = unique(leftPred);
  const truthByBase = unique(leftTruth);
  const pairedPred = new Set<PredictionItem>();
  const pairedTruth = new Set<TruthItem>();
  for (const [k, p] of predByBase) {
    const t = truthByBase.get(k);
    if (t === undefined) continue;
    matched.push({ name: p.name, truth: t, prediction: p, byBasename: true });
    pairedPred.add(p);
    pairedTruth.add(t);
  }
  matched.sort((a, b) => a.name.localeCompare(b.name));
  return { matched, predictionsWithoutTruth: leftPred.filter((p) => !pairedPred.has(p)), truthWithoutPredictions: leftTruth.filter((t) => !pairedTruth.has(t)) };
}
