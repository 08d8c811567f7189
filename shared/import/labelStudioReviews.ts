/** Reads a Label Studio export (JSON tasks with a person's annotations) into reviews of the profile's kind. */
import { LS_LABEL } from '../export/labelStudioFormat';
import type { ClassificationResult, Decision, DetectedObject } from '../model/classification';
import { flattenLabels } from '../pipeline/decideStatus';
import type { Profile } from '../profiles/profileSchema';
import type { ImageReview } from '../store/imageDocument';

export interface ImportedReview {
  name: string;
  documentId: string | undefined;
  review: ImageReview;
}

export interface TaskProblem {
  /** Index in the export's task list (0-based) and the image name when the task has one. */
  task: number;
  name: string | null;
  reason: string;
}

interface LsResult {
  type?: unknown;
  from_name?: unknown;
  original_width?: unknown;
  original_height?: unknown;
  value?: { x?: unknown; y?: unknown; width?: unknown; height?: unknown; rotation?: unknown; rectanglelabels?: unknown; choices?: unknown };
}
interface LsAnnotation {
  result?: unknown;
  was_cancelled?: unknown;
  completed_by?: unknown;
  updated_at?: unknown;
  created_at?: unknown;
}

/**
 * Per task: the latest annotation that was not cancelled (a person's submitted work), turned into a result of the
 * profile's kind and checked against its labels. A task with no annotation is not a review and is skipped quietly
 * (counted); one whose annotation cannot be used (unknown label, rotated box, missing size) is reported and skipped,
 * never stored half-right. `lookup` gives the profile and the image size for a task's name, or says why not.
 */
export function labelStudioReviews(
  exported: unknown,
  lookup: (name: string, documentId: string | undefined) => { profile: Profile; width: number | null; height: number | null } | string,
): { reviews: ImportedReview[]; problems: TaskProblem[]; unannotated: number } {
  if (!Array.isArray(exported)) throw new TypeError('A Label Studio JSON export is a list of tasks; this file is not a list.');
  const reviews: ImportedReview[] = [];
  const problems: TaskProblem[] = [];
  let unannotated = 0;
  exported.forEach((task: unknown, i) => {
    const t = task as { data?: { name?: unknown; documentId?: unknown }; annotations?: unknown } | null;
    const name = typeof t?.data?.name === 'string' ? t.data.name : null;
    const problem = (reason: string): void => void problems.push({ task: i, name, reason });
    if (name === null) return problem('the task has no data.name (export it from blobsight, which sets it)');
    const annotations = (Array.isArray(t?.annotations) ? (t.annotations as LsAnnotation[]) : []).filter((a) => a.was_cancelled !== true && Array.isArray(a.result));
    const when = (a: LsAnnotation): string => (typeof a.updated_at === 'string' ? a.updated_at : typeof a.created_at === 'string' ? a.created_at : '');
    const latest = annotations.sort((a, b) => when(a).localeCompare(when(b))).at(-1);
    if (latest === undefined) {
      unannotated++;
      return;
    }
    const documentId = typeof t?.data?.documentId === 'string' ? t.data.documentId : undefined;
    const found = lookup(name, documentId);
    if (typeof found === 'string') return problem(found);
    const converted = toResult(found.profile, latest.result as LsResult[], found.width, found.height);
    if (typeof converted === 'string') return problem(converted);
    const reviewedAt = typeof latest.updated_at === 'string' && !Number.isNaN(Date.parse(latest.updated_at)) ? new Date(latest.updated_at).toISOString() : new Date().toISOString();
    reviews.push({ name, documentId, review: { result: converted, labels: flattenLabels(converted), reviewer: reviewerOf(latest.completed_by), note: 'imported from Label Studio', reviewedAt } });
  });
  return { reviews, problems, unannotated };
}

function reviewerOf(completedBy: unknown): string | null {
  if (typeof completedBy === 'string' && completedBy !== '') return completedBy;
  if (typeof completedBy === 'number') return `label-studio user ${completedBy}`;
  const email = (completedBy as { email?: unknown } | null)?.email;
  return typeof email === 'string' ? email : null;
}

