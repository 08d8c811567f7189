/** `blobsight import label-studio <export.json> --run R | --to-service`: a person's corrections back, beside the model's answers. */
import { existsSync, readFileSync, statSync } from 'node:fs';

import { Command } from 'commander';

import { ConfigError } from '../../errors';
import { ExportUsageError } from '../../export/ExportUsageError';
import { readRunPredictions } from '../../export/readRunPredictions';
import { labelStudioReviews } from '../../import/labelStudioReviews';
import { storeRunReviews, storeServiceReviews } from '../../import/storeReviews';
import { loadProfiles } from '../../profiles/ProfileRegistry';
import type { ImageDocument } from '../../store/imageDocument';
import type { CommandIo } from './commandIo';
import { configFrom, openServiceStore, processIo } from './commandIo';

interface ImportOptions {
  run?: string;
  toService?: boolean;
  json?: boolean;
}

export function createImportCommand(io: CommandIo = processIo()): Command {
  const command = new Command('import').description('Bring reviewed labels back from a labelling tool.');
  command
    .command('label-studio')
    .description('Store the annotations of a Label Studio JSON export as reviews (the model\'s answers are kept beside them).')
    .argument('<export>', 'Label Studio export (JSON) of tasks made by `blobsight export --format label-studio`')
    .option('--run <run>', 'the run folder the tasks came from: reviews go to its reviews.jsonl')
    .option('--to-service', 'store the reviews on the service\'s documents (as PATCH /api/images/{id}/review does)')
    .option('--json', 'print the summary as JSON')
    .addHelpText('after', '\nExit codes: 0 all annotated tasks stored, 1 some tasks could not be used (listed), 2 usage or configuration error.')
    .action(async (file: string, opts: ImportOptions) => {
      try {
        io.setExitCode(await importAction(file, opts, io));
      } catch (e) {
        if (e instanceof ExportUsageError || e instanceof ConfigError) {
          io.stderr(`blobsight import label-studio: ${e.message}\n`);
          io.setExitCode(2);
          return;
        }
        throw e;
      }
    });
  return command;
}

async function importAction(file: string, opts: ImportOptions, io: CommandIo): Promise<number> {
  if ((opts.run === undefined) === (opts.toService !== true)) throw new ExportUsageError('Give --run RUN or --to-service (one of them).');
  if (!existsSync(file) || !statSync(file).isFile()) throw new ExportUsageError(`${file} is not a file.`);
  let exported: unknown;
  try {
    exported = JSON.parse(readFileSync(file, 'utf8'));
  } catch (e) {
    throw new ExportUsageError(`${file} is not JSON (${e instanceof Error ? e.message : String(e)}); export the project from Label Studio as JSON.`);
  }
  if (!Array.isArray(exported)) throw new ExportUsageError(`${file} is not a Label Studio JSON export (a list of tasks).`);

  let stored: number;
  let parsed: ReturnType<typeof labelStudioReviews>;
  const extraProblems: { task: number; name: string | null; reason: string }[] = [];
  if (opts.run !== undefined) {
    const run = readRunPredictions(opts.run);
    for (const b of run.bad) io.stderr(`blobsight import: skipped ${b.file} line ${b.line}: ${b.reason}\n`);
    const profiles = loadProfiles(io.env['PROFILES_DIR']);
    const byName = new Map(run.records.map((r) => [r.name, r]));
    parsed = labelStudioReviews(exported, (name) => {
      const r = byName.get(name);
      if (r === undefined) return `no image named ${JSON.stringify(name)} in run ${opts.run}`;
      const profile = profiles.get(r.profile.name);
      if (profile === undefined) return `profile ${r.profile.name} of the run is not known here`;
      return { profile, width: r.image?.width ?? null, height: r.image?.height ?? null };
    });
    const dir = statSync(opts.run).isDirectory() ? opts.run : `${opts.run}/..`;
    stored = storeRunReviews(dir, parsed.reviews);
  } else {
    const config = configFrom(io);
    const store = await openServiceStore(io, config);
    const profiles = loadProfiles(config.profilesDir);
    // Documents first (lookups are async), then the tasks are checked against them.
    const docs = new Map<string, ImageDocument>();
    for (const t of exported as { data?: { documentId?: unknown } }[]) {
      const id = t?.data?.documentId;
      if (typeof id === 'string' && !docs.has(id)) {
        const doc = await store.get(id);
        if (doc !== undefined) docs.set(id, doc);
      }
    }
    parsed = labelStudioReviews(exported, (name, documentId) => {
      if (documentId === undefined) return 'no data.documentId: this task was not exported from the service';
      const doc = docs.get(documentId);
      if (doc === undefined) return `no document ${documentId} in the service`;
      if (doc.blob.name !== name) return `document ${documentId} is blob ${doc.blob.name}, not ${name}`;
      const profile = doc.profile === null ? undefined : profiles.get(doc.profile.name);
      if (profile === undefined) return `document ${documentId} has no known profile to review against`;
      return { profile, width: doc.image?.width ?? null, height: doc.image?.height ?? null };
    });
    const saved = await storeServiceReviews(store, parsed.reviews);
    stored = saved.stored;
    extraProblems.push(...saved.problems);
  }
  const problems = [...parsed.problems, ...extraProblems];
  const summary = { tasks: exported.length, stored, unannotated: parsed.unannotated, problems };
  if (opts.json === true) io.stdout(`${JSON.stringify(summary)}\n`);
  else {
    io.stdout(`Stored ${stored} review(s) from ${exported.length} task(s)${parsed.unannotated > 0 ? `; ${parsed.unannotated} task(s) had no annotation` : ''}.\n`);
    for (const p of problems) io.stdout(`task ${p.task}${p.name === null ? '' : ` (${p.name})`}: ${p.reason}\n`);
  }
  return problems.length > 0 ? 1 : 0;
}
