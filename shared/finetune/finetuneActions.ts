/** Glue for `blobsight finetune ...`: settings, clients, Ctrl-C, progress, output and exit codes. */
import path from 'node:path';

import type { TokenCredential } from '@azure/identity';
import { DefaultAzureCredential } from '@azure/identity';
import { APIError, APIUserAbortError } from 'openai';

import { BatchApi } from '../batch/BatchApi';
import { configFrom, openServiceStore } from '../cli/commands/commandIo';
import { loadImage } from '../cli/commands/export';
import type { DeployCommandOptions, PrepareCommandOptions, StartCommandOptions } from '../cli/commands/finetune';
import { EXIT } from '../cli/exitCodes';
import { loadCliConfig } from '../cli/loadCliConfig';
import type { BlobsightConfig } from '../config/loadConfig';
import { isConfigError } from '../errors';
import { ExportUsageError } from '../export/ExportUsageError';
import { readRunPredictions } from '../export/readRunPredictions';
import { readServiceRecords } from '../export/readServiceRecords';
import { createOpenAIClient } from '../model/createOpenAIClient';
import { loadProfiles } from '../profiles/ProfileRegistry';
import type { PredictionRecord } from '../runs/predictionRecord';
import type { DeploymentSku } from './armDeployment';
import { ArmError, deployWithArm, parseAccountId, planDeployment } from './armDeployment';
import type { FinetuneIo } from './finetuneIo';
import { START_FILE } from './fineTuneManifest';
import { fineTunePrices } from './fineTunePrices';
import { FineTuneProgress } from './FineTuneProgress';
import { FineTuningApi } from './FineTuningApi';
import { FineTuneDataError, FineTuneUsageError, prepareFineTune } from './prepareFineTune';
import { startFineTune } from './startFineTune';

/** Preprocessing limits when the service's settings are not at hand (a run folder needs none), as `export` uses. */
const DEFAULT_LIMITS = { maxBytes: 20 * 1024 * 1024, maxPixels: 40_000_000 };

