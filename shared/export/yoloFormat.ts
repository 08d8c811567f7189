/** YOLO (Ultralytics layout): labels/<name>.txt with normalised `class cx cy w h`, data.yaml with the class names. */
import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';

import { parse as parseYaml, stringify as stringifyYaml } from 'yaml';

import type { ExportFormat, ExportSummary } from './exportFormat';
import { categoriesFor, objectsOf } from './exportItem';
import { EXPORT_MARKER, safeRelativePath, withExtension } from './prepareOut';

export interface YoloBox {
  classId: number;
  /** Centre and size as fractions of the image's width and height. */
  cx: number;
  cy: number;
  w: number;
  h: number;
}
export interface YoloExport {
  names: string[];
  /** Label file (relative to labels/, without .txt) → its boxes. */
  labels: Map<string, YoloBox[]>;
}

/** Six decimals: 0.001 px on a 1,000 px side, what Ultralytics itself writes. */
const DECIMALS = 6;

/**
 * An image with no boxes gets an empty label file: Ultralytics reads that as a background image, while a missing
 * file is reported as unlabelled. Images from local files are copied into images/ beside labels/ (the layout
 * Ultralytics pairs them by); blob and service images are not downloaded, and the summary says so.
 */
export const yoloFormat: ExportFormat = {
  name: 'yolo',
  description: 'YOLO folder: labels/<name>.txt (class cx cy w h, normalised), images/ (local files copied), data.yaml',
  layout: 'folder',
  kinds: ['objects'],
  write(items, out, ctx) {
    const names = categoriesFor(items, ctx.profile);
    const classId = new Map(names.map((c, i) => [c, i]));
    const files: string[] = [];
    const skipped: ExportSummary['skipped'] = [];
    let notCopied = 0;
    for (const item of items) {
      const { width, height } = item;
      if (width === null || height === null) {
        skipped.push({ name: item.name, reason: 'image size unknown' });
        continue;
      }
      const rel = safeRelativePath(item.name);
      const lines = objectsOf(item.result).map((o) => {
        const f = (v: number): string => v.toFixed(DECIMALS);
        return `${classId.get(o.label) ?? 0} ${f((o.box.x1 + o.box.x2) / 2 / width)} ${f((o.box.y1 + o.box.y2) / 2 / height)} ${f((o.box.x2 - o.box.x1) / width)} ${f((o.box.y2 - o.box.y1) / height)}`;
      });
      const labelFile = join('labels', withExtension(rel, '.txt'));
      mkdirSync(dirname(join(out, labelFile)), { recursive: true });
      writeFileSync(join(out, labelFile), lines.length === 0 ? '' : `${lines.join('\n')}\n`);
      files.push(labelFile);
      const src = item.record.source;
      if (src.kind === 'file' && existsSync(src.location)) {
        mkdirSync(dirname(join(out, 'images', rel)), { recursive: true });
        copyFileSync(src.location, join(out, 'images', rel));
      } else notCopied++;
    }
    const data = { path: '.', train: 'images', val: 'images', nc: names.length, names: Object.fromEntries(names.map((n, i) => [i, n])) };
    writeFileSync(join(out, 'data.yaml'), stringifyYaml(data));
    files.push('data.yaml');
    writeFileSync(join(out, EXPORT_MARKER), `${JSON.stringify({ format: 'yolo', images: files.length - 1 }, null, 2)}\n`);
    const notes = notCopied === 0 ? [] : [`${notCopied} image(s) are blobs, not local files: put them under images/ with the same names as their label files.`];
    return Promise.resolve({ files, images: files.length - 1, skipped, notes });
  },
};

export function readYoloExport(out: string): YoloExport {
  const data = parseYaml(readFileSync(join(out, 'data.yaml'), 'utf8')) as { names: Record<string, string> | string[]; nc: number };
  const names = Array.isArray(data.names) ? data.names : Object.keys(data.names).sort((a, b) => Number(a) - Number(b)).map((k) => (data.names as Record<string, string>)[k] ?? '');
  if (names.length !== data.nc) throw new Error(`data.yaml: nc ${data.nc} but ${names.length} names`);
  const labels = new Map<string, YoloBox[]>();
  const walk = (dir: string): void => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const full = join(dir, entry.name);
      if (entry.isDirectory()) walk(full);
      else if (entry.name.endsWith('.txt')) {
        const boxes = readFileSync(full, 'utf8').split('\n').filter((l) => l.trim() !== '').map((l) => {
          const [c, cx, cy, w, h] = l.trim().split(/\s+/).map(Number);
          return { classId: c ?? NaN, cx: cx ?? NaN, cy: cy ?? NaN, w: w ?? NaN, h: h ?? NaN };
        });
        labels.set(relative(join(out, 'labels'), full).replace(/\\/g, '/').replace(/\.txt$/, ''), boxes);
      }
    }
  };
  walk(join(out, 'labels'));
  return { names, labels };
}
