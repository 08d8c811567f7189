/** Types of the detection evaluator: COCO-style images with truth and predicted boxes, and the report it computes. */

/** A box in COCO form: left, top, width, height, in pixels. */
export type Bbox = [x: number, y: number, w: number, h: number];

/** A ground-truth box. */
export interface TruthBox {
  category: string;
  bbox: Bbox;
  /** The area used for the small / medium / large ranges; COCO takes the annotation's `area`, not the box's. Default w × h. */
  area?: number;
  /** A crowd region: it never counts as a miss and absorbs any number of detections (IoU = intersection / detection area). */
  iscrowd?: boolean;
  id?: number;
}

/** A predicted box. Without a score it ranks as score 1 in input order (see evaluateDetection). */
export interface PredBox {
  category: string;
  bbox: Bbox;
  score?: number;
}

/** One image: its name (the matching key), its truth and its predictions. */
export interface DetectionImage {
  image: string;
  /** COCO's image id when known: images are evaluated in id order as pycocotools does (ties in score across images break by it). */
  id?: number;
  width?: number;
  height?: number;
  /** Frame-level attributes (BDD100K weather, timeofday, scene) for slicing. */
  attributes?: Readonly<Record<string, string>>;
  truth: TruthBox[];
  predictions: PredBox[];
}

export interface DetectionOptions {
  /** Categories to evaluate (a class subset); default every category seen in truth or predictions. */
  categories?: readonly string[];
  /** Score at or above which a detection counts for the at-IoU-0.5 precision / recall / F1; one number or one per class. Default (and for classes missing from the map): every detection counts. */
  scoreThreshold?: number | Readonly<Record<string, number>>;
  /** Precision the per-class score threshold must reach (scoreThresholds). Default 0.95. */
  targetPrecision?: number;
}

/** The twelve COCO summary figures, fractions 0–1; null where COCO prints -1 (no ground truth in range). */
export interface DetectionSummary {
  AP: number | null;
  AP50: number | null;
  AP75: number | null;
  APsmall: number | null;
  APmedium: number | null;
  APlarge: number | null;
  AR1: number | null;
  AR10: number | null;
  AR100: number | null;
  ARsmall: number | null;
  ARmedium: number | null;
  ARlarge: number | null;
}

/** Counts at IoU 0.5 and the score threshold; precision null without detections, recall null without truth, f1 null without either. */
export interface DetectionCounts {
  precision: number | null;
  recall: number | null;
  f1: number | null;
  tp: number;
  fp: number;
  fn: number;
}

export interface ClassDetection extends DetectionCounts {
  AP: number | null;
  AP50: number | null;
  AP75: number | null;
}

/** COCO's interpolated precision at IoU 0.5 (area all, 100 detections) at the 101 recall points 0, 0.01, …, 1. */
export interface PrCurve {
  recall: number[];
  precision: number[];
}

/** The lowest score threshold whose precision at IoU 0.5 reaches the target; null (reviewShare 1) when none does. */
export interface ScoreThreshold {
  threshold: number | null;
  precision: number | null;
  /** Share of the class's detections scoring below the threshold, i.e. sent to review; null without detections. */
  reviewShare: number | null;
}

export type SizeName = 'small' | 'medium' | 'large';

export interface SizeSlice {
  AP: number | null;
  AP50: number | null;
  AR100: number | null;
  at50: DetectionCounts;
}

export interface DetectionReport extends DetectionSummary {
  at50: DetectionCounts;
  perClass: Record<string, ClassDetection>;
  prCurves: Record<string, PrCurve>;
  scoreThresholds: Record<string, ScoreThreshold>;
  /** The same figures restricted to boxes in one COCO area range. */
  sizes: Record<SizeName, SizeSlice>;
  /** Images evaluated and categories evaluated (sorted). */
  images: number;
  categories: string[];
  warnings: string[];
}
