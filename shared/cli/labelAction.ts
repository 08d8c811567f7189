/** Glue for `blobsight label`: settings, profile, model, source, run folder, Ctrl-C, progress, output and exit code. */
import { existsSync, statSync } from 'node:fs';
import path from 'node:path';

import type { Container } from '@azure/cosmos';
import type { TokenCredential } from '@azure/identity';
import { DefaultAzureCredential } from '@azure/identity';

import type { Classifier } from '../model';
import { createOpenAIClient, maxTokensFor } from '../model';
import { MultiImageClassifier } from '../model/multiImageClassifier';
import { needsCredential, providerCapabilities } from '../model/providers/capabilities';
import { modelForProfile } from '../model/routing/resolveRoutes';
import type { Profile } from '../profiles';
import { loadProfiles } from '../profiles';
import type { RunConfig } from '../runs';
import { RunFolder, RunFolderError } from '../runs';
import { createClassifier } from '../runtime/createServices';
import type { CacheEntry, CacheKey } from '../store';
import { cacheEntryId, createCosmosContainer, ImageStore } from '../store';
import { cliVersion } from './cliVersion';
import type { LabelOptions } from './commands/label';
import type { DryRunLine } from './dryRun';
import { dryRun } from './dryRun';
import type { Pricing } from './estimate/estimateRequest';
import { promptHash } from './estimate/estimateRequest';
import { EXIT } from './exitCodes';
import { labelRun } from './labelRun';
import { loadCliConfig } from './loadCliConfig';
import { profileHash } from './profileHash';
import { money, ProgressReporter } from './ProgressReporter';
import { readCliSettings } from './readCliSettings';
import { containerClientFor, isContainerUrl, listContainer, parseContainerUrl } from './sources/listContainer';
import { fileItem, listFolder } from './sources/listFolder';
import { isGlobPattern, listGlob } from './sources/listGlob';
import { listServiceDocuments } from './sources/listServiceDocuments';
import type { ListedSource } from './sources/sourceItem';
import { UsageError } from './UsageError';

