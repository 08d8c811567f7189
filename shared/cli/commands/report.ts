/** `blobsight report RUN [--truth T]`: one self-contained HTML page of a run (and, with truth, of how good it is). */
import { Command, Option } from 'commander';

import type { TruthFormat } from '../../eval/loadTruth';
import { loadProfiles } from '../../profiles/ProfileRegistry';
import { writeReport } from '../../report/writeReport';
import { RunFolder } from '../../runs/RunFolder';
import { readCliSettings } from '../readCliSettings';
import { positiveInt } from './parseOptions';

interface ReportCliOptions {
  runsDir: string;
  truth?: string;
  truthFormat: 'auto' | TruthFormat;
  out?: string;
  worst: number;
  images?: string;
  profilesDir?: string;
  json?: boolean;
}

export function reportCommand(): Command {
  return new Command('report')
    .description('Write one self-contained HTML report of a run: statuses, confidences, latency, cost; with --truth also accuracy, confusion matrix, per-class scores, PR curves, calibration and the worst mistakes drawn.')
    .argument('<run>', 'run id under --runs-dir, or a run folder path')
    .option('--runs-dir <dir>', 'where run folders live', './runs')
    .option('--truth <path>', 'ground truth (any form `blobsight evaluate` reads)')
    .addOption(new Option('--truth-format <format>', 'format of --truth').choices(['auto', 'bdd100k', 'coco', 'folders', 'jsonl']).default('auto'))
    .option('--out <file>', 'the HTML file to write (default: report.html in the run folder)')
    .option('--worst <n>', 'images in the gallery of worst mistakes', positiveInt(200), 12)
    .option('--images <dir>', 'folder holding the images, when the paths recorded in the run no longer point at them')
    .option('--profiles-dir <dir>', 'your own profiles (default PROFILES_DIR), for the run profile\'s label set')
    .option('--json', 'print what was written as JSON')
    .action(async (ref: string, o: ReportCliOptions) => {
      // The run's own profile (by name) gives the evaluator its label set, as in `blobsight evaluate`.
      const profilesDir = o.profilesDir ?? readCliSettings(process.cwd()).env['PROFILES_DIR'];
      const profile = o.truth === undefined ? undefined : loadProfiles(profilesDir === '' ? undefined : profilesDir).get(RunFolder.open(o.runsDir, ref).readConfig().profile.name);
      const written = await writeReport(ref, o.out, {
        runsDir: o.runsDir,
        worst: o.worst,
        ...(o.truth === undefined ? {} : { truth: o.truth }),
        ...(o.truthFormat === 'auto' ? {} : { truthFormat: o.truthFormat }),
        ...(o.images === undefined ? {} : { images: o.images }),
        ...(profile === undefined ? {} : { profile }),
      });
      if (o.json === true) process.stdout.write(`${JSON.stringify(written, null, 2)}\n`);
      else process.stdout.write(`Report of ${written.runId} written to ${written.file} (${Math.round(written.bytes / 1024)} KiB${written.evaluated === null ? ', no ground truth' : `, ${written.evaluated} images evaluated, ${written.gallery} in the gallery`})\n`);
    });
}
