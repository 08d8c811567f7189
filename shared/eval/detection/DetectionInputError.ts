/** Detection input that cannot be evaluated as given (not a box, not a number, not the expected JSON shape). */
export class DetectionInputError extends Error {
  override readonly name = 'DetectionInputError';
}
