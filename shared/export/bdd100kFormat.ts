/** BDD100K detection labels: a JSON list of frames, `name`, `attributes` {weather, timeofday, scene}, `labels[]` with box2d. */
import { readFileSync, writeFileSync } from 'node:fs';

import type { ExportFormat } from './exportFormat';
import { attributesOf, objectsOf } from './exportItem';

export interface Bdd100kLabel {
  /** Unique within the frame, a decimal string as in BDD100K's own files. */
  id: string;
  category: string;
  box2d: { x1: number; y1: number; x2: number; y2: number };
  /** The detector's score; 1 for a box a person drew or confirmed. */
  score: number;
}

export interface Bdd100kFrame {
  name: string;
  attributes: Record<string, string>;
  labels: Bdd100kLabel[];
}

export const bdd100kFormat: ExportFormat = {
  name: 'bdd100k',
  description: 'BDD100K frames list: name, attributes {weather, timeofday, scene}, labels[] {id, category, box2d, score}',
  layout: 'file',
  kinds: ['objects', 'attributes'],
  write(items, out) {
    const frames: Bdd100kFrame[] = items.map((item) => ({
      name: item.name,
      attributes: attributesOf(item.result),
      labels: objectsOf(item.result).map((o, i) => ({ id: String(i), category: o.label, box2d: { ...o.box }, score: item.reviewed ? 1 : o.score })),
    }));
    writeFileSync(out, `${JSON.stringify(frames, null, 2)}\n`);
    return Promise.resolve({ files: [out], images: frames.length, skipped: [], notes: [] });
  },
};

export function readBdd100kExport(out: string): Bdd100kFrame[] {
  return JSON.parse(readFileSync(out, 'utf8')) as Bdd100kFrame[];
}
