/**
 * BDD100K (Scalabel) frames to DetectionImages as BDD100K's official detection evaluation converts them
 * (scalabel.label.to_coco.scalabel2coco_detection): box2d {x1, y1, x2, y2} → COCO [x1, y1, x2 − x1 + 1, y2 − y1 + 1]
 * with area = width × height, labels whose attributes.crowd or attributes.ignored is true become crowd regions, and
 * only the 10 detection classes are kept. The COCO evaluator then runs unchanged.
 */
import { DetectionInputError } from './DetectionInputError';
import type { Bbox, DetectionImage, PredBox, TruthBox } from './types';

export const BDD100K_DETECTION_CLASSES: readonly string[] = [
  'pedestrian',
  'rider',
  'car',
  'truck',
  'bus',
  'train',
  'motorcycle',
  'bicycle',
  'traffic light',
  'traffic sign',
];

export interface Bdd100kBox2d {
  x1: number;
  y1: number;
  x2: number;
  y2: number;
}

export interface Bdd100kLabel {
  category: string;
  box2d?: Bdd100kBox2d;
  attributes?: Readonly<Record<string, unknown>>;
  score?: number;
}

/** A frame as in a BDD100K frames list; the per-image files' `image_filename` and `metadata` are read into `name` and `attributes`. */
export interface Bdd100kFrame {
  name: string;
  attributes?: Readonly<Record<string, string>>;
  labels: Bdd100kLabel[];
}

export interface Bdd100kEvaluationInput {
  /** One image per truth frame, in name order (the order BDD100K's evaluation numbers them). */
  images: DetectionImage[];
  /** Prediction frames whose name is not among the truth frames: not evaluated. */
  predictionsWithoutTruth: string[];
  /** Truth frames without a prediction frame of the same name: evaluated as "nothing detected" (their boxes are misses). */
  truthWithoutPredictions: string[];
  warnings: string[];
}

type Json = Record<string, unknown>;