export async function labelAction(sourceArg: string | undefined, o: LabelOptions): Promise<number> {
  const settings = readCliSettings(process.cwd());
  const { config, cosmosConfigured } = loadCliConfig(settings.env);
  const profiles = loadProfiles(config.profilesDir);
  const profileName = o.profile ?? config.defaultProfile;
  const profile = profiles.get(profileName);
  if (profile === undefined) throw new UsageError(`Unknown profile "${profileName}". Known profiles: ${profiles.names().join(', ')}.`);
  if (o.run !== undefined && o.resume === true) throw new UsageError('Give either --run <run> or --resume, not both.');
  if (o.fromService === true && sourceArg !== undefined) throw new UsageError('--from-service takes no source argument: it reads the documents the service stored for --profile.');
  if (o.fromService !== true && sourceArg === undefined) throw new UsageError('Name what to label: a folder, a quoted glob, a container URL, or --from-service.');

  let credential: TokenCredential | undefined;
  const getCredential = (): TokenCredential => (credential ??= new DefaultAzureCredential());
  // The profile's own model when it names one (profile `model`), so `runs compare base ft` can put two deployments side by side.
  const routed = modelForProfile(config, profile);
  const model = routed;
  const credentialNeeded = needsCredential(model);
  let classifier: Classifier = await createClassifier({ ...config, model }, credentialNeeded ? getCredential : undefined, undefined);
  const capabilities = providerCapabilities(model.provider);
  if (model.provider !== 'local-detector' && model.provider !== 'azure-ai-vision' && capabilities.strictJsonSchema && capabilities.imagesPerTurn > 1 && profile.kind !== 'objects' && (profile.imagesPerRequest ?? 1) > 1) {
    // Several images per request (the profile's imagesPerRequest); images in flight at once are grouped, so --concurrency bounds the group size.
    // Only where the provider takes several images in one turn and enforces the keyed strict schema (capabilities.ts).
    const client = createOpenAIClient(model, config.modelRequest, credentialNeeded ? { credential: getCredential() } : {});
    classifier = new MultiImageClassifier({ client, info: classifier.info, model: classifier.info.deployment, prices: config.prices, single: classifier });
  }
  // --from-service makes no model call, so any profile the service stored can be read whatever model is configured here.
  if (o.fromService !== true && !classifier.supportedKinds.includes(profile.kind)) {
    const how =
      profile.kind === 'objects'
        ? 'Object detection is served by the embedded local detector: unset MODEL_PROVIDER, AZURE_OPENAI_ENDPOINT and OPENAI_BASE_URL, or pick a labelling profile.'
        : 'Configure a vision language model: AZURE_OPENAI_ENDPOINT and AZURE_OPENAI_DEPLOYMENT (Azure OpenAI, keyless), or OPENAI_BASE_URL and OPENAI_MODEL.';
    throw new UsageError(`Profile "${profile.name}" (${profile.kind}) cannot be served by the configured model provider ${classifier.info.provider}, which handles ${classifier.supportedKinds.join(', ')}. ${how}`);
  }
  const paid = providerCapabilities(classifier.info.provider).paid;
  const pricing: Pricing | null = paid ? { prices: config.prices, modelName: classifier.info.deployment } : null;

  const cosmos = cosmosConfigured ? await createCosmosContainer(config.cosmos, config.cosmos.key === undefined ? getCredential() : undefined) : undefined;
  const listed = await listSource(sourceArg, o, profile, config.limits.maxBytes, cosmos === undefined ? undefined : new ImageStore(cosmos), getCredential);

  // Ctrl-C once: finish what is in flight; twice: abandon it.
  const stop = new AbortController();
  const abort = new AbortController();
  const onSigint = (): void => {
    if (!stop.signal.aborted) {
      stop.abort();
      process.stderr.write('\n[blobsight] Stopping after the images in flight (Ctrl-C again to abort them)...\n');
    } else abort.abort();
  };
  process.on('SIGINT', onSigint);
  try {
    if (o.dryRun === true) return await printDryRun(listed, profile, config.limits, pricing, o, abort.signal, classifier);

    const wanted = runConfigFor(profile, classifier, config.modelRequest.logprobs, listed, o, config.limits);
    const name = o.name ?? profile.name;
    const run = openOrCreateRun(o, name, wanted);
    const runConfig = run.readConfig();
    const reporter = o.progress ? new ProgressReporter({ bar: o.json !== true }) : undefined;
    const result = await labelRun({
      items: listed.items,
      profile,
      classifier,
      limits: config.limits,
      pricing,
      run,
      config: runConfig,
      concurrency: o.concurrency,
      maxCostUsd: o.maxCost ?? null,
      ...(cosmos === undefined || !paid ? {} : { readServiceCache: (key: CacheKey) => readCacheEntry(cosmos, key) }),
      stop: stop.signal,
      abort: abort.signal,
      ...(reporter === undefined ? {} : { onProgress: (p) => reporter.update(p) }),
    });
    reporter?.finish(result.progress);
    for (const c of result.corrupt) process.stderr.write(`[blobsight] ${c.file}:${c.line}: corrupt line skipped (${c.reason}); the rest of the run is kept and that image is labelled again if it is in the source.\n`);

    const s = result.summary;
    const notDone = s.counts.rejected + s.counts.failed;
    const code = result.session.stopped === 'interrupted' || abort.signal.aborted ? EXIT.interrupted : notDone > 0 || result.session.stopped === 'max-cost' ? EXIT.someFailed : EXIT.ok;
    if (o.json === true) {
      process.stdout.write(`${JSON.stringify({ run: run.id, dir: run.dir, exitCode: code, stopped: result.session.stopped, session: result.session, summary: s, corruptLines: result.corrupt }, null, 2)}\n`);
    } else {
      const lines = [
        `Run ${run.id} (${run.dir})`,
        `  ${s.counts.images} images: ${s.counts.classified} classified, ${s.counts.needsReview} need review, ${s.counts.rejected} rejected, ${s.counts.failed} failed; ${s.counts.reused} reused without a model call`,
        `  this session: ${result.session.processed} written, ${result.session.skipped} already in the run, ${(result.session.wallMs / 1000).toFixed(1)} s`,
        `  tokens ${s.tokens.prompt} prompt + ${s.tokens.completion} completion, cost $${money(s.costUsd)}; latency p50 ${s.latencyMs.total.p50 ?? '-'} ms, p95 ${s.latencyMs.total.p95 ?? '-'} ms`,
      ];
      if (Object.keys(s.errors).length > 0) lines.push(`  reasons: ${Object.entries(s.errors).map(([k, v]) => `${k} ${v}`).join(', ')} (see ${path.join(run.dir, 'failures.jsonl')})`);
      if (result.session.stopped === 'max-cost') lines.push(`  stopped: the next image would take the run past --max-cost $${String(o.maxCost)}; continue with --run ${run.id} and a higher --max-cost`);
      if (result.session.stopped === 'interrupted') lines.push(`  stopped by Ctrl-C; continue with: blobsight label ... --run ${run.id}`);
      process.stdout.write(`${lines.join('\n')}\n`);
    }
    return code;
  } finally {
    process.off('SIGINT', onSigint);
  }
}

