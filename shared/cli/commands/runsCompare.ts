/**
 * `blobsight runs compare A B [C…] [--truth T]`: metrics, cost and latency of runs side by side, the difference of
 * each against the first, and (with truth) McNemar's paired test on the images both runs answered.
 */
import { Command, Option } from 'commander';

import type { ComparedRun, RunComparison } from '../../eval/compareRuns';
import { compareRuns, METRIC_ORDER } from '../../eval/compareRuns';
import { table } from '../../eval/formatEvaluation';
import { loadPredictions } from '../../eval/loadPredictions';
import type { TruthFormat } from '../../eval/loadTruth';
import { detectTruthFormat, loadTruth } from '../../eval/loadTruth';
import { loadProfiles } from '../../profiles/ProfileRegistry';
import { RunFolder } from '../../runs';
import { readCliSettings } from '../readCliSettings';
import { UsageError } from '../UsageError';
import { fraction } from './evaluate';

interface CompareOptions {
  runsDir: string;
  truth?: string;
  format: 'auto' | TruthFormat;
  /** `runs --json` (the parent's flag): the comparison as JSON on stdout, as `runs` and `runs show` print. */
  json?: boolean;
  targetPrecision: number;
  ignoreReviews?: boolean;
}

const MONEY = new Set(['totalUsd', 'perImageUsd', 'perCorrectLabelUsd']);
const MS = new Set(['latencyP50', 'latencyP95', 'latencyMean']);

function cell(metric: string, v: number | null | undefined, signed = false): string {
  if (v === null || v === undefined) return '-';
  const sign = signed && v > 0 ? '+' : '';
  if (MONEY.has(metric)) return `${sign}$${Math.abs(v) < 0.01 ? v.toFixed(6) : v.toFixed(4)}`;
  if (MS.has(metric)) return `${sign}${v.toFixed(0)} ms`;
  if (metric === 'ece') return `${sign}${v.toFixed(4)}`;
  return `${sign}${(v * 100).toFixed(1)}${signed ? ' pt' : '%'}`;
}

export function formatComparison(c: RunComparison): string {
  const names = c.runs.map((_r, i) => String.fromCharCode(65 + i));
  const out = c.runs.map((r, i) => `${names[i] ?? '?'}  ${r.run}  ${r.profile === null ? '' : `${r.profile.name}@${r.profile.version}`}  ${r.model === null ? '' : `${r.model.provider}/${r.model.deployment}  `}${r.images} images${c.evaluations === null ? '' : ' evaluated'}`);
  const header = ['metric', ...names, ...names.slice(1).map((n) => `${n}−A`)];
  const rows = [header];
  for (const m of METRIC_ORDER) {
    const values = c.runs.map((r) => r.metrics[m]);
    if (values.every((v) => v === null || v === undefined)) continue;
    rows.push([m, ...values.map((v) => cell(m, v)), ...(c.differences[m] ?? []).map((d) => cell(m, d, true))]);
  }
  out.push('', table(rows));
  for (const t of c.mcnemar) {
    const method = t.method === 'exact-binomial' ? 'exact binomial (fewer than 25 discordant)' : t.method === 'chi-square-continuity' ? `χ² ${t.statistic?.toFixed(3) ?? '-'} with continuity correction` : 'no discordant image';
    out.push('', `McNemar A vs ${names[c.mcnemar.indexOf(t) + 1] ?? '?'} on ${t.n} images both answered (${t.measure}): only A right ${t.b}, only the other right ${t.c}; ${method}; p = ${t.pValue < 0.0001 ? t.pValue.toExponential(2) : t.pValue.toFixed(4)}`);
  }
  for (const a of c.agreement) out.push('', `Agreement of A and ${a.b}: ${a.agree === null ? '-' : `${(a.agree * 100).toFixed(1)}%`} of ${a.images} images both answered (give --truth for accuracy and McNemar's test)`);
  return `${out.join('\n')}\n`;
}

export function runsCompareCommand(): Command {
  return new Command('compare')
    .description('Compare runs side by side: metrics (with --truth), cost, latency, differences against the first, McNemar\'s paired test for accuracy')
    .argument('<runs...>', 'two or more run ids under --runs-dir (an option of `runs`), or run folder paths; the first is the baseline')
    .option('--truth <path>', 'ground truth (as for blobsight evaluate)')
    .addOption(new Option('--format <format>', 'ground-truth format').choices(['auto', 'bdd100k', 'coco', 'folders', 'jsonl']).default('auto'))
    .option('--target-precision <p>', 'precision the review thresholds must reach', fraction, 0.95)
    .option('--ignore-reviews', 'score the model\'s own answers, even where a person reviewed them')
    .action(function (this: Command, refs: string[]) {
      // --runs-dir belongs to the parent `runs` command (commander gives a parent's option to the parent wherever it appears).
      const o = this.optsWithGlobals<CompareOptions>();
      if (refs.length < 2) throw new UsageError('runs compare needs at least two runs.');
      const truth = o.truth === undefined ? null : loadTruth(o.truth, o.format === 'auto' ? detectTruthFormat(o.truth) : o.format);
      const profilesDir = readCliSettings(process.cwd()).env['PROFILES_DIR'];
      const registry = loadProfiles(profilesDir === undefined || profilesDir === '' ? undefined : profilesDir);
      const runs: ComparedRun[] = refs.map((ref) => {
        const folder = RunFolder.open(o.runsDir, ref);
        const predictions = loadPredictions(folder.dir, truth, { ignoreReviews: o.ignoreReviews === true });
        const model = folder.readConfig().model;
        return { ref: folder.id, predictions, profile: predictions.profile === undefined ? null : (registry.get(predictions.profile.name) ?? null), model: { provider: model.provider, deployment: model.deployment } };
      });
      const comparison = compareRuns(runs, truth, o.targetPrecision);
      process.stdout.write(o.json === true ? `${JSON.stringify(comparison, null, 2)}\n` : formatComparison(comparison));
    });
}
