/** Pascal VOC XML: one annotation file per image in a folder, built and read with fast-xml-parser. */
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';

import { XMLBuilder, XMLParser } from 'fast-xml-parser';

import type { ExportFormat, ExportSummary } from './exportFormat';
import { objectsOf } from './exportItem';
import { EXPORT_MARKER, safeRelativePath, withExtension } from './prepareOut';

export interface VocObject {
  name: string;
  /** VOC pixel indices: 1-based, inclusive. */
  bndbox: { xmin: number; ymin: number; xmax: number; ymax: number };
}
export interface VocAnnotation {
  /** The XML file, relative to the export folder. */
  file: string;
  filename: string;
  size: { width: number; height: number; depth: number };
  objects: VocObject[];
}

/**
 * Our boxes are continuous pixel edges (0..width); VOC counts pixels from 1, inclusive, so the edge x1 is pixel
 * round(x1) + 1 and the edge x2 is pixel round(x2). Integers, because common VOC readers do int(text).
 */
export function toVocBox(box: { x1: number; y1: number; x2: number; y2: number }): VocObject['bndbox'] {
  return { xmin: Math.round(box.x1) + 1, ymin: Math.round(box.y1) + 1, xmax: Math.round(box.x2), ymax: Math.round(box.y2) };
}

export const vocFormat: ExportFormat = {
  name: 'voc',
  description: 'Pascal VOC XML, one <name>.xml per image (folder structure kept), integer 1-based pixel boxes',
  layout: 'folder',
  kinds: ['objects'],
  write(items, out) {
    const builder = new XMLBuilder({ format: true, ignoreAttributes: false, suppressEmptyNode: false });
    const files: string[] = [];
    const skipped: ExportSummary['skipped'] = [];
    for (const item of items) {
      if (item.width === null || item.height === null) {
        skipped.push({ name: item.name, reason: 'image size unknown' });
        continue;
      }
      const rel = withExtension(safeRelativePath(item.name), '.xml');
      const slash = item.name.lastIndexOf('/');
      const xml = builder.build({
        annotation: {
          folder: slash < 0 ? '' : item.name.slice(0, slash),
          filename: slash < 0 ? item.name : item.name.slice(slash + 1),
          path: item.name,
          source: { database: 'blobsight' },
          size: { width: item.width, height: item.height, depth: 3 },
          segmented: 0,
          object: objectsOf(item.result).map((o) => ({ name: o.label, pose: 'Unspecified', truncated: 0, difficult: 0, bndbox: toVocBox(o.box) })),
        },
      });
      mkdirSync(dirname(join(out, rel)), { recursive: true });
      writeFileSync(join(out, rel), `<?xml version="1.0" encoding="UTF-8"?>\n${xml}`);
      files.push(rel);
    }
    writeFileSync(join(out, EXPORT_MARKER), `${JSON.stringify({ format: 'voc', images: files.length }, null, 2)}\n`);
    return Promise.resolve({ files, images: files.length, skipped, notes: [] });
  },
};

export function readVocExport(out: string): VocAnnotation[] {
  // Labels such as "123" must stay strings, and <object> is a list even when an image has one.
  const parser = new XMLParser({ parseTagValue: false, isArray: (tag) => tag === 'object' });
  const found: VocAnnotation[] = [];
  const walk = (dir: string): void => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const full = join(dir, entry.name);
      if (entry.isDirectory()) walk(full);
      else if (entry.name.endsWith('.xml')) {
        const doc = parser.parse(readFileSync(full, 'utf8')) as { annotation: { path: string; size: Record<string, string>; object?: { name: string; bndbox: Record<string, string> }[] } };
        const a = doc.annotation;
        found.push({
          file: relative(out, full).replace(/\\/g, '/'),
          filename: a.path,
          size: { width: Number(a.size['width']), height: Number(a.size['height']), depth: Number(a.size['depth']) },
          objects: (a.object ?? []).map((o) => ({
            name: o.name,
            bndbox: { xmin: Number(o.bndbox['xmin']), ymin: Number(o.bndbox['ymin']), xmax: Number(o.bndbox['xmax']), ymax: Number(o.bndbox['ymax']) },
          })),
        });
      }
    }
  };
  walk(out);
  return found.sort((a, b) => (a.filename < b.filename ? -1 : 1));
}
