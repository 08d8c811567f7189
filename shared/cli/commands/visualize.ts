/** `blobsight visualize --pred P --truth T`: images with predicted vs truth boxes and a banner, as JPEG or PNG files. */
import { Command, Option } from 'commander';

import { OVERLAY_LEGEND } from '../../visualize/overlayColours';
import { runVisualize } from '../../visualize/runVisualize';
import { EXIT } from '../exitCodes';
import { positiveInt } from './parseOptions';

interface VisualizeCliOptions {
  pred: string;
  truth: string;
  truthFormat: 'auto' | 'bdd100k' | 'coco' | 'folders' | 'jsonl';
  out: string;
  worst?: number;
  format: 'jpeg' | 'png';
  images?: string;
  maxWidth?: number;
  json?: boolean;
}

export function visualizeCommand(): Command {
  return new Command('visualize')
    .description('Draw predicted boxes and labels against the ground truth on each image (or the --worst N), with the scene attributes in a banner.')
    .requiredOption('--pred <path>', 'a run folder or a predictions file (any form `blobsight evaluate` reads)')
    .requiredOption('--truth <path>', 'ground truth: BDD100K frames or label folder, COCO JSON, folder per class, or JSONL')
    .addOption(new Option('--truth-format <format>', 'format of --truth').choices(['auto', 'bdd100k', 'coco', 'folders', 'jsonl']).default('auto'))
    .option('--out <dir>', 'folder for the pictures', './overlays')
    .option('--worst <n>', 'only the N images with the most errors (FP + FN boxes + wrong label, tags and attributes), worst first', positiveInt(100_000))
    .addOption(new Option('--format <format>', 'picture format').choices(['jpeg', 'png']).default('jpeg'))
    .option('--images <dir>', 'folder holding the images, when the paths recorded in the run no longer point at them')
    .option('--max-width <px>', 'downscale wider images to this width', positiveInt(20_000))
    .option('--json', 'print what was written as JSON on stdout')
    .addHelpText('after', `\nLegend:\n${OVERLAY_LEGEND.split('\n').map((l) => `  ${l}`).join('\n')}\n\nExit codes: 0 every picture written, 1 some images could not be found or decoded, 2 usage error.`)
    .action(async (o: VisualizeCliOptions) => {
      const result = await runVisualize(
        {
          pred: o.pred,
          truth: o.truth,
          ...(o.truthFormat === 'auto' ? {} : { truthFormat: o.truthFormat }),
          out: o.out,
          ...(o.worst === undefined ? {} : { worst: o.worst }),
          format: o.format,
          ...(o.images === undefined ? {} : { images: o.images }),
          ...(o.maxWidth === undefined ? {} : { maxWidth: o.maxWidth }),
        },
        o.json === true ? (line) => void process.stderr.write(`${line}\n`) : (line) => void process.stdout.write(`${line}\n`),
      );
      for (const w of result.warnings) process.stderr.write(`warning: ${w}\n`);
      for (const s of result.skipped) process.stderr.write(`skipped ${s.name}: ${s.reason}\n`);
      if (o.json === true) process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
      else {
        const parts = [`${result.written.length} picture${result.written.length === 1 ? '' : 's'} in ${o.out}`];
        if (o.worst !== undefined && result.written.length + result.skipped.length < o.worst) parts.push(`(only ${result.written.length + result.skipped.length} images have an error)`);
        if (result.skipped.length > 0) parts.push(`${result.skipped.length} skipped`);
        if (result.predictionsWithoutTruth > 0) parts.push(`${result.predictionsWithoutTruth} predictions without truth not drawn`);
        if (result.truthWithoutPredictions > 0) parts.push(`${result.truthWithoutPredictions} truth images without a prediction not drawn`);
        process.stdout.write(`${parts.join('; ')}\n`);
      }
      process.exitCode = result.skipped.length > 0 ? EXIT.someFailed : EXIT.ok;
    });
}
