export type { ImageComparison, ValueCheck } from './compareImage';
export { compareImage } from './compareImage';
export type { BoxMatches } from './matchBoxes';
export { iou, isCrowd, matchBoxes, OVERLAY_IOU } from './matchBoxes';
export { OVERLAY_COLOURS, OVERLAY_LEGEND } from './overlayColours';
export { overlaySvg } from './overlaySvg';
export { pickWorst } from './pickWorst';
export type { OverlayFormat, RenderedOverlay, RenderOverlayOptions } from './renderOverlay';
export { renderOverlay } from './renderOverlay';
