/** What every export format writes for one image: the reviewed answer when a person gave one, else the model's. */
import type { ClassificationResult, DetectedObject } from '../model/classification';
import { flattenLabels } from '../pipeline/decideStatus';
import type { Profile } from '../profiles/profileSchema';
import type { PredictionRecord } from '../runs/predictionRecord';

export interface ExportItem {
  name: string;
  record: PredictionRecord;
  /** Upright original size; null when the record does not have it (box formats then refuse the image). */
  width: number | null;
  height: number | null;
  /** `record.review.result` when present (a person's correction always wins), else `record.result`. */
  result: ClassificationResult;
  reviewed: boolean;
}

/** Records with an answer to export, in name order so exports are stable from run to run; the rest are counted out. */
export function toExportItems(records: readonly PredictionRecord[]): { items: ExportItem[]; skipped: number } {
  const items: ExportItem[] = [];
  let skipped = 0;
  for (const record of records) {
    const result = record.review?.result ?? record.result;
    if (result === null || result === undefined) {
      skipped++;
      continue;
    }
    items.push({ name: record.name, record, width: record.image?.width ?? null, height: record.image?.height ?? null, result, reviewed: record.review !== null && record.review !== undefined });
  }
  items.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  return { items, skipped };
}

export function objectsOf(result: ClassificationResult): DetectedObject[] {
  return result.kind === 'objects' ? result.objects : [];
}

/** Attribute field → label (attributes profiles, and detection profiles that also ask for attributes). */
export function attributesOf(result: ClassificationResult): Record<string, string> {
  const attrs = result.kind === 'attributes' ? result.attributes : result.kind === 'objects' ? (result.attributes ?? {}) : {};
  return Object.fromEntries(Object.entries(attrs).map(([k, d]) => [k, d.label]));
}

export function labelsOf(result: ClassificationResult): string[] {
  return flattenLabels(result);
}

/**
 * Box categories in a stable order: the profile's list when it has one (so class ids do not change between
 * exports of different runs), then any other category seen, sorted.
 */
export function categoriesFor(items: readonly ExportItem[], profile: Profile | undefined): string[] {
  const listed = profile?.kind === 'objects' ? (profile.categories ?? []) : [];
  const seen = new Set(items.flatMap((i) => objectsOf(i.result).map((o) => o.label)));
  return [...listed, ...[...seen].filter((c) => !listed.includes(c)).sort()];
}
