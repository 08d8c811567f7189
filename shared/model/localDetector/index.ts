/** Public names of the embedded, offline object detector. */
export { boxIoU } from './boxIoU';
export type { CocoLabel } from './cocoLabels';
export { categoryForCocoClass, COCO_LABELS, COCO_TO_BDD100K } from './cocoLabels';
export type { DecodeOptions } from './decodeDetections';
export { decodeDetections, DEFAULT_IOU_THRESHOLD } from './decodeDetections';
export type { CenternetModel } from './loadCenternetModel';
export { CENTERNET_DETECTIONS, CENTERNET_INPUT_SIZE, defaultModelDir, loadCenternetModel } from './loadCenternetModel';
export type { LocalDetectorOptions } from './LocalDetector';
export { createLocalDetector, LocalDetectorClassifier } from './LocalDetector';
export type { ImageSize, PixelBox } from './scaleBox';
export { scaleBox } from './scaleBox';