export async function prepareAction(run: string | undefined, o: PrepareCommandOptions, io: FinetuneIo): Promise<number> {
  return guard('prepare', io, async () => {
    if ((run === undefined) === (o.fromService !== true)) throw new FineTuneUsageError('Give a run folder or --from-service (one of them).');
    let config: BlobsightConfig | undefined;
    const getConfig = (): BlobsightConfig => (config ??= configFrom(io));
    let records: PredictionRecord[];
    if (run !== undefined) {
      const read = readRunPredictions(run);
      for (const b of read.bad) io.stderr(`blobsight finetune prepare: skipped ${b.file} line ${b.line}: ${b.reason}\n`);
      records = read.records;
    } else {
      if (o.profile === undefined) throw new FineTuneUsageError('--from-service needs --profile NAME (one dataset has one label set).');
      records = await readServiceRecords(await openServiceStore(io, getConfig()), { profile: o.profile });
    }
    const names = [...new Set(records.map((r) => r.profile.name))];
    const profileName = o.profile ?? (names.length === 1 ? names[0] : undefined);
    if (profileName === undefined) throw new FineTuneUsageError(names.length === 0 ? 'No records to train on.' : `The records use ${names.length} profiles (${names.join(', ')}); choose one with --profile NAME.`);
    const profiles = loadProfiles(run === undefined ? getConfig().profilesDir : io.env['PROFILES_DIR']);
    const profile = profiles.get(profileName);
    if (profile === undefined) throw new FineTuneUsageError(`Unknown profile "${profileName}" (needed to rebuild its prompt). Known profiles: ${profiles.names().join(', ')}.`);

    const prices = fineTunePrices({ trainingPerMTok: o.trainingPrice, hostingPerHour: o.hostingPrice });
    const manifest = await prepareFineTune({
      records,
      profile,
      source: run ?? 'service',
      out: o.out,
      force: o.force === true,
      includeUnreviewed: o.includeUnreviewed === true,
      validationShare: o.validationShare,
      seed: o.seed,
      epochs: o.epochs,
      prices,
      limits: config?.limits ?? DEFAULT_LIMITS,
      loadImage: (record) => loadImage(record, io, getConfig),
      onProgress: (done, total) => {
        if (o.json !== true && total > 0 && (done === total || done % 50 === 0)) io.stderr(`\r[blobsight] ${done}/${total} images checked`);
        if (o.json !== true && total > 0 && done === total) io.stderr('\n');
      },
    });
    if (o.json === true) {
      io.stdout(`${JSON.stringify(manifest, null, 2)}\n`);
      return EXIT.ok;
    }
    const e = manifest.estimate;
    const lines = [
      `Prepared ${manifest.train.examples} training and ${manifest.validation?.examples ?? 0} validation example(s) of profile ${manifest.profile.name} in ${o.out}`,
      `  reviewed: ${manifest.train.reviewed + (manifest.validation?.reviewed ?? 0)} of ${manifest.train.examples + (manifest.validation?.examples ?? 0)}${manifest.includeUnreviewed ? ' (the rest are model answers: --include-unreviewed)' : ''}`,
      ...Object.entries(manifest.byLabel).map(([label, n]) => `  ${label}: ${n.train} train, ${n.validation} validation`),
      `Estimate (before anything is spent): ${e.trainingTokens.toLocaleString('en-US')} training tokens × ${e.epochs} epoch(s) = ${e.billedTokens.toLocaleString('en-US')} billed tokens`,
      `  training ≈ $${e.trainingUsd.toFixed(2)} at $${e.trainingPerMTok}/1M tokens (${manifest.baseModel})`,
      `  hosting the fine-tuned deployment: $${e.hostingPerHourUsd.toFixed(2)}/hour while it is deployed (≈ $${(e.hostingPerHourUsd * 24 * 30).toFixed(0)}/month), plus per-token use; a DeveloperTier deployment has no hourly fee`,
      `  prices: ${e.priceSource}; override with --training-price / --hosting-price`,
      `Next: blobsight finetune start ${o.out}`,
    ];
    io.stdout(`${lines.join('\n')}\n`);
    return EXIT.ok;
  });
}

export async function startAction(dir: string, o: StartCommandOptions, io: FinetuneIo): Promise<number> {
  return guard('start', io, async () => {
    const { api, endpoint } = fineTuningApi(io, Math.min(o.pollInterval * 1000, 5_000));
    const local = new AbortController();
    const onSigint = (): void => local.abort();
    if (io.stop === undefined) process.on('SIGINT', onSigint);
    const stop = io.stop ?? local.signal;
    const progress = o.progress ? new FineTuneProgress({ write: io.stderr, tty: io.tty && o.json !== true }) : undefined;
    try {
      const r = await startFineTune({
        dir,
        api,
        endpoint,
        ...(o.resume === undefined ? {} : { resumeJobId: o.resume }),
        retry: o.retry === true,
        pollMs: o.pollInterval * 1000,
        stop,
        ...(progress === undefined ? {} : { onProgress: (p) => progress.update(p), onEvent: (e) => progress.event(e) }),
      });
      progress?.finish();
      const j = r.job;
      if (o.json === true) io.stdout(`${JSON.stringify({ job: j.id, status: j.status, fineTunedModel: j.fineTunedModel, error: j.error, uploaded: r.uploaded, created: r.created, interrupted: r.interrupted })}\n`);
      if (r.interrupted) {
        io.stderr(`blobsight finetune start: stopped following; job ${j.id} keeps running at Azure (${j.status}). Continue with: blobsight finetune start ${dir}\n`);
        return EXIT.interrupted;
      }
      if (j.status === 'succeeded') {
        if (o.json !== true) io.stdout(`Job ${j.id} succeeded.\nfine_tuned_model: ${j.fineTunedModel ?? '(none reported)'}\nNext: blobsight finetune deploy ${j.id} --deployment <name> [--resource <account id>]\n`);
        return EXIT.ok;
      }
      if (j.status === 'cancelled') {
        io.stderr(`blobsight finetune start: job ${j.id} was cancelled; no model was made. The files stay uploaded: \`blobsight finetune start ${dir} --retry\` starts a new job on them.\n`);
        return EXIT.someFailed;
      }
      io.stderr(`blobsight finetune start: job ${j.id} ${j.status}: ${j.error === null ? 'no error reported' : `${j.error.code}: ${j.error.message}${j.error.param === null ? '' : ` (${j.error.param})`}`}. After fixing the cause, \`blobsight finetune start ${dir} --retry\` starts a new job on the same files (or prepare again).\n`);
      return EXIT.someFailed;
    } catch (e) {
      progress?.finish();
      if (e instanceof APIUserAbortError || stop.aborted) {
        io.stderr(`blobsight finetune start: stopped. What was done is in ${path.join(dir, START_FILE)}; run the same command again to continue.\n`);
        return EXIT.interrupted;
      }
      if (e instanceof APIError || (e instanceof Error && !(e instanceof FineTuneUsageError) && !isConfigError(e))) {
        io.stderr(`blobsight finetune start: ${e.message}\nNothing is lost: ids of what was uploaded or created are in ${path.join(dir, START_FILE)}; run the same command again to resume (no second upload or job).\n`);
        return EXIT.someFailed;
      }
      throw e;
    } finally {
      process.off('SIGINT', onSigint);
    }
  });
}

