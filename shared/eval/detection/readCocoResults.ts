/** A COCO results list ([{image_id, category_id, bbox, score}]) attached to the ground truth's images by image id. */
import { DetectionInputError } from './DetectionInputError';
import type { CocoGroundTruth } from './readCocoGroundTruth';
import { readBbox } from './readCocoGroundTruth';
import type { DetectionImage, PredBox } from './types';

export interface CocoEvaluationInput {
  /** The ground truth's images (same order) with their predictions filled in. */
  images: DetectionImage[];
  /** Results whose image_id is not among the ground truth's images: not evaluated. */
  predictionsWithoutTruth: number;
  /** Ground-truth images no result names: evaluated as nothing detected. */
  truthWithoutPredictions: string[];
  warnings: string[];
}

export function readCocoResults(json: unknown, gt: CocoGroundTruth): CocoEvaluationInput {
  // Some tools write {"annotations": [...]} instead of the bare list.
  const list = Array.isArray(json) ? json : typeof json === 'object' && json !== null && Array.isArray((json as Record<string, unknown>)['annotations']) ? ((json as Record<string, unknown>)['annotations'] as unknown[]) : null;
  if (!list) throw new DetectionInputError('COCO results: expected a list of {image_id, category_id, bbox, score}');
  const images = gt.images.map((img) => ({ ...img, predictions: [] as PredBox[] }));
  const warnings: string[] = [];
  const unknownCategories = new Map<number, number>();
  let unknownImages = 0;
  let negative = 0;
  list.forEach((r, i) => {
    if (typeof r !== 'object' || r === null) throw new DetectionInputError(`COCO results: entry ${i} is not an object`);
    const res = r as Record<string, unknown>;
    const bbox = readBbox(res['bbox'], `COCO result ${i}`);
    const score = res['score'];
    if (score !== undefined && (typeof score !== 'number' || !Number.isFinite(score))) throw new DetectionInputError(`COCO result ${i}: score is not a number`);
    const index = typeof res['image_id'] === 'number' ? gt.imageIndex.get(res['image_id']) : undefined;
    if (index === undefined) {
      unknownImages++;
      return;
    }
    const categoryId = res['category_id'];
    const category = typeof categoryId === 'number' ? gt.categoryNames.get(categoryId) : undefined;
    if (category === undefined) {
      const key = typeof categoryId === 'number' ? categoryId : NaN;
      unknownCategories.set(key, (unknownCategories.get(key) ?? 0) + 1);
      return;
    }
    if (bbox[2] < 0 || bbox[3] < 0) negative++;
    const box: PredBox = { category, bbox };
    if (typeof score === 'number') box.score = score;
    (images[index] as DetectionImage).predictions.push(box);
  });
  if (unknownImages > 0) warnings.push(`${unknownImages} results name an image_id absent from the ground truth: not evaluated (pycocotools refuses the file)`);
  if (unknownCategories.size > 0) {
    const ids = [...unknownCategories.keys()].map(String).join(', ');
    const n = [...unknownCategories.values()].reduce((a, b) => a + b, 0);
    warnings.push(`${n} results have a category_id not in the ground truth's categories (${ids}): not evaluated, as pycocotools ignores them`);
  }
  if (negative > 0) warnings.push(`${negative} results have a negative width or height: they overlap nothing`);
  const truthWithoutPredictions = images.filter((i) => i.predictions.length === 0).map((i) => i.image);
  return { images, predictionsWithoutTruth: unknownImages, truthWithoutPredictions, warnings };
}
