/** The detection evaluator `evaluate` uses by default: shared/eval/detection's COCO-exact one. */
export { evaluateDetection } from './detection/evaluateDetection';
