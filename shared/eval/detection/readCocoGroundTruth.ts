/** COCO instances JSON (ground truth) to DetectionImages, with warnings for what trips other evaluators. */
import { DetectionInputError } from './DetectionInputError';
import type { Bbox, DetectionImage, TruthBox } from './types';

export interface CocoGroundTruth {
  /** Every image of the file, in image-id order, including images without annotations. */
  images: DetectionImage[];
  /** Category id → name, from `categories`. */
  categoryNames: ReadonlyMap<number, string>;
  /** Image id → index in `images`. */
  imageIndex: ReadonlyMap<number, number>;
  warnings: string[];
}

type Json = Record<string, unknown>;

function isObject(v: unknown): v is Json {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function listOf(json: Json, key: string, what: string): Json[] {
  const v = json[key];
  if (v === undefined) return [];
  if (!Array.isArray(v) || !v.every(isObject)) throw new DetectionInputError(`${what}: "${key}" is not a list of objects`);
  return v;
}

export function readBbox(v: unknown, where: string): Bbox {
  if (!Array.isArray(v) || v.length !== 4 || !v.every((n) => typeof n === 'number' && Number.isFinite(n))) {
    throw new DetectionInputError(`${where}: bbox is not [x, y, width, height] of four numbers: ${JSON.stringify(v)}`);
  }
  return v as Bbox;
}

export function readCocoGroundTruth(json: unknown): CocoGroundTruth {
  if (!isObject(json) || !Array.isArray(json['images']) || !Array.isArray(json['annotations'])) {
    throw new DetectionInputError('COCO ground truth: expected an object with "images", "annotations" and "categories"');
  }
  const warnings: string[] = [];
  const categoryNames = new Map<number, string>();
  for (const c of listOf(json, 'categories', 'COCO ground truth')) {
    const id = c['id'];
    const name = c['name'];
    if (typeof id !== 'number' || typeof name !== 'string') throw new DetectionInputError(`COCO ground truth: category ${JSON.stringify(c)} lacks a numeric id or a name`);
    categoryNames.set(id, name);
  }
  if (categoryNames.has(0)) {
    warnings.push('category ids start at 0: evaluators and trainers that reserve 0 for the background (e.g. torchvision, Detectron2 conversions) drop or shift that class');
  }

  const rawImages = listOf(json, 'images', 'COCO ground truth')
    .map((img) => {
      const id = img['id'];
      if (typeof id !== 'number') throw new DetectionInputError(`COCO ground truth: image ${JSON.stringify(img)} has no numeric id`);
      const name = typeof img['file_name'] === 'string' ? img['file_name'] : String(id);
      const image: DetectionImage = { image: name, id, truth: [], predictions: [] };
      if (typeof img['width'] === 'number') image.width = img['width'];
      if (typeof img['height'] === 'number') image.height = img['height'];
      return image;
    })
    // pycocotools evaluates images in sorted id order; ties in score across images break by it.
    .sort((a, b) => (a.id as number) - (b.id as number));
  const imageIndex = new Map<number, number>();
  rawImages.forEach((img, i) => imageIndex.set(img.id as number, i));

  const tally = { id0: 0, noArea: 0, noCrowd: 0, negative: 0, unknownCategory: 0, unknownImage: 0 };
  for (const ann of listOf(json, 'annotations', 'COCO ground truth')) {
    const where = `COCO annotation ${String(ann['id'])}`;
    const bbox = readBbox(ann['bbox'], where);
    const index = typeof ann['image_id'] === 'number' ? imageIndex.get(ann['image_id']) : undefined;
    const category = typeof ann['category_id'] === 'number' ? categoryNames.get(ann['category_id']) : undefined;
    if (index === undefined) {
      tally.unknownImage++;
      continue;
    }
    if (category === undefined) {
      tally.unknownCategory++;
      continue;
    }
    if (ann['id'] === 0) tally.id0++;
    if (bbox[2] < 0 || bbox[3] < 0) tally.negative++;
    const box: TruthBox = { category, bbox };
    if (typeof ann['id'] === 'number') box.id = ann['id'];
    if (typeof ann['area'] === 'number') box.area = ann['area'];
    else tally.noArea++;
    if (ann['iscrowd'] === undefined) tally.noCrowd++;
    box.iscrowd = ann['iscrowd'] === 1 || ann['iscrowd'] === true;
    (rawImages[index] as DetectionImage).truth.push(box);
  }
  if (tally.id0 > 0) warnings.push(`${tally.id0} annotations have id 0: pycocotools records matches by annotation id, so a detection matched to id 0 counts there as a false positive`);
  if (tally.noArea > 0) warnings.push(`${tally.noArea} annotations have no "area": taken as width × height here; pycocotools fails on them`);
  if (tally.noCrowd > 0) warnings.push(`${tally.noCrowd} annotations have no "iscrowd": taken as 0 here; pycocotools fails on them`);
  if (tally.negative > 0) warnings.push(`${tally.negative} annotations have a negative width or height (x2 < x1 or y2 < y1): they can never be matched`);
  if (tally.unknownCategory > 0) warnings.push(`${tally.unknownCategory} annotations have a category_id not in "categories": not evaluated`);
  if (tally.unknownImage > 0) warnings.push(`${tally.unknownImage} annotations have an image_id not in "images": not evaluated`);
  return { images: rawImages, categoryNames, imageIndex, warnings };
}