export async function cancelAction(jobId: string, io: FinetuneIo): Promise<number> {
  return guard('cancel', io, async () => {
    const { api } = fineTuningApi(io, 1000);
    try {
      const job = await api.cancel(jobId);
      io.stdout(`Job ${job.id}: ${job.status}\n`);
      return job.status === 'cancelled' ? EXIT.ok : EXIT.someFailed;
    } catch (e) {
      if (e instanceof APIError) {
        io.stderr(`blobsight finetune cancel: ${e.message}\n`);
        return EXIT.someFailed;
      }
      throw e;
    }
  });
}

export async function deployAction(jobOrModel: string, o: DeployCommandOptions, io: FinetuneIo): Promise<number> {
  return guard('deploy', io, async () => {
    let model = jobOrModel;
    // Fine-tuned model ids are `<base>.ft-<id>[-suffix]`; job ids have no dot.
    if (!jobOrModel.includes('.')) {
      const { api } = fineTuningApi(io, 1000);
      let job;
      try {
        job = await api.get(jobOrModel);
      } catch (e) {
        if (e instanceof APIError) {
          io.stderr(`blobsight finetune deploy: job ${jobOrModel}: ${e.message}\n`);
          return EXIT.someFailed;
        }
        throw e;
      }
      if (job.status !== 'succeeded' || job.fineTunedModel === null) {
        io.stderr(`blobsight finetune deploy: job ${job.id} is ${job.status}; only a succeeded job has a model to deploy.\n`);
        return EXIT.someFailed;
      }
      model = job.fineTunedModel;
    }
    const account = o.resource === undefined ? undefined : parseAccountId(o.resource);
    if (o.resource !== undefined && account === undefined) throw new FineTuneUsageError(`--resource must be an account id like /subscriptions/<id>/resourceGroups/<rg>/providers/Microsoft.CognitiveServices/accounts/<name>, got ${JSON.stringify(o.resource)}.`);
    if (o.yes === true && account === undefined) throw new FineTuneUsageError('--yes needs --resource (or AZURE_OPENAI_RESOURCE_ID): the account to deploy to.');
    const plan = planDeployment({ account, deployment: o.deployment, model, sku: o.sku as DeploymentSku, capacity: o.capacity });
    const base = o.armEndpoint.replace(/\/+$/, '');
    io.stdout(`Azure CLI:\n  ${plan.azCommand}\n\nARM REST (what the command sends):\n  PUT ${base}${plan.path}\n  ${JSON.stringify(plan.body)}\n`);
    if (o.yes !== true) {
      io.stdout(`\nNothing was changed. Run it with --yes to deploy now (keyless: your Azure sign-in or managed identity).\n${hostingNote(o.sku)}\n`);
      return EXIT.ok;
    }
    const credential: TokenCredential = io.credential ?? new DefaultAzureCredential();
    try {
      const r = await deployWithArm(plan, { baseUrl: base, credential, ...(io.fetch === undefined ? {} : { fetch: io.fetch }), pollMs: o.pollInterval * 1000, maxPolls: Math.ceil(900 / o.pollInterval), onState: (s) => io.stderr(`[blobsight] deployment ${o.deployment}: ${s}\n`) });
      if (r.provisioningState === 'Succeeded') {
        io.stdout(`\nDeployment ${o.deployment} of ${model} is ready. Label with it: AZURE_OPENAI_DEPLOYMENT=${o.deployment} blobsight label <images> --profile <profile> --name ft\n${hostingNote(o.sku)}\n`);
        return EXIT.ok;
      }
      io.stderr(`blobsight finetune deploy: deployment ${o.deployment} is ${r.provisioningState}${r.provisioningState === 'Failed' || r.provisioningState === 'Canceled' ? '' : ' (still provisioning; check with `az cognitiveservices account deployment show`)'}.\n`);
      return EXIT.someFailed;
    } catch (e) {
      if (e instanceof ArmError) {
        const hint = e.status === 401 || e.status === 403 ? ' Deploying needs a role such as Cognitive Services Contributor on the account.' : '';
        io.stderr(`blobsight finetune deploy: Azure Resource Manager answered ${e.status} ${e.code}: ${e.message}${hint}\n`);
        return EXIT.someFailed;
      }
      throw e;
    }
  });
}

