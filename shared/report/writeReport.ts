/** `blobsight report`: collect a run (and its evaluation), render the page, write it atomically. */
import { mkdirSync, renameSync, writeFileSync } from 'node:fs';
import path from 'node:path';

import type { CollectOptions } from './collectReport';
import { collectReport } from './collectReport';
import { reportHtml } from './reportHtml';

export interface WrittenReport {
  file: string;
  bytes: number;
  runId: string;
  evaluated: number | null;
  gallery: number;
}

export async function writeReport(ref: string, out: string | undefined, o: CollectOptions): Promise<WrittenReport> {
  const data = await collectReport(ref, o);
  const html = await reportHtml(data);
  const file = out ?? path.join(data.run.dir, 'report.html');
  mkdirSync(path.dirname(path.resolve(file)), { recursive: true });
  const tmp = `${file}.tmp-${process.pid}`;
  writeFileSync(tmp, html);
  renameSync(tmp, file);
  return { file, bytes: Buffer.byteLength(html), runId: data.run.id, evaluated: data.evaluation?.images.evaluated ?? null, gallery: data.gallery.length };
}
