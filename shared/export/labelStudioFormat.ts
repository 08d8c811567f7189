/** Label Studio tasks with the answers as pre-annotations (predictions): boxes as rectanglelabels in percent, labels as choices. */
import { readFileSync, writeFileSync } from 'node:fs';

import type { ClassificationResult } from '../model/classification';
import type { Profile } from '../profiles/profileSchema';
import type { ExportFormat } from './exportFormat';
import type { ExportItem } from './exportItem';
import { attributesOf, objectsOf } from './exportItem';

/** The control names in the labeling config below: boxes and single/multi labels under `label`, attributes by their own name. */
export const LS_IMAGE = 'image';
export const LS_LABEL = 'label';

export interface LabelStudioRectangle {
  id: string;
  type: 'rectanglelabels';
  from_name: string;
  to_name: string;
  original_width: number;
  original_height: number;
  image_rotation: number;
  /** Percent of the image's width / height, from the top-left corner. */
  value: { x: number; y: number; width: number; height: number; rotation: number; rectanglelabels: string[] };
  score?: number;
}
export interface LabelStudioChoices {
  id: string;
  type: 'choices';
  from_name: string;
  to_name: string;
  value: { choices: string[] };
}
export type LabelStudioResult = LabelStudioRectangle | LabelStudioChoices;

export interface LabelStudioTask {
  data: { image: string; name: string; documentId?: string; profile: string };
  predictions: { model_version: string; score: number | null; result: LabelStudioResult[] }[];
}

/** A result in Label Studio's terms; the import reads the same shapes back from a person's annotations. */
export function toLabelStudioResult(result: ClassificationResult, width: number | null, height: number | null, reviewed: boolean): LabelStudioResult[] {
  const out: LabelStudioResult[] = [];
  const choices = (from: string, values: string[]): void => {
    out.push({ id: `${from}-${out.length}`, type: 'choices', from_name: from, to_name: LS_IMAGE, value: { choices: values } });
  };
  for (const [name, label] of Object.entries(attributesOf(result))) choices(name, [label]);
  if (result.kind === 'single-label') choices(LS_LABEL, [result.label]);
  if (result.kind === 'multi-label') choices(LS_LABEL, result.labels.map((d) => d.label));
  if (width !== null && height !== null) {
    objectsOf(result).forEach((o, i) => {
      out.push({
        id: `box-${i}`,
        type: 'rectanglelabels',
        from_name: LS_LABEL,
        to_name: LS_IMAGE,
        original_width: width,
        original_height: height,
        image_rotation: 0,
        value: { x: (o.box.x1 / width) * 100, y: (o.box.y1 / height) * 100, width: ((o.box.x2 - o.box.x1) / width) * 100, height: ((o.box.y2 - o.box.y1) / height) * 100, rotation: 0, rectanglelabels: [o.label] },
        score: reviewed ? 1 : o.score,
      });
    });
  }
  return out;
}

/** The `<View>` to paste into the Label Studio project's labeling interface, matching the results above. */
export function labelStudioConfig(profile: Profile): string {
  const q = (s: string): string => s.replace(/&/g, '&amp;').replace(/"/g, '&quot;').replace(/</g, '&lt;');
  const lines = ['<View>', `  <Image name="${LS_IMAGE}" value="$image" zoom="true"/>`];
  const choices = (name: string, values: readonly string[], multiple: boolean): void => {
    lines.push(`  <Header value="${q(name)}"/>`, `  <Choices name="${q(name)}" toName="${LS_IMAGE}" choice="${multiple ? 'multiple' : 'single'}" showInline="true">`);
    for (const v of values) lines.push(`    <Choice value="${q(v)}"/>`);
    lines.push('  </Choices>');
  };
  if (profile.kind === 'single-label' || profile.kind === 'multi-label') choices(LS_LABEL, profile.labels.map((l) => l.name), profile.kind === 'multi-label');
  const attrs = profile.kind === 'attributes' || profile.kind === 'objects' ? (profile.attributes ?? []) : [];
  for (const a of attrs) choices(a.name, a.labels.map((l) => l.name), false);
  if (profile.kind === 'objects') {
    lines.push(`  <RectangleLabels name="${LS_LABEL}" toName="${LS_IMAGE}">`);
    for (const c of profile.categories ?? []) lines.push(`    <Label value="${q(c)}"/>`);
    lines.push('  </RectangleLabels>');
  }
  lines.push('</View>');
  return lines.join('\n');
}

function taskFor(item: ExportItem, imageUrlPrefix: string | undefined): LabelStudioTask {
  const r = item.record;
  const image = r.source.kind === 'file' && imageUrlPrefix !== undefined ? `${imageUrlPrefix}${encodeURIComponent(item.name)}` : r.source.location;
  return {
    data: { image, name: item.name, ...(r.source.documentId === undefined ? {} : { documentId: r.source.documentId }), profile: r.profile.name },
    predictions: [
      {
        // A reviewed image is pre-annotated with the review: the person's answer, not the model's, is what to check.
        model_version: item.reviewed ? `review${r.review?.reviewer === null || r.review?.reviewer === undefined ? '' : ` by ${r.review.reviewer}`}` : (r.model?.reportedModel ?? r.model?.deployment ?? 'model'),
        score: item.reviewed ? 1 : r.confidence,
        result: toLabelStudioResult(item.result, item.width, item.height, item.reviewed),
      },
    ],
  };
}

export const labelStudioFormat: ExportFormat = {
  name: 'label-studio',
  description: 'Label Studio tasks JSON: data.image, predictions[].result (rectanglelabels in percent, choices) as pre-annotations',
  layout: 'file',
  kinds: 'all',
  write(items, out, ctx) {
    writeFileSync(out, `${JSON.stringify(items.map((i) => taskFor(i, ctx.imageUrlPrefix)), null, 2)}\n`);
    const notes = ctx.profile === undefined ? [] : [`Labeling interface for the Label Studio project:\n${labelStudioConfig(ctx.profile)}`];
    return Promise.resolve({ files: [out], images: items.length, skipped: [], notes });
  },
};

export function readLabelStudioExport(out: string): LabelStudioTask[] {
  return JSON.parse(readFileSync(out, 'utf8')) as LabelStudioTask[];
}
