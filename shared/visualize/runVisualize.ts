/**
 * `blobsight visualize`: every image (or the `--worst N`) drawn with its predicted and truth boxes and a banner, one
 * file each in `--out`. Predictions and truth are read and paired by the evaluator's loaders, so any form
 * `blobsight evaluate` takes works here too. An image whose file cannot be found or decoded is reported and
 * skipped (exit 1); the others are still written.
 */
import { mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';

import { loadPredictions } from '../eval/loadPredictions';
import type { TruthFormat } from '../eval/loadTruth';
import { detectTruthFormat, loadTruth } from '../eval/loadTruth';
import { matchImages } from '../eval/matchImages';
import type { ImageComparison } from './compareImage';
import { compareImage } from './compareImage';
import { locateImage } from './locateImage';
import { pickWorst } from './pickWorst';
import type { OverlayFormat } from './renderOverlay';
import { renderOverlay } from './renderOverlay';

export interface VisualizeOptions {
  pred: string;
  truth: string;
  truthFormat?: TruthFormat;
  out: string;
  worst?: number;
  format: OverlayFormat;
  /** Folder holding the images, when the run's recorded paths no longer point at them. */
  images?: string;
  /** Downscale wider images to this width. */
  maxWidth?: number;
}

export interface VisualizeResult {
  written: { name: string; file: string; errors: number }[];
  /** Images that could not be drawn, with the reason. */
  skipped: { name: string; reason: string }[];
  predictionsWithoutTruth: number;
  truthWithoutPredictions: number;
  warnings: string[];
}

/**
 * Every image both sides have, compared. Truth without a prediction is counted, not drawn: the run never looked at
 * those images, so they are not its mistakes (`blobsight evaluate` reports them too).
 */
export function compareRun(pred: string, truth: string, truthFormat?: TruthFormat): { comparisons: ImageComparison[]; predictionsWithoutTruth: number; truthWithoutPredictions: number; warnings: string[]; truthRoot?: string } {
  const format = truthFormat ?? detectTruthFormat(truth);
  const truthSet = loadTruth(truth, format);
  const predictions = loadPredictions(pred, truthSet);
  const match = matchImages(predictions.items, truthSet.items);
  const comparisons = match.matched.map((m) => ({ ...compareImage(m.prediction, m.truth), name: m.name })).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  const truthRoot = format === 'folders' && statSync(truth).isDirectory() ? truth : undefined;
  return { comparisons, predictionsWithoutTruth: match.predictionsWithoutTruth.length, truthWithoutPredictions: match.truthWithoutPredictions.length, warnings: [...truthSet.warnings, ...predictions.warnings], ...(truthRoot === undefined ? {} : { truthRoot }) };
}

export async function runVisualize(o: VisualizeOptions, progress: (line: string) => void = () => undefined): Promise<VisualizeResult> {
  const { comparisons, predictionsWithoutTruth, truthWithoutPredictions, warnings, truthRoot } = compareRun(o.pred, o.truth, o.truthFormat);
  const chosen = o.worst === undefined ? comparisons : pickWorst(comparisons, o.worst);
  mkdirSync(o.out, { recursive: true });
  const result: VisualizeResult = { written: [], skipped: [], predictionsWithoutTruth, truthWithoutPredictions, warnings };
  const width = String(chosen.length).length;
  for (const [i, c] of chosen.entries()) {
    const file = locateImage(c.name, c.location, { ...(o.images === undefined ? {} : { images: o.images }), ...(truthRoot === undefined ? {} : { truthRoot }) });
    if (file === undefined) {
      result.skipped.push({ name: c.name, reason: `image file not found (recorded at ${c.location ?? 'nowhere'}); pass --images <folder>` });
      continue;
    }
    let rendered;
    try {
      rendered = await renderOverlay(readFileSync(file), c, { format: o.format, ...(o.maxWidth === undefined ? {} : { maxWidth: o.maxWidth }) });
    } catch (e) {
      result.skipped.push({ name: c.name, reason: `${file} could not be drawn: ${e instanceof Error ? e.message : String(e)}` });
      continue;
    }
    // With --worst the rank leads the file name, so a folder listing shows the worst first.
    const stem = c.name.replace(/\.[^./]+$/, '').replace(/[/\\]+/g, '__').replace(/[^\w.@-]+/g, '_');
    const out = path.join(o.out, `${o.worst === undefined ? '' : `${String(i + 1).padStart(width, '0')}-`}${stem}.${o.format === 'png' ? 'png' : 'jpg'}`);
    writeFileSync(out, rendered.data);
    result.written.push({ name: c.name, file: out, errors: c.errors });
    progress(`[${i + 1}/${chosen.length}] ${c.errors} error${c.errors === 1 ? '' : 's'}  ${out}`);
  }
  return result;
}
