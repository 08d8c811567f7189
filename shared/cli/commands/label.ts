/** `blobsight label <source> --profile P`: label a folder, a glob, a container or the service's documents into a run folder. */
import { existsSync, statSync } from 'node:fs';

import { Command, Option } from 'commander';

import { positiveInt, positiveUsd } from './parseOptions';

export interface LabelOptions {
  profile?: string;
  name?: string;
  runsDir: string;
  run?: string;
  resume?: boolean;
  concurrency: number;
  dryRun?: boolean;
  maxCost?: number;
  fromService?: boolean;
  connectionString?: string;
  json?: boolean;
  progress: boolean;
}

export function labelCommand(): Command {
  return new Command('label')
    .description('Label images with a profile into a run folder (runs/<UTC time>-<name>/): a folder (recursive), a glob, a blob container URL, or --from-service.')
    .argument('[source]', "folder, quoted glob ('photos/**/*.jpg'), or container URL https://<account>.blob.core.windows.net/<container>[/<prefix>]")
    .option('-p, --profile <name>', 'profile to label with (default: DEFAULT_PROFILE, as the service)')
    .option('-n, --name <name>', 'run name, part of the folder name (default: the profile name)')
    .option('--runs-dir <dir>', 'where run folders live', './runs')
    .option('--run <run>', 'continue this run (id under --runs-dir, or a folder path): images already answered are skipped')
    .option('--resume', 'continue the latest run with the same --name (a new run when there is none)')
    .option('-c, --concurrency <n>', 'images in flight at once', positiveInt(64), 4)
    .option('--dry-run', 'print predicted prompt tokens, max_tokens reserve and cost per image and in total; no model call, no run folder')
    .option('--max-cost <usd>', 'stop before the run would spend more than this (estimate of the next image plus actual spend so far)', positiveUsd)
    .option('--from-service', 'take the documents the running service stored in Cosmos DB for the profile (no model call)')
    .addOption(new Option('--connection-string <cs>', 'storage connection string for a container source (Azurite); default keyless DefaultAzureCredential').env('AZURE_STORAGE_CONNECTION_STRING'))
    .option('--json', 'print the result as JSON on stdout (progress lines still go to stderr)')
    .option('--no-progress', 'no progress bar or lines')
    .addHelpText(
      'after',
      `
Settings come from the environment, .env and local.settings.json "Values" in the current folder, as for the
service. With no model configured the embedded local detector labels (objects profile), offline and free.

Exit codes: 0 every image labelled, 1 some images rejected or failed (or --max-cost reached), 2 usage or
configuration error, 130 stopped by Ctrl-C (resume with --run).

Examples:
  blobsight label ./photos --profile flowers
  blobsight label 'data/**/*.jpg' --profile pets --dry-run
  blobsight label https://acct.blob.core.windows.net/images/flowers --profile flowers --concurrency 8
  blobsight label ./photos --profile flowers --resume`,
    )
    .action(async (source: string | undefined, options: LabelOptions) => {
      // Loaded on use: the model, storage and image libraries stay out of `--help` and other commands.
      const { labelAction } = await import('../labelAction.js');
      process.exitCode = await labelAction(source, options);
    });
}

/** For messages: the kinds of source a path argument can be. */
export function describePath(p: string): 'folder' | 'file' | 'missing' {
  if (!existsSync(p)) return 'missing';
  return statSync(p).isDirectory() ? 'folder' : 'file';
}