export async function listSource(
  sourceArg: string | undefined,
  o: LabelOptions,
  profile: Profile,
  maxBytes: number,
  store: ImageStore | undefined,
  getCredential: () => TokenCredential,
): Promise<ListedSource> {
  if (o.fromService === true) {
    if (store === undefined) throw new UsageError('--from-service needs the service\'s Cosmos DB: set COSMOS_ENDPOINT (and COSMOS_KEY for the emulator) in the environment, .env or local.settings.json.');
    const listing = await listServiceDocuments(store, profile.name, 'cosmos');
    if (listing.notFinal > 0) process.stderr.write(`[blobsight] ${listing.notFinal} documents are still processing and are not part of this run.\n`);
    return listing;
  }
  const arg = sourceArg as string;
  if (isContainerUrl(arg)) {
    const ref = parseContainerUrl(arg);
    const client = containerClientFor(ref, { ...(o.connectionString === undefined ? {} : { connectionString: o.connectionString }), credential: getCredential });
    return listContainer(arg, client, ref.prefix, maxBytes);
  }
  if (existsSync(arg)) {
    if (statSync(arg).isDirectory()) return listFolder(arg, maxBytes);
    return { kind: 'glob', location: arg, items: [fileItem(path.resolve(arg), path.basename(arg), maxBytes, arg)] };
  }
  if (isGlobPattern(arg)) return listGlob(arg, maxBytes);
  throw new UsageError(`${arg} is not a folder, a file, a glob pattern or a container URL.`);
}

function runConfigFor(profile: Profile, classifier: Classifier, logprobs: boolean, listed: ListedSource, o: LabelOptions, limits: { maxBytes: number; maxPixels: number }): Omit<RunConfig, 'id' | 'name' | 'createdAt'> {
  const paid = providerCapabilities(classifier.info.provider).paid;
  return {
    cliVersion: cliVersion(),
    profile: {
      name: profile.name,
      version: profile.version,
      kind: profile.kind,
      detail: profile.detail,
      confidenceThreshold: profile.confidenceThreshold,
      ...(profile.kind === 'objects' ? { maxObjects: profile.maxObjects } : {}),
    },
    model: {
      provider: classifier.info.provider,
      deployment: classifier.info.deployment,
      apiVersion: classifier.info.apiVersion,
      maxTokens: paid && profile.kind !== 'objects' ? maxTokensFor(profile) : null,
      logprobs: paid ? logprobs : null,
    },
    promptHash: paid ? promptHash(profile) : null,
    profileHash: profileHash(profile),
    source: { kind: listed.kind, location: listed.location },
    concurrency: o.concurrency,
    maxCostUsd: o.maxCost ?? null,
    limits,
  };
}

