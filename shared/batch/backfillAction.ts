/** Glue for `blobsight backfill`: settings, profile, clients, run folder, Ctrl-C, progress, output and exit code. */
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';

import type { TokenCredential } from '@azure/identity';
import { DefaultAzureCredential } from '@azure/identity';

import { cliVersion } from '../cli/cliVersion';
import type { BackfillCommandOptions } from '../cli/commands/backfill';
import type { LabelOptions } from '../cli/commands/label';
import { isPaidProfile, promptHash } from '../cli/estimate/estimateRequest';
import { EXIT } from '../cli/exitCodes';
import { listSource } from '../cli/labelAction';
import { loadCliConfig } from '../cli/loadCliConfig';
import { profileHash } from '../cli/profileHash';
import { money, ProgressReporter } from '../cli/ProgressReporter';
import { readCliSettings } from '../cli/readCliSettings';
import { containerClientFor, isContainerUrl, parseContainerUrl } from '../cli/sources/listContainer';
import { UsageError } from '../cli/UsageError';
import type { BlobsightConfig } from '../config';
import type { Classifier, ModelInfo } from '../model';
import { createOpenAIClient, maxTokensFor } from '../model';
import { loadProfiles } from '../profiles';
import type { RunConfig } from '../runs';
import { CONFIG_FILE, listRunIds, RunFolder, RunFolderError } from '../runs';
import { createClassifier, createServices, pipelineDeps } from '../runtime/createServices';
import { BatchApi } from './BatchApi';
import { BatchProgress } from './BatchProgress';
import { readBatchState } from './batchState';
import { runBackfill } from './runBackfill';
import type { ServiceTarget } from './serviceTarget';

