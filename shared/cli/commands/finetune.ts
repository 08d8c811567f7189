/**
 * `blobsight finetune prepare | start | cancel | deploy`: reviewed labels → a vision fine-tuning set checked against
 * Azure's rules and priced → a job on gpt-4o-2024-08-06 followed to its end (resumable) → a deployment of the result.
 */
import { Command, InvalidArgumentError, Option } from 'commander';

import type { FinetuneIo } from '../../finetune/finetuneIo';
import { finetuneProcessIo } from '../../finetune/finetuneIo';

export interface PrepareCommandOptions {
  fromService?: boolean;
  profile?: string;
  out: string;
  force?: boolean;
  includeUnreviewed?: boolean;
  validationShare: number;
  seed: number;
  epochs: number;
  trainingPrice?: number;
  hostingPrice?: number;
  json?: boolean;
}

export interface StartCommandOptions {
  resume?: string;
  retry?: boolean;
  pollInterval: number;
  progress: boolean;
  json?: boolean;
}

export interface DeployCommandOptions {
  deployment: string;
  resource?: string;
  sku: string;
  capacity: number;
  armEndpoint: string;
  pollInterval: number;
  yes?: boolean;
}

export function finetuneCommand(io: FinetuneIo = finetuneProcessIo()): Command {
  const cmd = new Command('finetune').description('Fine-tune GPT-4o (vision) on reviewed labels: prepare the data, start and follow the job, deploy the result.');

  cmd
    .command('prepare')
    .description('Write train.jsonl + validation.jsonl (Azure OpenAI vision fine-tuning) from reviewed labels, checked against Azure\'s rules, with a token and cost estimate. Nothing is uploaded.')
    .argument('[run]', 'run folder (runs/<UTC>-<name>) whose reviewed records to use')
    .option('--from-service', 'use the reviewed documents the service stored in Cosmos DB instead of a run')
    .option('-p, --profile <name>', 'the profile to train (required with --from-service; defaults to the run\'s)')
    .requiredOption('--out <dir>', 'folder to write the files to')
    .option('--force', 'replace a prepared set in --out (never one already uploaded)')
    .option('--include-unreviewed', 'also train on model answers nobody reviewed (their own confidence in the answer)')
    .option('--validation-share <share>', 'share of examples held out for validation, per label', share, 0.2)
    .option('--seed <n>', 'seed of the split and of the job', int('seed', 0, 2_147_483_647), 42)
    .option('--epochs <n>', 'training epochs (n_epochs)', int('epochs', 1, 50), 3)
    .option('--training-price <usd>', 'USD per 1M training tokens (default: the gpt-4o-2024-08-06 figure in shared/finetune/fineTunePrices.ts)', usd)
    .option('--hosting-price <usd>', 'USD per hour of hosting the fine-tuned deployment', usd)
    .option('--json', 'print the manifest as JSON')
    .addHelpText('after', '\nExit codes: 0 written, 1 the data breaks Azure\'s rules (each problem listed, nothing written), 2 usage or configuration error.')
    .action(async (run: string | undefined, o: PrepareCommandOptions) => {
      const { prepareAction } = await import('../../finetune/finetuneActions.js');
      io.setExitCode(await prepareAction(run, o, io));
    });

  cmd
    .command('start')
    .description('Upload a prepared folder (Files API, purpose fine-tune), create the job on gpt-4o-2024-08-06 and follow it; re-running resumes.')
    .argument('<dir>', 'folder written by finetune prepare')
    .option('--resume <jobId>', 'follow this job (a folder whose start.json was lost)')
    .option('--retry', 'the recorded job failed or was cancelled: start a new one on the same uploaded files')
    .option('--poll-interval <seconds>', 'seconds between looks at the job', positive, 30)
    .option('--no-progress', 'no progress bar or lines')
    .option('--json', 'print the result as JSON')
    .addHelpText('after', '\nCtrl-C stops following, not the job: run start again to pick it up.\nExit codes: 0 succeeded, 1 failed or cancelled, 2 usage or configuration error, 130 stopped following (job still running).')
    .action(async (dir: string, o: StartCommandOptions) => {
      const { startAction } = await import('../../finetune/finetuneActions.js');
      io.setExitCode(await startAction(dir, o, io));
    });

  cmd
    .command('cancel')
    .description('Cancel a fine-tuning job.')
    .argument('<jobId>')
    .action(async (jobId: string) => {
      const { cancelAction } = await import('../../finetune/finetuneActions.js');
      io.setExitCode(await cancelAction(jobId, io));
    });

  cmd
    .command('deploy')
    .description('Print (or, with --yes, run through Azure Resource Manager) the deployment of a fine-tuned model.')
    .argument('<jobOrModel>', 'a succeeded job id (ftjob-...) or the fine-tuned model id (gpt-4o-2024-08-06.ft-...)')
    .requiredOption('--deployment <name>', 'deployment name to create')
    .addOption(new Option('--resource <id>', 'the Azure OpenAI account: /subscriptions/<id>/resourceGroups/<rg>/providers/Microsoft.CognitiveServices/accounts/<name>').env('AZURE_OPENAI_RESOURCE_ID'))
    .addOption(new Option('--sku <name>', 'deployment type (DeveloperTier: no hourly hosting fee, 24 h lifetime, no SLA)').choices(['Standard', 'GlobalStandard', 'DeveloperTier']).default('Standard'))
    .option('--capacity <n>', 'sku capacity (thousands of TPM)', int('capacity', 1, 10_000), 1)
    .addOption(new Option('--arm-endpoint <url>', 'Azure Resource Manager base URL').env('AZURE_RESOURCE_MANAGER_ENDPOINT').default('https://management.azure.com'))
    .option('--poll-interval <seconds>', 'with --yes: seconds between looks at the deployment while it provisions', positive, 10)
    .option('--yes', 'run the deployment (keyless, DefaultAzureCredential) instead of printing it')
    .action(async (jobOrModel: string, o: DeployCommandOptions) => {
      const { deployAction } = await import('../../finetune/finetuneActions.js');
      io.setExitCode(await deployAction(jobOrModel, o, io));
    });

  return cmd;
}

function share(value: string): number {
  const n = Number(value);
  if (!Number.isFinite(n) || n < 0 || n > 0.5) throw new InvalidArgumentError(`expected a share from 0 to 0.5, e.g. 0.2, got ${JSON.stringify(value)}.`);
  return n;
}

function int(what: string, min: number, max: number): (value: string) => number {
  return (value) => {
    const n = Number(value);
    if (!Number.isInteger(n) || n < min || n > max) throw new InvalidArgumentError(`${what} must be a whole number from ${min} to ${max}, got ${JSON.stringify(value)}.`);
    return n;
  };
}

function usd(value: string): number {
  const n = Number(value);
  if (!Number.isFinite(n) || n < 0) throw new InvalidArgumentError(`expected US dollars (0 or more), got ${JSON.stringify(value)}.`);
  return n;
}

function positive(value: string): number {
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0) throw new InvalidArgumentError(`expected a number of seconds above 0, got ${JSON.stringify(value)}.`);
  return n;
}
