/** `blobsight runs` lists the run folders; `blobsight runs show <run>` prints one run's configuration and summary; `runs compare` is in runsCompare.ts. */
import path from 'node:path';

import { Command } from 'commander';

import { listRunIds, RunFolder } from '../../runs';
import { money } from '../ProgressReporter';
import { runsCompareCommand } from './runsCompare';

interface RunsOptions {
  runsDir: string;
  json?: boolean;
}

export function runsCommand(): Command {
  const runs = new Command('runs')
    .description('List runs (newest last) with their profile, model, counts and cost')
    .option('--runs-dir <dir>', 'where run folders live', './runs')
    .option('--json', 'print JSON on stdout')
    .action((o: RunsOptions) => {
      const rows = listRunIds(o.runsDir).map((id) => {
        const run = RunFolder.open(o.runsDir, id);
        const config = run.readConfig();
        const summary = run.readSummary();
        return { id, dir: run.dir, createdAt: config.createdAt, profile: config.profile, model: config.model, source: config.source, counts: summary?.counts ?? null, costUsd: summary?.costUsd ?? null, wallMs: summary?.wallMs ?? null };
      });
      if (o.json === true) {
        process.stdout.write(`${JSON.stringify(rows, null, 2)}\n`);
        return;
      }
      if (rows.length === 0) {
        process.stdout.write(`No runs in ${path.resolve(o.runsDir)}. Start one with: blobsight label <folder> --profile <name>\n`);
        return;
      }
      for (const r of rows) {
        const c = r.counts;
        const counts = c === null ? 'no summary yet (interrupted before its first summary)' : `${c.images} images, ${c.classified} classified, ${c.needsReview} review, ${c.rejected} rejected, ${c.failed} failed`;
        process.stdout.write(`${r.id}  ${r.profile.name}@${r.profile.version}  ${r.model.provider}/${r.model.deployment}  ${counts}  $${money(r.costUsd)}\n`);
      }
    });
  runs.addCommand(
    new Command('show')
      .description('Print one run: its config.json and summary.json')
      .argument('<run>', 'run id under --runs-dir, or a run folder path')
      .option('--runs-dir <dir>', 'where run folders live', './runs')
      .option('--json', 'print JSON on stdout')
      .action((ref: string, o: RunsOptions) => {
        const run = RunFolder.open(o.runsDir, ref);
        const config = run.readConfig();
        const summary = run.readSummary() ?? null;
        const corrupt = run.readContents().corrupt;
        if (o.json === true) {
          process.stdout.write(`${JSON.stringify({ id: run.id, dir: run.dir, config, summary, corruptLines: corrupt }, null, 2)}\n`);
          return;
        }
        const out = [
          `Run ${run.id}`,
          `  folder   ${run.dir}`,
          `  profile  ${config.profile.name} ${config.profile.version} (${config.profile.kind}, detail ${config.profile.detail}, threshold ${config.profile.confidenceThreshold})`,
          `  model    ${config.model.provider} ${config.model.deployment}${config.model.apiVersion === null ? '' : ` api ${config.model.apiVersion}`}${config.model.maxTokens === null ? '' : `, max_tokens ${config.model.maxTokens}`}`,
          `  prompt   ${config.promptHash ?? '(none: local detector)'}`,
          `  source   ${config.source.kind} ${config.source.location}`,
          `  cli      ${config.cliVersion}`,
        ];
        if (summary !== null) {
          const s = summary;
          out.push(
            `  images   ${s.counts.images}: ${s.counts.classified} classified, ${s.counts.needsReview} need review, ${s.counts.rejected} rejected, ${s.counts.failed} failed, ${s.counts.reused} reused`,
            `  tokens   ${s.tokens.prompt} prompt + ${s.tokens.completion} completion in ${s.modelCalls} calls; cost $${money(s.costUsd)}`,
            `  estimate ${s.estimateVsActual.estimated.promptTokens} prompt tokens estimated vs ${s.estimateVsActual.actual.promptTokens} actual over ${s.estimateVsActual.images} images; $${money(s.estimateVsActual.estimated.costUsd)} (with max_tokens reserve) vs $${money(s.estimateVsActual.actual.costUsd)}`,
            `  latency  p50 ${s.latencyMs.total.p50 ?? '-'} p90 ${s.latencyMs.total.p90 ?? '-'} p95 ${s.latencyMs.total.p95 ?? '-'} p99 ${s.latencyMs.total.p99 ?? '-'} ms`,
            `  wall     ${(s.wallMs / 1000).toFixed(1)} s over ${s.sessions.length} session(s)${s.imagesPerSecond === null ? '' : `, ${s.imagesPerSecond} images/s`}`,
          );
          if (Object.keys(s.errors).length > 0) out.push(`  reasons  ${Object.entries(s.errors).map(([k, v]) => `${k} ${v}`).join(', ')}`);
        }
        if (corrupt.length > 0) out.push(`  corrupt  ${corrupt.map((c) => `${path.basename(c.file)}:${c.line} (${c.reason})`).join('; ')}`);
        process.stdout.write(`${out.join('\n')}\n`);
      }),
  );
  runs.addCommand(runsCompareCommand());
  return runs;
}
