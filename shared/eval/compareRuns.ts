/**
 * `blobsight runs compare A B [C…] [--truth T]`: runs side by side. Each run is evaluated on its own (metrics, cost,
 * latency); the differences are against the first run; with truth, McNemar's paired test compares the first run's
 * per-image correctness with each other run's on the images both answered and the truth has.
 */
import type { Profile } from '../profiles/profileSchema';
import type { PredictionSet, TruthSet } from './evalInput';
import { evaluateSets } from './evaluate';
import { latencyStats } from './latencyStats';
import type { McNemarResult } from './mcnemar';
import { mcnemar } from './mcnemar';
import type { EvaluationResult } from './types';

export interface RunColumn {
  run: string;
  profile: { name: string; version: string; kind: string } | null;
  /** The provider and deployment that answered the run (its run.json); null when unknown. */
  model: { provider: string; deployment: string } | null;
  images: number;
  /** Headline figures; null where they do not apply. */
  metrics: Record<string, number | null>;
}

export interface PairedTest extends McNemarResult {
  /** The first run and the run compared with it; b and c of the test count images only `first` / only `second` got right. */
  first: string;
  second: string;
  /** What "correct" means for this profile kind. */
  measure: string;
}

export interface RunComparison {
  runs: RunColumn[];
  /** Metric → per run (after the first), its value minus the first run's; null when either is null. */
  differences: Record<string, (number | null)[]>;
  /** First run vs each other run (with truth). */
  mcnemar: PairedTest[];
  /** Without truth: share of the images both runs answered where their answers agree. */
  agreement: { a: string; b: string; images: number; agree: number | null }[];
  evaluations: EvaluationResult[] | null;
}

export const METRIC_ORDER = ['accuracy', 'macroF1', 'exactMatch', 'attributeAccuracy', 'AP', 'AP50', 'ece', 'reviewShare', 'totalUsd', 'perImageUsd', 'perCorrectLabelUsd', 'latencyP50', 'latencyP95', 'latencyMean'] as const;

export interface ComparedRun {
  ref: string;
  predictions: PredictionSet;
  profile: Profile | null;
  /** From the run's configuration, so two deployments (base and fine-tuned) are told apart in the comparison. */
  model?: { provider: string; deployment: string } | null;
}

function headline(r: EvaluationResult): Record<string, number | null> {
  return {
    accuracy: r.classification?.accuracy ?? null,
    macroF1: r.classification?.macro.f1 ?? r.multiLabel?.macro.f1 ?? null,
    exactMatch: r.multiLabel?.exactMatch ?? null,
    attributeAccuracy: (r.attributes?.overall)?.accuracy ?? null,
    AP: r.detection?.AP ?? null,
    AP50: r.detection?.AP50 ?? null,
    ece: r.calibration?.ece ?? null,
    reviewShare: r.calibration?.reviewShare ?? null,
    totalUsd: r.cost?.totalUsd ?? null,
    perImageUsd: r.cost?.perImageUsd ?? null,
    perCorrectLabelUsd: r.cost?.perCorrectLabelUsd ?? null,
    latencyP50: r.latency?.p50 ?? null,
    latencyP95: r.latency?.p95 ?? null,
    latencyMean: r.latency?.mean ?? null,
  };
}

/** What a per-image `correct` means for a result: the label, every tag, every attribute, or every box. */
function measureOf(r: EvaluationResult): string {
  if (r.classification !== undefined) return 'label correct';
  if (r.multiLabel !== undefined) return 'tag set exactly right';
  if (r.attributes !== undefined && r.detection === undefined) return 'every attribute right';
  return 'no box error at IoU 0.5';
}

export function compareRuns(runs: readonly ComparedRun[], truth: TruthSet | null, targetPrecision?: number): RunComparison {
  let columns: RunColumn[];
  let evaluations: EvaluationResult[] | null = null;
  const tests: PairedTest[] = [];
  const agreement: RunComparison['agreement'] = [];
  if (truth !== null) {
    evaluations = runs.map((r) => evaluateSets(r.predictions, truth, { profile: r.profile, inputs: { pred: r.ref, truth: '' }, ...(targetPrecision === undefined ? {} : { targetPrecision }) }));
    columns = evaluations.map((e, i) => ({ run: (runs[i] as ComparedRun).ref, profile: e.inputs.profile, model: (runs[i] as ComparedRun).model ?? null, images: e.images.evaluated, metrics: headline(e) }));
    const first = evaluations[0] as EvaluationResult;
    const answered = (e: EvaluationResult): Map<string, boolean> => new Map(e.perImage.filter((o) => o.correct !== null && o.status !== 'rejected' && o.status !== 'failed').map((o) => [o.name, o.correct as boolean]));
    const a = answered(first);
    evaluations.slice(1).forEach((e, i) => {
      const b = answered(e);
      const both = [...a.keys()].filter((n) => b.has(n)).sort();
      tests.push({ first: (runs[0] as ComparedRun).ref, second: (runs[i + 1] as ComparedRun).ref, measure: measureOf(first), ...mcnemar(both.map((n) => a.get(n) as boolean), both.map((n) => b.get(n) as boolean)) });
    });
  } else {
    columns = runs.map((r) => {
      const items = r.predictions.items;
      const paid = items.filter((p) => (p.usage?.modelCalls ?? 0) > 0);
      const lat = latencyStats(paid.map((p) => p.totalMs ?? 0));
      let cost: number | null = 0;
      for (const p of paid) cost = p.usage?.costUsd === null || p.usage?.costUsd === undefined || cost === null ? null : cost + p.usage.costUsd;
      const metrics: Record<string, number | null> = Object.fromEntries(METRIC_ORDER.map((m) => [m, null]));
      Object.assign(metrics, { totalUsd: cost, perImageUsd: cost === null || items.length === 0 ? null : cost / items.length, latencyP50: lat.p50, latencyP95: lat.p95, latencyMean: lat.mean });
      return { run: r.ref, profile: r.predictions.profile ?? null, model: r.model ?? null, images: items.length, metrics };
    });
    const key = (p: PredictionSet['items'][number]): string | null => {
      if (p.label !== undefined) return p.label.label;
      if (p.labels !== undefined) return JSON.stringify(p.labels.map((d) => d.label).sort());
      if (p.attributes !== undefined) return JSON.stringify(Object.entries(p.attributes).map(([k, d]) => [k, d.label]).sort());
      if (p.boxes !== undefined) return JSON.stringify(p.boxes.map((b) => b.category).sort());
      return null;
    };
    const first = new Map((runs[0] as ComparedRun).predictions.items.map((p) => [p.name, key(p)]));
    for (const r of runs.slice(1)) {
      let n = 0;
      let same = 0;
      for (const p of r.predictions.items) {
        const k = key(p);
        const f = first.get(p.name);
        if (k === null || f === undefined || f === null) continue;
        n++;
        if (k === f) same++;
      }
      agreement.push({ a: (runs[0] as ComparedRun).ref, b: r.ref, images: n, agree: n === 0 ? null : same / n });
    }
  }
  const differences: Record<string, (number | null)[]> = {};
  const base = (columns[0] as RunColumn).metrics;
  for (const m of METRIC_ORDER) {
    differences[m] = columns.slice(1).map((c) => {
      const x = c.metrics[m];
      const y = base[m];
      return x === null || x === undefined || y === null || y === undefined ? null : x - y;
    });
  }
  return { runs: columns, differences, mcnemar: tests, agreement, evaluations };
}
