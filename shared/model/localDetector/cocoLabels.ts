/** The CenterNet model's COCO-80 class names, and the BDD100K category each is stored as where one exists. */

/**
 * Index i is the model's class value i: its graph computes the class as `topK index mod 80` (0-based), and
 * @vladmandic/human decodes it as `labels[class]` over this same order (`src/object/labels.ts`).
 */
export const COCO_LABELS = [
  'person', 'bicycle', 'car', 'motorcycle', 'airplane', 'bus', 'train', 'truck', 'boat', 'traffic light',
  'fire hydrant', 'stop sign', 'parking meter', 'bench', 'bird', 'cat', 'dog', 'horse', 'sheep', 'cow', 'elephant',
  'bear', 'zebra', 'giraffe', 'backpack', 'umbrella', 'handbag', 'tie', 'suitcase', 'frisbee', 'skis', 'snowboard',
  'sports ball', 'kite', 'baseball bat', 'baseball glove', 'skateboard', 'surfboard', 'tennis racket', 'bottle',
  'wine glass', 'cup', 'fork', 'knife', 'spoon', 'bowl', 'banana', 'apple', 'sandwich', 'orange', 'broccoli',
  'carrot', 'hot dog', 'pizza', 'donut', 'cake', 'chair', 'couch', 'potted plant', 'bed', 'dining table', 'toilet',
  'tv', 'laptop', 'mouse', 'remote', 'keyboard', 'cell phone', 'microwave', 'oven', 'toaster', 'sink',
  'refrigerator', 'book', 'clock', 'vase', 'scissors', 'teddy bear', 'hair drier', 'toothbrush',
] as const;

export type CocoLabel = (typeof COCO_LABELS)[number];

/**
 * COCO classes that have a BDD100K counterpart, so detections are queryable with the same names as the BDD100K
 * ground truth and the driving-scene vocabulary. BDD100K's `rider`, `other vehicle` and `other person` have no COCO
 * class; a stop sign is the only COCO traffic sign.
 */
export const COCO_TO_BDD100K: Readonly<Partial<Record<CocoLabel, string>>> = {
  car: 'car',
  truck: 'truck',
  bus: 'bus',
  train: 'train',
  motorcycle: 'motorcycle',
  bicycle: 'bicycle',
  person: 'pedestrian',
  'traffic light': 'traffic light',
  'stop sign': 'traffic sign',
};

/** The stored category of a COCO class: its BDD100K name where one exists, else the COCO name itself. */
export function categoryForCocoClass(cocoClass: CocoLabel): string {
  return COCO_TO_BDD100K[cocoClass] ?? cocoClass;
}
