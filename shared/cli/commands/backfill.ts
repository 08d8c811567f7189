/** `blobsight backfill <source> --profile P`: label a folder, glob or container through the Azure OpenAI Batch API at batch prices. */
import { Command, InvalidArgumentError, Option } from 'commander';

import { positiveInt } from './parseOptions';

export interface BackfillCommandOptions {
  profile?: string;
  deployment?: string;
  resume?: string;
  out?: string;
  runsDir: string;
  name?: string;
  onlineRetry: boolean;
  pollInterval: number;
  concurrency: number;
  connectionString?: string;
  json?: boolean;
  progress: boolean;
}

export function backfillCommand(): Command {
  return new Command('backfill')
    .description("Label images through the Azure OpenAI Batch API (Global-Batch deployment, half the online price, answers within 24 h): a folder into a run folder, the service's container into the service's own documents and content cache.")
    .argument('[source]', "folder, quoted glob, or container URL https://<account>.blob.core.windows.net/<container>[/<prefix>] (not needed with --resume and --out)")
    .option('-p, --profile <name>', 'profile to label with (default: DEFAULT_PROFILE)')
    .addOption(new Option('-d, --deployment <name>', 'the Global-Batch deployment named on every request').env('AZURE_OPENAI_BATCH_DEPLOYMENT'))
    .option('--resume <batchId>', 'continue after a crash: wait for this batch (and the others of its run) instead of creating new ones')
    .option('--out <runDir>', 'the run folder to write (created if missing; continued if it holds a backfill)')
    .option('--runs-dir <dir>', 'where new run folders go, and where --resume looks for the batch', './runs')
    .option('-n, --name <name>', 'run name (default: the profile name)')
    .option('--no-online-retry', 'list images the batch did not answer in failures.jsonl instead of asking the online deployment')
    .option('--poll-interval <seconds>', 'seconds between looks at the batches (Azure recommends 60)', positiveNumber, 60)
    .option('-c, --concurrency <n>', 'images written (and retried online) at once', positiveInt(64), 4)
    .addOption(new Option('--connection-string <cs>', 'storage connection string for a container source (Azurite)').env('AZURE_STORAGE_CONNECTION_STRING'))
    .option('--json', 'print the result as JSON on stdout')
    .option('--no-progress', 'no progress bar or lines')
    .addHelpText(
      'after',
      `
The online deployment (AZURE_OPENAI_ENDPOINT, AZURE_OPENAI_DEPLOYMENT, keyless by default) answers what the batch
could not; the batch runs on the same resource's Global-Batch deployment. Ctrl-C stops waiting, not the batch:
run the same command with --out <runDir> (or --resume <batchId>) to pick it up.

A container URL must name the service's IMAGES_CONTAINER (with COSMOS_ENDPOINT set): each blob is then stored by the
service's own event path (one document per blob version, the content cache its later events reuse); blobs already
final there are not sent, and the run folder only keeps the batch files. A profile with imagesPerRequest > 1 puts
that many images on one batch line; an image whose answer is missing or unsure is asked again alone, online.

Exit codes: 0 every image labelled, 1 some images failed or unanswered, 2 usage or configuration error,
130 stopped by Ctrl-C (the batch keeps running; resume later).

Examples:
  blobsight backfill ./photos --profile dog-breeds --deployment gpt-4o-batch
  blobsight backfill ./photos --profile dog-breeds --out runs/2026-12-01T10-00-00Z-dog-breeds
  blobsight backfill https://myaccount.blob.core.windows.net/images --profile pets --deployment gpt-4o-batch
  blobsight backfill --resume batch_6e1f... --profile dog-breeds ./photos`,
    )
    .action(async (source: string | undefined, options: BackfillCommandOptions) => {
      const { backfillAction } = await import('../../batch/backfillAction.js');
      process.exitCode = await backfillAction(source, options);
    });
}

function positiveNumber(value: string): number {
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0) throw new InvalidArgumentError(`expected a number of seconds above 0, e.g. 60 or 0.5, got ${JSON.stringify(value)}.`);
  return n;
}