function isObject(v: unknown): v is Json {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function readFrame(v: unknown, where: string): Bdd100kFrame {
  if (!isObject(v)) throw new DetectionInputError(`${where}: a BDD100K frame is not an object`);
  const name = typeof v['name'] === 'string' ? v['name'] : v['image_filename'];
  if (typeof name !== 'string' || name === '') throw new DetectionInputError(`${where}: a BDD100K frame has no "name" (or "image_filename")`);
  const labels = v['labels'] ?? [];
  if (!Array.isArray(labels)) throw new DetectionInputError(`${name}: "labels" is not a list`);
  const rawAttributes = isObject(v['attributes']) ? v['attributes'] : isObject(v['metadata']) ? v['metadata'] : undefined;
  const frame: Bdd100kFrame = {
    name,
    labels: labels.map((l, i) => {
      if (!isObject(l) || typeof l['category'] !== 'string') throw new DetectionInputError(`${name}: label ${i} has no category`);
      const label: Bdd100kLabel = { category: l['category'] };
      const box = l['box2d'];
      if (box !== undefined && box !== null) {
        if (!isObject(box) || !['x1', 'y1', 'x2', 'y2'].every((k) => typeof box[k] === 'number' && Number.isFinite(box[k]))) {
          throw new DetectionInputError(`${name}: label ${i} has a box2d without numeric x1, y1, x2, y2`);
        }
        label.box2d = { x1: box['x1'] as number, y1: box['y1'] as number, x2: box['x2'] as number, y2: box['y2'] as number };
      }
      if (isObject(l['attributes'])) label.attributes = l['attributes'];
      const score = l['score'];
      if (score !== undefined && score !== null) {
        if (typeof score !== 'number' || !Number.isFinite(score)) throw new DetectionInputError(`${name}: label ${i} has a score that is not a number`);
        label.score = score;
      }
      return label;
    }),
  };
  if (rawAttributes) {
    frame.attributes = Object.fromEntries(Object.entries(rawAttributes).filter((e): e is [string, string] => typeof e[1] === 'string'));
  }
  return frame;
}

/** Frames from parsed JSON: a frames list, a Scalabel dataset {frames: [...]}, or one per-image label file. */
export function readBdd100kFrames(json: unknown, where = 'BDD100K labels'): Bdd100kFrame[] {
  if (Array.isArray(json)) return json.map((f, i) => readFrame(f, `${where}[${i}]`));
  if (isObject(json) && Array.isArray(json['frames'])) return json['frames'].map((f, i) => readFrame(f, `${where}.frames[${i}]`));
  if (isObject(json)) return [readFrame(json, where)];
  throw new DetectionInputError(`${where}: expected a frames list, {frames: [...]}, or one frame`);
}

/** Scalabel's check_crowd / check_ignored: the attribute is present and true. */
function isCrowd(label: Bdd100kLabel): boolean {
  return label.attributes?.['crowd'] === true || label.attributes?.['ignored'] === true;
}

/** BDD100K's box2d_to_bbox: pixel-inclusive corners, hence the + 1. */
export function bdd100kBox(box: Bdd100kBox2d): Bbox {
  return [box.x1, box.y1, box.x2 - box.x1 + 1, box.y2 - box.y1 + 1];
}

interface Tally {
  noBox: number;
  negative: number;
  dropped: Map<string, number>;
}

function keep(label: Bdd100kLabel, tally: Tally): Bbox | null {
  if (!label.box2d) {
    tally.noBox++;
    return null;
  }
  if (!BDD100K_DETECTION_CLASSES.includes(label.category)) {
    tally.dropped.set(label.category, (tally.dropped.get(label.category) ?? 0) + 1);
    return null;
  }
  if (label.box2d.x2 < label.box2d.x1 || label.box2d.y2 < label.box2d.y1) tally.negative++;
  return bdd100kBox(label.box2d);
}

function warnAbout(kind: string, tally: Tally, warnings: string[]): void {
  if (tally.dropped.size > 0) {
    const list = [...tally.dropped].sort((a, b) => b[1] - a[1]).map(([c, n]) => `${c} ${n}`).join(', ');
    const n = [...tally.dropped.values()].reduce((a, b) => a + b, 0);
    warnings.push(`${n} ${kind} boxes outside BDD100K's 10 detection classes are not evaluated (${list})`);
  }
  if (tally.noBox > 0) warnings.push(`${tally.noBox} ${kind} labels have no box2d (lanes, areas, tags): not detection labels`);
  if (tally.negative > 0) warnings.push(`${tally.negative} ${kind} boxes have x2 < x1 or y2 < y1`);
}

export function bdd100kToDetectionImages(truth: readonly Bdd100kFrame[], predictions: readonly Bdd100kFrame[] = []): Bdd100kEvaluationInput {
  const warnings: string[] = [];
  const truthTally: Tally = { noBox: 0, negative: 0, dropped: new Map() };
  const predTally: Tally = { noBox: 0, negative: 0, dropped: new Map() };
  const byName = new Map<string, DetectionImage>();
  const images = [...truth]
    .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
    .map((frame) => {
      const boxes: TruthBox[] = [];
      for (const label of frame.labels) {
        const bbox = keep(label, truthTally);
        if (!bbox) continue;
        boxes.push({ category: label.category, bbox, area: bbox[2] * bbox[3], iscrowd: isCrowd(label) });
      }
      const image: DetectionImage = { image: frame.name, truth: boxes, predictions: [] };
      if (frame.attributes) image.attributes = frame.attributes;
      if (!byName.has(frame.name)) byName.set(frame.name, image);
      return image;
    });
  const predictionsWithoutTruth: string[] = [];
  const predicted = new Set<string>();
  for (const frame of predictions) {
    const image = byName.get(frame.name);
    if (!image) {
      predictionsWithoutTruth.push(frame.name);
      continue;
    }
    predicted.add(frame.name);
    for (const label of frame.labels) {
      const bbox = keep(label, predTally);
      if (!bbox) continue;
      const box: PredBox = { category: label.category, bbox };
      if (label.score !== undefined) box.score = label.score;
      image.predictions.push(box);
    }
  }
  warnAbout('truth', truthTally, warnings);
  warnAbout('predicted', predTally, warnings);
  if (predictionsWithoutTruth.length > 0) warnings.push(`${predictionsWithoutTruth.length} prediction frames have no truth frame of the same name: not evaluated`);
  const truthWithoutPredictions = images.map((i) => i.image).filter((name) => !predicted.has(name));
  if (truthWithoutPredictions.length > 0) {
    // BDD100K's own script numbers prediction frames apart from truth frames, so a missing frame shifts every later one.
    warnings.push(
      `${truthWithoutPredictions.length} truth frames have no prediction frame: evaluated here as nothing detected; BDD100K's own script would misalign every later frame, so give it an empty frame for each`,
    );
  }
  return { images, predictionsWithoutTruth, truthWithoutPredictions, warnings };
}
