/** `blobsight export <run | --from-service> --format F --out PATH`: a run's (or the service's) answers in a dataset format. */
import { readFile } from 'node:fs/promises';

import { Command, Option } from 'commander';

import { downloadBlob } from '../../blob/downloadBlob';
import type { BlobsightConfig } from '../../config/loadConfig';
import { ConfigError } from '../../errors';
import type { ExportContext } from '../../export/exportFormat';
import { EXPORT_FORMATS } from '../../export/exportFormats';
import { ExportUsageError } from '../../export/ExportUsageError';
import { readRunPredictions } from '../../export/readRunPredictions';
import { readServiceRecords } from '../../export/readServiceRecords';
import { runExport } from '../../export/runExport';
import { loadProfiles } from '../../profiles/ProfileRegistry';
import type { PredictionRecord } from '../../runs/predictionRecord';
import type { CommandIo } from './commandIo';
import { configFrom, openServiceImages, openServiceStore, processIo } from './commandIo';

interface ExportOptions {
  fromService?: boolean;
  profile?: string;
  format: string;
  out: string;
  force?: boolean;
  seed: string;
  validation: string;
  deployment?: string;
  imageUrlPrefix?: string;
  json?: boolean;
}

/** Defaults used where the service's configuration has none (exports of a run need no service settings). */
const DEFAULT_LIMITS = { maxBytes: 20 * 1024 * 1024, maxPixels: 40_000_000 };

export function createExportCommand(io: CommandIo = processIo()): Command {
  return new Command('export')
    .description('Write a run\'s answers (or the service\'s) in a dataset format; reviewed labels win over model answers.')
    .argument('[run]', 'run folder (runs/<UTC>-<name>) or its predictions.jsonl')
    .option('--from-service', 'export the documents the service stored in Cosmos DB instead of a run')
    .option('--profile <name>', 'with --from-service: the profile to export (required when documents of several profiles exist)')
    .addOption(new Option('--format <format>', 'output format').choices(EXPORT_FORMATS.map((f) => f.name)).makeOptionMandatory())
    .requiredOption('--out <path>', 'file (or folder, for voc, yolo and fine-tune) to write')
    .option('--force', 'replace --out when it exists (folders only when blobsight wrote them)')
    .option('--seed <seed>', 'fine-tune: seed of the train/validation split', 'blobsight')
    .option('--validation <fraction>', 'fine-tune: share of images in the validation file', '0.1')
    .option('--deployment <name>', 'batch: Global-Batch deployment named on every line (default AZURE_OPENAI_DEPLOYMENT)')
    .option('--image-url-prefix <prefix>', 'label-studio: prefix for local files in data.image, e.g. /data/local-files/?d=images/')
    .option('--json', 'print the summary as JSON')
    .addHelpText('after', `\nFormats:\n${EXPORT_FORMATS.map((f) => `  ${f.name.padEnd(13)} ${f.description}`).join('\n')}\n\nExit codes: 0 written, 1 written but some images left out, 2 usage or configuration error.`)
    .action(async (run: string | undefined, opts: ExportOptions) => {
      try {
        const code = await exportAction(run, opts, io);
        io.setExitCode(code);
      } catch (e) {
        if (e instanceof ExportUsageError || e instanceof ConfigError) {
          io.stderr(`blobsight export: ${e.message}\n`);
          io.setExitCode(2);
          return;
        }
        throw e;
      }
    });
}

async function exportAction(run: string | undefined, opts: ExportOptions, io: CommandIo): Promise<number> {
  if ((run === undefined) === (opts.fromService !== true)) throw new ExportUsageError('Give a run folder or --from-service (one of them).');
  const validation = Number(opts.validation);
  if (!Number.isFinite(validation) || validation < 0 || validation >= 1) throw new ExportUsageError(`--validation must be a fraction from 0 to below 1, got ${opts.validation}.`);

  let config: BlobsightConfig | undefined;
  const getConfig = (): BlobsightConfig => (config ??= configFrom(io));
  let records: PredictionRecord[];
  if (run !== undefined) {
    const read = readRunPredictions(run);
    for (const b of read.bad) io.stderr(`blobsight export: skipped ${b.file} line ${b.line}: ${b.reason}\n`);
    records = read.records;
  } else {
    const store = await openServiceStore(io, getConfig());
    records = await readServiceRecords(store, opts.profile === undefined ? {} : { profile: opts.profile });
  }
  const profiles = loadProfiles(run === undefined ? getConfig().profilesDir : io.env['PROFILES_DIR']);

  const context: Omit<ExportContext, 'profile'> = {
    loadImage: (record) => loadImage(record, io, getConfig),
    limits: config?.limits ?? DEFAULT_LIMITS,
    seed: opts.seed,
    validationFraction: validation,
    deployment: opts.deployment ?? io.env['AZURE_OPENAI_DEPLOYMENT'] ?? io.env['OPENAI_MODEL'] ?? '',
    logprobs: (io.env['MODEL_LOGPROBS'] ?? 'true') !== 'false',
    imageUrlPrefix: opts.imageUrlPrefix,
    onProgress: (done, total) => {
      if (opts.json !== true && total > 0 && (done === total || done % 50 === 0)) io.stderr(`\r${done}/${total} images`);
      if (opts.json !== true && done === total && total > 0) io.stderr('\n');
    },
  };
  const report = await runExport({ records, format: opts.format, out: opts.out, force: opts.force === true, profiles, context });
  if (opts.json === true) io.stdout(`${JSON.stringify(report)}\n`);
  else {
    io.stdout(`Exported ${report.images} image(s) of profile ${report.profile} as ${report.format} to ${report.out}.\n`);
    if (report.withoutAnswer > 0) io.stdout(`${report.withoutAnswer} record(s) had no answer (rejected or failed) and are not in the export.\n`);
    for (const s of report.skipped) io.stdout(`left out ${s.name}: ${s.reason}\n`);
    for (const n of report.notes) io.stdout(`${n}\n`);
  }
  const unexpected = report.skipped.filter((s) => s.reason !== 'reviewed by a person');
  return unexpected.length > 0 ? 1 : 0;
}

/** Local files are read from where the run found them; blobs (a run over a container, or the service) are downloaded. */
export async function loadImage(record: PredictionRecord, io: CommandIo, getConfig: () => BlobsightConfig): Promise<Buffer> {
  if (record.source.kind === 'file') return readFile(record.source.location);
  const config = getConfig();
  const images = openServiceImages(io, config);
  const name = record.source.kind === 'service' ? record.name : blobNameIn(record.source.location, images.url) ?? record.name;
  const got = await downloadBlob(images, name, { maxBytes: config.limits.maxBytes });
  if (got.kind !== 'ok') throw new Error(`blob ${name}: ${got.kind}`);
  return got.bytes;
}

function blobNameIn(url: string, containerUrl: string): string | undefined {
  const prefix = containerUrl.endsWith('/') ? containerUrl : `${containerUrl}/`;
  return url.startsWith(prefix) ? decodeURIComponent(url.slice(prefix.length)) : undefined;
}