export async function backfillAction(sourceArg: string | undefined, o: BackfillCommandOptions): Promise<number> {
  const settings = readCliSettings(process.cwd());
  const { config, cosmosConfigured } = loadCliConfig(settings.env);
  const profiles = loadProfiles(config.profilesDir);
  const profileName = o.profile ?? config.defaultProfile;
  const profile = profiles.get(profileName);
  if (profile === undefined) throw new UsageError(`Unknown profile "${profileName}". Known profiles: ${profiles.names().join(', ')}.`);
  if (!isPaidProfile(profile)) throw new UsageError(`Profile "${profile.name}" is served by the local detector, which costs nothing: use blobsight label.`);
  const model = config.model;
  if (model.provider !== 'azure-openai') throw new UsageError('The Batch API is Azure OpenAI\'s: set AZURE_OPENAI_ENDPOINT (and AZURE_OPENAI_DEPLOYMENT for online retries).');
  const deployment = o.deployment ?? settings.env['AZURE_OPENAI_BATCH_DEPLOYMENT'];
  if (deployment === undefined || deployment.trim() === '') throw new UsageError('Name the Global-Batch deployment: --deployment NAME or AZURE_OPENAI_BATCH_DEPLOYMENT.');

  let credential: TokenCredential | undefined;
  const getCredential = (): TokenCredential => (credential ??= new DefaultAzureCredential());
  const keyless = model.apiKey === undefined;
  // No deployment on this client: the SDK would otherwise send /batches to /deployments/<name>/batches.
  const batchClient = createOpenAIClient({ ...model, deployment: '' }, config.modelRequest, keyless ? { credential: getCredential() } : {});
  const api = new BatchApi(batchClient, { filePollMs: Math.min(o.pollInterval * 1000, 5_000) });
  let online: Classifier | undefined;
  const info: ModelInfo = { provider: 'azure-openai', deployment, apiVersion: model.apiVersion };

  const existingRun = findRun(o);
  const source = sourceArg ?? existingRun?.readConfig().source.location;
  if (source === undefined) throw new UsageError('Name what to label: a folder, a quoted glob or a container URL (or --out / --resume of an earlier backfill).');
  const listOptions = { runsDir: o.runsDir, concurrency: o.concurrency, progress: o.progress, ...(o.connectionString === undefined ? {} : { connectionString: o.connectionString }) } satisfies LabelOptions;
  // Settled before listing: a container the service does not watch is refused without reading it.
  const service = isContainerUrl(source) ? await serviceTarget(source, o, config, cosmosConfigured, getCredential) : undefined;
  const listed = await listSource(source, listOptions, profile, config.limits.maxBytes, undefined, getCredential);
  // Into the service, failed lines are retried through its own classifier (circuit breaker, pacing, attempt counting).
  if (o.onlineRetry) online = service?.deps.classifier ?? (await createClassifier(config, keyless ? getCredential : undefined, undefined));

  const wanted: Omit<RunConfig, 'id' | 'name' | 'createdAt'> = {
    cliVersion: cliVersion(),
    profile: { name: profile.name, version: profile.version, kind: profile.kind, detail: profile.detail, confidenceThreshold: profile.confidenceThreshold, ...(profile.kind === 'objects' ? { maxObjects: profile.maxObjects } : {}) },
    model: { provider: 'azure-openai', deployment, apiVersion: model.apiVersion, maxTokens: profile.kind === 'objects' ? null : maxTokensFor(profile), logprobs: config.modelRequest.logprobs },
    promptHash: promptHash(profile),
    profileHash: profileHash(profile),
    source: { kind: listed.kind, location: listed.location },
    concurrency: o.concurrency,
    maxCostUsd: null,
    limits: config.limits,
  };
  const run = existingRun ?? createRun(o, profile.name, wanted);
  const runConfig = run.readConfig();
  if (runConfig.profile.name !== profile.name || runConfig.profile.version !== profile.version) {
    throw new RunFolderError(`Refusing to continue ${run.dir}: it holds profile ${runConfig.profile.name} ${runConfig.profile.version}, not ${profile.name} ${profile.version}.`);
  }

  const stop = new AbortController();
  const abort = new AbortController();
  const onSigint = (): void => {
    if (!stop.signal.aborted) {
      stop.abort();
      process.stderr.write(`\n[blobsight] Stopped waiting; the batches keep running at Azure. Continue with: blobsight backfill --out ${run.dir}\n`);
    } else abort.abort();
  };
  process.on('SIGINT', onSigint);
  const batchBar = o.progress ? new BatchProgress({ bar: o.json !== true }) : undefined;
  const labelBar = o.progress ? new ProgressReporter({ bar: o.json !== true }) : undefined;
  try {
    const r = await runBackfill({
      items: listed.items,
      profile,
      run,
      config: runConfig,
      limits: config.limits,
      logprobs: config.modelRequest.logprobs,
      api,
      deployment,
      info,
      prices: config.prices,
      ...(online === undefined ? {} : { online }),
      ...(service === undefined ? {} : { service }),
      ...(o.resume === undefined ? {} : { resumeBatchId: o.resume }),
      pollMs: o.pollInterval * 1000,
      concurrency: o.concurrency,
      stop: stop.signal,
      abort: abort.signal,
      ...(batchBar === undefined ? {} : { onBatchProgress: (p) => batchBar.update(p) }),
      ...(labelBar === undefined ? {} : { onLabelProgress: (p) => labelBar.update(p) }),
    });
    batchBar?.finish();
    if (r.label !== undefined) labelBar?.finish(r.label.progress);
    const s = r.label?.summary;
    const sv = r.service;
    const failed = s !== undefined ? s.counts.rejected + s.counts.failed : sv !== undefined ? sv.counts.rejected + sv.counts.failed + sv.counts.notStored : 0;
    const code = !r.finished ? EXIT.interrupted : failed > 0 ? EXIT.someFailed : EXIT.ok;
    const batches = r.state.parts.map((p) => ({ index: p.index, id: p.batchId, status: p.status, requests: p.customIds.length }));
    if (o.json === true) {
      process.stdout.write(`${JSON.stringify({ run: run.id, dir: run.dir, exitCode: code, batches, requests: r.requests, fromBatch: r.fromBatch, online: r.online, unanswered: r.unanswered, batchCostUsd: r.batchCostUsd, onlineEquivalentUsd: r.onlineEquivalentUsd, problems: r.problems, summary: s ?? null, service: sv ?? null, skipped: r.skipped }, null, 2)}\n`);
    } else {
      const lines = [`Run ${run.id} (${run.dir})`, ...batches.map((b) => `  batch ${b.index}: ${b.id ?? '-'} ${b.status ?? '-'} (${b.requests} requests)`)];
      if (sv !== undefined) {
        const c = sv.counts;
        lines.push(`  stored in the service: ${c.classified} classified, ${c.needsReview} need review, ${c.rejected} rejected, ${c.failed} failed, ${c.duplicate} already final; ${r.skipped.length} left alone`);
        lines.push(`  ${r.fromBatch} answered by the batch, ${r.online} online, ${c.notStored} not stored (run the same backfill again, or let the reconcile sweep pick them up)`);
        lines.push(`  batch cost $${money(r.batchCostUsd)} (the same tokens online: $${money(r.onlineEquivalentUsd)})`);
        for (const n of sv.notStored.slice(0, 20)) lines.push(`  not stored: ${n.name}: ${n.code}: ${n.message}`);
        for (const k of r.skipped.filter((x) => !x.reason.startsWith('already final')).slice(0, 20)) lines.push(`  left alone: ${k.name}: ${k.reason}`);
      } else if (s !== undefined) {
        lines.push(`  ${s.counts.images} images: ${s.counts.classified} classified, ${s.counts.needsReview} need review, ${s.counts.rejected} rejected, ${s.counts.failed} failed`);
        lines.push(`  ${r.fromBatch} answered by the batch, ${r.online} online, ${r.unanswered} unanswered (see ${path.join(run.dir, 'failures.jsonl')})`);
        lines.push(`  batch cost $${money(r.batchCostUsd)} (the same tokens online: $${money(r.onlineEquivalentUsd)})`);
      } else lines.push(`  still running; continue with: blobsight backfill --out ${run.dir}`);
      for (const p of r.problems.slice(0, 20)) lines.push(`  ${p}`);
      process.stdout.write(`${lines.join('\n')}\n`);
    }
    return code;
  } finally {
    process.off('SIGINT', onSigint);
  }
}

