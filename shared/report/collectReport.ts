/**
 * Everything `blobsight report` draws, gathered from one run folder: its config, summary and latest record per image;
 * with `--truth`, the evaluator's EvaluationResult (shared/eval evaluate(), nothing recomputed here) and the worst
 * images drawn by the visualize code, downscaled and embedded as JPEG data URIs.
 */
import { readFileSync } from 'node:fs';

import { evaluateDetection } from '../eval/detection';
import { evaluate } from '../eval/evaluate';
import type { TruthFormat } from '../eval/loadTruth';
import type { EvaluationResult } from '../eval/types';
import type { Profile } from '../profiles/profileSchema';
import type { PredictionRecord } from '../runs/predictionRecord';
import type { RunConfig } from '../runs/runConfig';
import { RunFolder } from '../runs/RunFolder';
import type { RunSummary } from '../runs/runSummary';
import type { ImageComparison } from '../visualize/compareImage';
import { locateImage } from '../visualize/locateImage';
import { pickWorst } from '../visualize/pickWorst';
import { renderOverlay } from '../visualize/renderOverlay';
import { compareRun } from '../visualize/runVisualize';

export interface GalleryItem {
  comparison: ImageComparison;
  /** data:image/jpeg;base64,… or null when the image file could not be found or decoded. */
  dataUri: string | null;
  problem: string | null;
}

export interface ReportData {
  run: { id: string; dir: string; config: RunConfig; summary: RunSummary | null };
  /** The latest record per image name (a resumed run's later line wins; a failure relabelled later is gone). */
  records: PredictionRecord[];
  corruptLines: number;
  truth: string | null;
  evaluation: EvaluationResult | null;
  gallery: GalleryItem[];
  generatedAt: string;
}

export interface CollectOptions {
  runsDir: string;
  truth?: string;
  truthFormat?: TruthFormat;
  /** The profile the run answered, for its label set (default: none; labels from the data). */
  profile?: Profile | null;
  /** Gallery size (the worst images); default 12. */
  worst?: number;
  /** Width of the gallery's pictures; default 560 px. */
  thumbWidth?: number;
  images?: string;
  now?: Date;
}

export async function collectReport(ref: string, o: CollectOptions): Promise<ReportData> {
  const run = RunFolder.open(o.runsDir, ref);
  const config = run.readConfig();
  const contents = run.readContents();
  const byName = new Map<string, PredictionRecord>();
  for (const r of contents.failures) byName.set(r.name, r);
  for (const r of contents.predictions) byName.set(r.name, r);
  const records = [...byName.values()].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  const data: ReportData = {
    run: { id: run.id, dir: run.dir, config, summary: run.readSummary() ?? null },
    records,
    corruptLines: contents.corrupt.length,
    truth: o.truth ?? null,
    evaluation: null,
    gallery: [],
    generatedAt: (o.now ?? new Date()).toISOString(),
  };
  if (o.truth === undefined) return data;

  // The detection evaluator named explicitly: the same one `blobsight evaluate` uses once its branches are merged.
  data.evaluation = evaluate({ pred: run.dir, truth: o.truth, detect: evaluateDetection, ...(o.truthFormat === undefined ? {} : { format: o.truthFormat }), ...(o.profile === undefined ? {} : { profile: o.profile }) });
  const { comparisons, truthRoot } = compareRun(run.dir, o.truth, o.truthFormat);
  for (const c of pickWorst(comparisons, o.worst ?? 12)) {
    const file = locateImage(c.name, c.location, { ...(o.images === undefined ? {} : { images: o.images }), ...(truthRoot === undefined ? {} : { truthRoot }) });
    if (file === undefined) {
      data.gallery.push({ comparison: c, dataUri: null, problem: `image file not found (recorded at ${c.location ?? 'nowhere'})` });
      continue;
    }
    try {
      const pic = await renderOverlay(readFileSync(file), c, { format: 'jpeg', width: o.thumbWidth ?? 560, quality: 78 });
      data.gallery.push({ comparison: c, dataUri: `data:image/jpeg;base64,${pic.data.toString('base64')}`, problem: null });
    } catch (e) {
      data.gallery.push({ comparison: c, dataUri: null, problem: `${file} could not be drawn: ${e instanceof Error ? e.message : String(e)}` });
    }
  }
  return data;
}
