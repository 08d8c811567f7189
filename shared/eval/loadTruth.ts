/**
 * Ground truth in any of the forms `blobsight evaluate --truth` takes, normalised to one TruthItem per image name:
 *
 * - `bdd100k`: a frames list (`[{name, attributes: {weather, timeofday, scene}, labels: [{category, box2d}]}]`, or
 *   `{frames: [...]}`), or a folder of per-image label files (`<id>_label.json` with `image_filename`, `metadata`
 *   and `labels`, as in the BDD100K samples; or one frame object per file).
 * - `coco`: `{images, annotations, categories}`; boxes `[x, y, w, h]`.
 * - `folders`: `<root>/<class>/<image>`; the class is the first folder under the root.
 * - `jsonl`: one `{name, label | labels | attributes | boxes}` per line.
 *
 * Names: the image's path relative to the truth root (folders), BDD100K's `name` / `image_filename`, COCO's
 * `file_name`, JSONL's `name`; always with `/` separators. Matching against predictions is in matchImages.
 */
import { existsSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';

import { UsageError } from '../cli/UsageError';
import { DetectionInputError } from './detection/DetectionInputError';
import type { CocoGroundTruth } from './detection/readCocoGroundTruth';
import { readCocoGroundTruth } from './detection/readCocoGroundTruth';
import type { EvalBox, TruthItem, TruthSet } from './evalInput';
import { isObject, readJsonFile, readJsonLinesFile } from './readJsonFile';

export type TruthFormat = TruthSet['format'];
export const IMAGE_EXTENSIONS = new Set(['.jpg', '.jpeg', '.png', '.webp', '.gif', '.bmp', '.tif', '.tiff']);

export function detectTruthFormat(truth: string): TruthFormat {
  if (!existsSync(truth)) throw new UsageError(`--truth ${truth} does not exist.`);
  if (statSync(truth).isDirectory()) {
    const entries = readdirSync(truth, { withFileTypes: true });
    if (entries.some((e) => e.isFile() && e.name.endsWith('.json'))) return 'bdd100k';
    if (entries.some((e) => e.isDirectory())) return 'folders';
    throw new UsageError(`--truth ${truth} is a folder with neither per-image .json label files (BDD100K) nor class sub-folders.`);
  }
  if (truth.endsWith('.jsonl')) return 'jsonl';
  const data = readJsonFile(truth, '--truth');
  if (Array.isArray(data) || (isObject(data) && Array.isArray(data['frames']))) return 'bdd100k';
  if (isObject(data) && Array.isArray(data['images']) && Array.isArray(data['annotations'])) return 'coco';
  throw new UsageError(`--truth ${truth}: cannot tell its format (not a BDD100K frames list, COCO {images, annotations} or .jsonl); give --format.`);
}

export function loadTruth(truth: string, format: TruthFormat): TruthSet {
  if (!existsSync(truth)) throw new UsageError(`--truth ${truth} does not exist.`);
  switch (format) {
    case 'folders':
      return loadFolders(truth);
    case 'bdd100k':
      return loadBdd100k(truth);
    case 'coco':
      return loadCoco(truth);
    case 'jsonl':
      return loadJsonl(truth);
  }
}

function loadFolders(root: string): TruthSet {
  if (!statSync(root).isDirectory()) throw new UsageError(`--truth ${root}: the folders format needs a folder of class folders.`);
  const items: TruthItem[] = [];
  const walk = (dir: string, label: string): void => {
    for (const e of readdirSync(dir, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
      const full = path.join(dir, e.name);
      if (e.isDirectory()) walk(full, label);
      else if (e.isFile() && IMAGE_EXTENSIONS.has(path.extname(e.name).toLowerCase())) items.push({ name: path.relative(root, full).split(path.sep).join('/'), label });
    }
  };
  for (const e of readdirSync(root, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
    if (e.isDirectory()) walk(path.join(root, e.name), e.name);
  }
  if (items.length === 0) throw new UsageError(`--truth ${root}: no images in class folders (${[...IMAGE_EXTENSIONS].join(' ')}).`);
  return { format: 'folders', items, warnings: [] };
}

/** One BDD100K frame (official `{name, attributes, labels}` or the samples' `{image_filename, metadata, labels}`). */
export function bddFrame(v: unknown, where: string, warnings: string[]): TruthItem | null {
  if (!isObject(v)) {
    warnings.push(`${where}: not a BDD100K frame object; skipped`);
    return null;
  }
  const name = typeof v['name'] === 'string' ? v['name'] : typeof v['image_filename'] === 'string' ? v['image_filename'] : null;
  if (name === null || name === '') {
    warnings.push(`${where}: a frame without "name" (or "image_filename"); skipped`);
    return null;
  }
  const item: TruthItem = { name };
  const attrs = isObject(v['attributes']) ? v['attributes'] : isObject(v['metadata']) ? v['metadata'] : null;
  if (attrs !== null) {
    const a: Record<string, string> = {};
    for (const k of ['weather', 'timeofday', 'scene']) if (typeof attrs[k] === 'string') a[k] = attrs[k];
    if (Object.keys(a).length > 0) item.attributes = a;
  }
  if (Array.isArray(v['labels'])) {
    const boxes: EvalBox[] = [];
    for (const [i, l] of v['labels'].entries()) {
      if (!isObject(l) || typeof l['category'] !== 'string') continue;
      const b = l['box2d'];
      // Labels without box2d (lanes, drivable areas as poly2d) are not detection labels.
      if (!isObject(b) || ![b['x1'], b['y1'], b['x2'], b['y2']].every((n) => typeof n === 'number')) continue;
      const la = isObject(l['attributes']) ? l['attributes'] : {};
      const box: EvalBox = { category: l['category'], x1: b['x1'] as number, y1: b['y1'] as number, x2: b['x2'] as number, y2: b['y2'] as number, id: typeof l['id'] === 'string' || typeof l['id'] === 'number' ? l['id'] : i };
      if (la['crowd'] === true) box.crowd = true;
      if (la['ignored'] === true) box.ignored = true;
      if (typeof l['score'] === 'number') box.score = l['score'];
      if (box.x2 < box.x1 || box.y2 < box.y1) warnings.push(`${where} ${name}: box ${String(box.id)} has x2 < x1 or y2 < y1`);
      boxes.push(box);
    }
    item.boxes = boxes;
  }
  return item;
}

function loadBdd100k(truth: string): TruthSet {
  const warnings: string[] = [];
  const items: TruthItem[] = [];
  if (statSync(truth).isDirectory()) {
    for (const f of readdirSync(truth).filter((n) => n.endsWith('.json')).sort()) {
      const file = path.join(truth, f);
      const data = readJsonFile(file, '--truth');
      const frames = Array.isArray(data) ? data : isObject(data) && Array.isArray(data['frames']) ? (data['frames'] as unknown[]) : [data];
      for (const fr of frames) {
        const item = bddFrame(fr, file, warnings);
        if (item !== null) items.push(item);
      }
    }
  } else {
    const data = readJsonFile(truth, '--truth');
    const frames = Array.isArray(data) ? data : isObject(data) && Array.isArray(data['frames']) ? (data['frames'] as unknown[]) : null;
    if (frames === null) throw new UsageError(`--truth ${truth} is not a BDD100K frames list.`);
    frames.forEach((fr, i) => {
      const item = bddFrame(fr, `${truth} frame ${i}`, warnings);
      if (item !== null) items.push(item);
    });
  }
  const categories = [...new Set(items.flatMap((i) => (i.boxes ?? []).map((b) => b.category)))].sort();
  return { format: 'bdd100k', items, warnings, categories };
}

/** COCO ground truth through the detection evaluator's reader, so its warnings (annotation id 0, missing area or iscrowd, 0-based category ids, negative boxes, unknown categories) are the ones printed. */
function loadCoco(truth: string): TruthSet {
  const data = readJsonFile(truth, '--truth');
  let gt: CocoGroundTruth;
  try {
    gt = readCocoGroundTruth(data);
  } catch (e) {
    if (e instanceof DetectionInputError) throw new UsageError(`--truth ${truth}: ${e.message}`);
    throw e;
  }
  const items: TruthItem[] = gt.images.map((im) => {
    const item: TruthItem = {
      name: im.image,
      boxes: im.truth.map((t) => {
        const [x, y, w, h] = t.bbox;
        const box: EvalBox = { category: t.category, x1: x, y1: y, x2: x + w, y2: y + h, bbox: [x, y, w, h], crowd: t.iscrowd === true };
        if (t.area !== undefined) box.area = t.area;
        if (t.id !== undefined) box.id = t.id;
        return box;
      }),
    };
    if (im.id !== undefined) item.id = im.id;
    if (im.width !== undefined) item.width = im.width;
    if (im.height !== undefined) item.height = im.height;
    return item;
  });
  return { format: 'coco', items, warnings: gt.warnings.map((w) => `${truth}: ${w}`), coco: gt, categories: [...gt.categoryNames.values()] };
}

function loadJsonl(truth: string): TruthSet {
  const warnings: string[] = [];
  const items: TruthItem[] = [];
  for (const { value, line } of readJsonLinesFile(truth, '--truth', warnings)) {
    const item = jsonlItem(value);
    if (typeof item === 'string') warnings.push(`${truth} line ${line} skipped: ${item}`);
    else items.push(item);
  }
  return { format: 'jsonl', items, warnings };
}

/** `{name, label | labels | attributes | boxes}`; a string is the reason the line is not usable. */
export function jsonlItem(v: unknown): TruthItem | string {
  if (!isObject(v) || typeof v['name'] !== 'string' || v['name'] === '') return 'no "name"';
  const item: TruthItem = { name: v['name'] };
  if (typeof v['label'] === 'string') item.label = v['label'];
  if (Array.isArray(v['labels'])) item.labels = v['labels'].filter((l): l is string => typeof l === 'string');
  if (isObject(v['attributes'])) item.attributes = Object.fromEntries(Object.entries(v['attributes']).filter((e): e is [string, string] => typeof e[1] === 'string'));
  if (Array.isArray(v['boxes'])) {
    item.boxes = [];
    for (const b of v['boxes'] as unknown[]) {
      const box: unknown = isObject(b) && isObject(b['box2d']) ? { ...b, ...b['box2d'] } : b;
      if (!isObject(box) || typeof box['category'] !== 'string' || ![box['x1'], box['y1'], box['x2'], box['y2']].every((n) => typeof n === 'number')) return 'a box without {category, x1, y1, x2, y2}';
      item.boxes.push({ category: box['category'], x1: box['x1'] as number, y1: box['y1'] as number, x2: box['x2'] as number, y2: box['y2'] as number, ...(typeof box['score'] === 'number' ? { score: box['score'] } : {}), ...(box['crowd'] === true ? { crowd: true } : {}) });
    }
  }
  if (item.label === undefined && item.labels === undefined && item.attributes === undefined && item.boxes === undefined) return 'none of label, labels, attributes, boxes';
  return item;
}