function hostingNote(sku: string): string {
  return sku === 'DeveloperTier'
    ? 'DeveloperTier: no hourly hosting fee, per-token use only; the deployment is removed after 24 hours and has no SLA.'
    : 'A Standard or GlobalStandard deployment of a fine-tuned model is billed per hour while it exists (see finetune.json estimate), used or not; delete it when done.';
}

/** The fine-tuning client on the configured Azure OpenAI resource: keyless unless a key is configured, as chat calls. */
function fineTuningApi(io: FinetuneIo, pollMs: number): { api: FineTuningApi; endpoint: string } {
  const { config } = loadCliConfig(io.env);
  const model = config.model;
  if (model.provider !== 'azure-openai') throw new FineTuneUsageError('Fine-tuning runs on Azure OpenAI: set AZURE_OPENAI_ENDPOINT (keyless by default; AZURE_OPENAI_API_KEY only if the resource needs a key).');
  const keyless = model.apiKey === undefined;
  // No deployment on this client: fine-tuning and files are resource-level calls.
  const client = createOpenAIClient({ ...model, deployment: '' }, config.modelRequest, {
    ...(keyless ? { credential: io.credential ?? new DefaultAzureCredential() } : {}),
    ...(io.fetch === undefined ? {} : { fetch: io.fetch }),
  });
  return { api: new FineTuningApi(client, new BatchApi(client, { filePollMs: pollMs }), { pollMs }), endpoint: model.endpoint };
}

/** Usage and settings errors end with exit 2 and the reason; data problems with exit 1 and every problem. */
async function guard(sub: string, io: FinetuneIo, body: () => Promise<number>): Promise<number> {
  try {
    return await body();
  } catch (e) {
    if (e instanceof FineTuneDataError) {
      io.stderr(`blobsight finetune ${sub}: ${e.message}\n`);
      return EXIT.someFailed;
    }
    if (e instanceof FineTuneUsageError || e instanceof ExportUsageError) {
      io.stderr(`blobsight finetune ${sub}: ${e.message}\n`);
      return EXIT.usage;
    }
    if (isConfigError(e)) {
      io.stderr(`blobsight finetune ${sub}: the settings are not valid:\n${e.issues.map((i) => `  - ${i}`).join('\n')}\n`);
      return EXIT.usage;
    }
    throw e;
  }
}