/**
 * A container is backfilled into the service: its Cosmos DB documents and content cache, through the service's own
 * event path, so the container must be the one the service watches (IMAGES_CONTAINER). The daily spending cap is left
 * out: the batch is paid before its answers are stored, and refusing to store them would waste what was paid.
 */
async function serviceTarget(source: string, o: BackfillCommandOptions, config: BlobsightConfig, cosmosConfigured: boolean, getCredential: () => TokenCredential): Promise<ServiceTarget> {
  if (!cosmosConfigured) throw new UsageError("A container backfill stores its answers in the service's Cosmos DB, as the service's own events do: set COSMOS_ENDPOINT (and COSMOS_KEY for the emulator).");
  const ref = parseContainerUrl(source);
  if (ref.container !== config.imagesContainer) {
    throw new UsageError(`The service labels the container ${config.imagesContainer} (IMAGES_CONTAINER), not ${ref.container}: set IMAGES_CONTAINER=${ref.container}, or label it into a run folder with blobsight label.`);
  }
  // Retries of what the batch did not answer go alone: the service's multi-image grouping is turned off here.
  const services = await createServices({ ...config, modelRequest: { ...config.modelRequest, multiImageWindowMs: 0 } });
  const images = containerClientFor(ref, { ...(o.connectionString === undefined ? {} : { connectionString: o.connectionString }), credential: getCredential });
  const { budget: _cap, ...deps } = pipelineDeps(services);
  return { deps: { ...deps, images } };
}

/** --out: that folder if it is a run; --resume: the run under --runs-dir whose batch.json holds the batch. */
function findRun(o: BackfillCommandOptions): RunFolder | undefined {
  if (o.out !== undefined && existsSync(path.join(o.out, CONFIG_FILE))) return RunFolder.open(o.runsDir, o.out);
  if (o.resume !== undefined && existsSync(o.runsDir)) {
    for (const id of listRunIds(o.runsDir).reverse()) {
      const dir = path.join(o.runsDir, id);
      if (readBatchState(dir)?.parts.some((p) => p.batchId === o.resume) === true) return RunFolder.open(o.runsDir, dir);
    }
  }
  return undefined;
}

function createRun(o: BackfillCommandOptions, profileName: string, wanted: Omit<RunConfig, 'id' | 'name' | 'createdAt'>): RunFolder {
  if (o.out === undefined) return RunFolder.create(o.runsDir, o.name ?? profileName, new Date(), wanted).folder;
  mkdirSync(o.out, { recursive: true });
  const id = path.basename(path.resolve(o.out));
  const config: RunConfig = { id, name: o.name ?? profileName, createdAt: new Date().toISOString(), ...wanted };
  writeFileSync(path.join(o.out, CONFIG_FILE), `${JSON.stringify(config, null, 2)}\n`);
  return RunFolder.open(o.runsDir, o.out);
}
