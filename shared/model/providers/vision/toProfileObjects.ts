/** Turns Image Analysis objects into a box profile's objects: the original's pixels, the profile's classes and thresholds. */
import type { ObjectsProfile } from '../../../profiles/profileSchema';
import type { DetectedObject } from '../../classification';
import type { CocoLabel } from '../../localDetector/cocoLabels';
import { categoryForCocoClass, COCO_LABELS } from '../../localDetector/cocoLabels';
import type { ImageSize } from '../../localDetector/scaleBox';
import { scaleBox } from '../../localDetector/scaleBox';
import type { AnalyzeResult } from './analyzeResult';

export interface ProfileObjects {
  objects: DetectedObject[];
  /** Boxes whose class the profile does not have, by Vision's tag name. */
  outsideProfile: Record<string, number>;
}

const COCO: ReadonlySet<string> = new Set(COCO_LABELS);

/**
 * Each object's tag ("a single-item list"; the most confident one if there are more) is named the way the embedded
 * detector names its COCO classes (person → pedestrian, stop sign → traffic sign, the shared COCO → BDD100K mapping);
 * a name that is already one of the profile's categories is kept as it is. A profile without a category list takes
 * the COCO-80 vocabulary the `objects` profile declares. Everything else is dropped and counted by its name.
 *
 * Like the local detector: boxes scoring below the profile's `confidenceThreshold` are dropped, at most `maxObjects`
 * are kept (highest scores first), scores are rounded to 4 decimals. Boxes come in the pixels of the image the
 * service analysed (`metadata`), which may be a resized copy; they are scaled to the upright original.
 */
export function toProfileObjects(result: AnalyzeResult, profile: Pick<ObjectsProfile, 'categories' | 'confidenceThreshold' | 'maxObjects'>, original: ImageSize): ProfileObjects {
  const wanted = profile.categories === undefined ? undefined : new Set(profile.categories);
  const outsideProfile: Record<string, number> = {};
  const candidates: DetectedObject[] = [];
  const { width: mw, height: mh } = result.metadata;
  for (const value of result.objectsResult.values) {
    const tag = [...value.tags].sort((a, b) => b.confidence - a.confidence)[0];
    if (tag === undefined) continue;
    const name = tag.name.trim().toLowerCase();
    const label = COCO.has(name) ? categoryForCocoClass(name as CocoLabel) : name;
    const inProfile = wanted === undefined ? COCO.has(name) : wanted.has(label);
    if (!inProfile) {
      outsideProfile[tag.name] = (outsideProfile[tag.name] ?? 0) + 1;
      continue;
    }
    if (tag.confidence < profile.confidenceThreshold) continue;
    const { x, y, w, h } = value.boundingBox;
    // scaleBox maps a square model input to the original; a unit square made from the analysed size does the same per axis.
    const box = scaleBox({ x1: x / mw, y1: y / mh, x2: (x + w) / mw, y2: (y + h) / mh }, 1, original);
    if (box.x2 <= box.x1 || box.y2 <= box.y1) continue;
    candidates.push({ label, detectorClass: tag.name, score: Math.round(tag.confidence * 10_000) / 10_000, box });
  }
  candidates.sort((a, b) => b.score - a.score);
  return { objects: candidates.slice(0, profile.maxObjects), outsideProfile };
}