/** A resumed run must be the same experiment: same profile, version and model, or its lines would mix answers. */
function openOrCreateRun(o: LabelOptions, name: string, wanted: Omit<RunConfig, 'id' | 'name' | 'createdAt'>): RunFolder {
  let existing: RunFolder | undefined;
  if (o.run !== undefined) existing = RunFolder.open(o.runsDir, o.run);
  else if (o.resume === true) {
    existing = RunFolder.latest(o.runsDir, name);
    if (existing === undefined) process.stderr.write(`[blobsight] No earlier run named "${name}" in ${o.runsDir}; starting a new one.\n`);
  }
  if (existing === undefined) return RunFolder.create(o.runsDir, name, new Date(), wanted).folder;
  const had = existing.readConfig();
  const refuse = (why: string): never => {
    throw new RunFolderError(`Refusing to resume ${existing.dir}: ${why}. Its answers would mix with this run's. Start a new run (leave out --run/--resume) or use --profile ${had.profile.name}.`);
  };
  if (had.profile.name !== wanted.profile.name) refuse(`it was labelled with profile "${had.profile.name}", not "${wanted.profile.name}"`);
  if (had.profile.version !== wanted.profile.version) refuse(`it was labelled with profile ${had.profile.name} version ${had.profile.version}, and the profile is now version ${wanted.profile.version}`);
  if (had.model.provider !== wanted.model.provider || had.model.deployment !== wanted.model.deployment) {
    refuse(`it was labelled by ${had.model.provider} ${had.model.deployment}, and the configured model is ${wanted.model.provider} ${wanted.model.deployment}`);
  }
  return existing;
}

async function readCacheEntry(container: Container, key: CacheKey): Promise<CacheEntry | undefined> {
  // Read only: the CLI never creates claims (that is the service's claim path); it reuses answers already paid for.
  const id = cacheEntryId(key);
  try {
    const { resource } = await container.item(id, id).read<CacheEntry>();
    return resource?.type === 'cache' ? resource : undefined;
  } catch {
    return undefined;
  }
}

async function printDryRun(listed: ListedSource, profile: Profile, limits: { maxBytes: number; maxPixels: number }, pricing: Pricing | null, o: LabelOptions, signal: AbortSignal, classifier: Classifier): Promise<number> {
  const human = o.json !== true;
  if (human) process.stdout.write(`Dry run: ${listed.items.length} images, profile ${profile.name} ${profile.version}, ${classifier.info.provider} ${classifier.info.deployment}${pricing === null ? ' (no paid calls)' : ''}\n`);
  const print = (l: DryRunLine): void => {
    if (!human) return;
    if (l.outcome === 'rejected') process.stdout.write(`  ${l.name}: would be rejected: ${l.error?.code ?? ''}: ${l.error?.message ?? ''}\n`);
    else if (l.duplicateOf !== null) process.stdout.write(`  ${l.name}: same bytes as ${l.duplicateOf}, reused: 0 tokens\n`);
    else if (l.estimate !== null) {
      const e = l.estimate;
      process.stdout.write(`  ${l.name}: ${e.sent.width}x${e.sent.height} ${e.sent.detail}: ${e.promptTokens} prompt tokens (text ${e.textTokens} + schema ${e.schemaTokens} + image ${e.imageTokens}), max_tokens ${e.maxTokens}, $${money(e.costUsd)}\n`);
    }
  };
  const report = await dryRun(listed.items, profile, limits, pricing, o.concurrency, signal, print);
  if (human) {
    process.stdout.write(
      `Total: ${report.wouldSend} to send, ${report.duplicates} duplicates reused, ${report.wouldReject} would be rejected; ${report.promptTokens} prompt tokens + ${report.maxTokensReserve} max_tokens reserve; at most $${money(report.costUsd)}\n`,
    );
  } else {
    process.stdout.write(`${JSON.stringify({ dryRun: true, profile: { name: profile.name, version: profile.version }, model: classifier.info, ...report }, null, 2)}\n`);
  }
  return signal.aborted ? EXIT.interrupted : EXIT.ok;
}