function choicesOf(results: readonly LsResult[], from: string): string[] | undefined {
  const r = results.find((x) => x.type === 'choices' && x.from_name === from);
  const c = r?.value?.choices;
  return Array.isArray(c) && c.every((v) => typeof v === 'string') ? (c) : undefined;
}

function toResult(profile: Profile, results: readonly LsResult[], width: number | null, height: number | null): ClassificationResult | string {
  const known = (values: readonly { name: string }[], v: string, where: string): string | null => (values.some((l) => l.name === v) ? null : `"${v}" is not a label of ${where}`);
  const person: Decision['confidence'] = 1;
  const attributes = (fields: readonly { name: string; labels: readonly { name: string }[] }[]): Record<string, Decision> | string => {
    const out: Record<string, Decision> = {};
    for (const f of fields) {
      const c = choicesOf(results, f.name);
      if (c === undefined || c.length !== 1) return `attribute ${f.name} needs exactly one choice`;
      const bad = known(f.labels, c[0] as string, `attribute ${f.name}`);
      if (bad !== null) return bad;
      out[f.name] = { label: c[0] as string, confidence: person };
    }
    return out;
  };
  switch (profile.kind) {
    case 'single-label': {
      const c = choicesOf(results, LS_LABEL);
      if (c === undefined || c.length !== 1) return 'a single-label task needs exactly one choice under "label"';
      const bad = known(profile.labels, c[0] as string, `profile ${profile.name}`);
      return bad ?? { kind: 'single-label', label: c[0] as string, confidence: person };
    }
    case 'multi-label': {
      const c = choicesOf(results, LS_LABEL) ?? [];
      const bad = c.map((v) => known(profile.labels, v, `profile ${profile.name}`)).find((b) => b !== null);
      return bad ?? { kind: 'multi-label', labels: [...new Set(c)].map((label) => ({ label, confidence: person })) };
    }
    case 'attributes': {
      const a = attributes(profile.attributes);
      return typeof a === 'string' ? a : { kind: 'attributes', attributes: a };
    }
    case 'objects': {
      const objects: DetectedObject[] = [];
      for (const r of results.filter((x) => x.type === 'rectanglelabels')) {
        const v = r.value ?? {};
        const w = typeof r.original_width === 'number' ? r.original_width : width;
        const h = typeof r.original_height === 'number' ? r.original_height : height;
        if (w === null || h === null) return 'a box without the image size (original_width/height)';
        const [x, y, bw, bh] = [v.x, v.y, v.width, v.height];
        if (typeof x !== 'number' || typeof y !== 'number' || typeof bw !== 'number' || typeof bh !== 'number') return 'a box without x, y, width, height';
        if (typeof v.rotation === 'number' && Math.abs(v.rotation) > 0.01) return 'a rotated box (rotation must be 0: the formats here hold upright boxes)';
        const labels = Array.isArray(v.rectanglelabels) ? (v.rectanglelabels as unknown[]) : [];
        if (labels.length !== 1 || typeof labels[0] !== 'string') return 'a box needs exactly one label';
        if (profile.categories !== undefined) {
          const bad = known(profile.categories.map((name) => ({ name })), labels[0], `profile ${profile.name}`);
          if (bad !== null) return bad;
        }
        const px = (p: number, size: number): number => Math.round(Math.min(Math.max((p / 100) * size, 0), size) * 10) / 10;
        objects.push({ label: labels[0], detectorClass: labels[0], score: 1, box: { x1: px(x, w), y1: px(y, h), x2: px(x + bw, w), y2: px(y + bh, h) } });
      }
      if (profile.attributes === undefined) return { kind: 'objects', objects };
      const a = attributes(profile.attributes);
      return typeof a === 'string' ? a : { kind: 'objects', objects, attributes: a };
    }
  }
}
