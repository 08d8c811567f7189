/** Ground truth of one image as the overlay needs it: whatever the truth format, it comes down to these. */

export interface TruthBox {
  label: string;
  /** Original (upright) image pixels, x2 > x1 and y2 > y1, as PredictionRecord boxes. */
  box: { x1: number; y1: number; x2: number; y2: number };
  /** A crowd / ignored region (BDD100K `attributes.crowd` or `ignored`): drawn, never counted as missed. */
  crowd?: boolean;
}

export interface ImageTruth {
  name: string;
  /** Single-label truth (folder-per-class, COCO image category, JSONL `label`). */
  label?: string;
  /** Multi-label truth. */
  labels?: string[];
  /** Scene attributes (BDD100K frame `metadata` / `attributes`: weather, timeofday, scene). */
  attributes?: Record<string, string>;
  objects?: TruthBox[];
}
