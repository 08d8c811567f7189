/** COCO detection JSON: images, annotations and categories, every id from 1, every field COCO tools read present. */
import { readFileSync, writeFileSync } from 'node:fs';

import type { ExportFormat, ExportSummary } from './exportFormat';
import { attributesOf, categoriesFor, objectsOf } from './exportItem';

export interface CocoImage {
  id: number;
  file_name: string;
  width: number;
  height: number;
  /** Not COCO's own: whole-image attributes (driving-objects), ignored by COCO tools. */
  attributes?: Record<string, string>;
}
export interface CocoAnnotation {
  id: number;
  image_id: number;
  category_id: number;
  /** [x, y, width, height] in pixels from the top-left corner. */
  bbox: [number, number, number, number];
  area: number;
  iscrowd: 0;
  /** The detector's score (1 for a person's box); COCO results files carry it, ground-truth readers ignore it. */
  score: number;
}
export interface CocoCategory {
  id: number;
  name: string;
  supercategory: string;
}
export interface CocoDataset {
  info: { description: string; version: string; date_created: string };
  images: CocoImage[];
  annotations: CocoAnnotation[];
  categories: CocoCategory[];
}

/**
 * Ids start at 1: pycocotools and most trainers treat category 0 as background and image id 0 as falsy, the bug
 * behind "my first image has no labels" reports against other exporters. `area` and `iscrowd` are always written
 * (COCOeval reads both; a missing `area` raises in its area-range filter). An image without a known size cannot be
 * a COCO image and is left out, said in the summary.
 */
export const cocoFormat: ExportFormat = {
  name: 'coco',
  description: 'COCO detection JSON: images, annotations (bbox [x,y,w,h], area, iscrowd), categories; ids from 1',
  layout: 'file',
  kinds: ['objects'],
  write(items, out, ctx) {
    const categories = categoriesFor(items, ctx.profile);
    const categoryId = new Map(categories.map((c, i) => [c, i + 1]));
    const dataset: CocoDataset = {
      info: { description: `blobsight export${ctx.profile === undefined ? '' : ` (profile ${ctx.profile.name}@${ctx.profile.version})`}`, version: '1.0', date_created: new Date().toISOString() },
      images: [],
      annotations: [],
      categories: categories.map((name, i) => ({ id: i + 1, name, supercategory: 'object' })),
    };
    const skipped: ExportSummary['skipped'] = [];
    for (const item of items) {
      if (item.width === null || item.height === null) {
        skipped.push({ name: item.name, reason: 'image size unknown' });
        continue;
      }
      const imageId = dataset.images.length + 1;
      const attributes = attributesOf(item.result);
      dataset.images.push({ id: imageId, file_name: item.name, width: item.width, height: item.height, ...(Object.keys(attributes).length > 0 ? { attributes } : {}) });
      for (const o of objectsOf(item.result)) {
        const w = round(o.box.x2 - o.box.x1);
        const h = round(o.box.y2 - o.box.y1);
        dataset.annotations.push({
          id: dataset.annotations.length + 1,
          image_id: imageId,
          category_id: categoryId.get(o.label) ?? 0,
          bbox: [o.box.x1, o.box.y1, w, h],
          area: round(w * h),
          iscrowd: 0,
          score: item.reviewed ? 1 : o.score,
        });
      }
    }
    writeFileSync(out, `${JSON.stringify(dataset)}\n`);
    return Promise.resolve({ files: [out], images: dataset.images.length, skipped, notes: [] });
  },
};

export function readCocoExport(out: string): CocoDataset {
  return JSON.parse(readFileSync(out, 'utf8')) as CocoDataset;
}

function round(v: number): number {
  return Math.round(v * 100) / 100;
}
