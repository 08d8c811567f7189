/** An HTTP error answer of the fake Vision endpoint: `Azure.Core.Foundations.ErrorResponse` plus `x-ms-error-code`. */

export class VisionError extends Error {
  override readonly name = 'VisionError';
  readonly status: number;
  readonly body: { error: { code: string; message: string; innererror?: { code: string; message: string } } };
  readonly headers: Record<string, string>;

  constructor(status: number, body: VisionError['body'], headers: Record<string, string> = {}) {
    super(body.error.message);
    this.status = status;
    this.body = body;
    this.headers = headers;
  }
}

/** ia-rest's shape: `{"error":{"code":"InvalidRequest","message":"...","innererror":{"code":"NotSupportedVisualFeature","message":"..."}}}`. */
export function invalidRequest(innerCode: string, message: string): VisionError {
  return new VisionError(400, { error: { code: 'InvalidRequest', message, innererror: { code: innerCode, message } } }, { 'x-ms-error-code': innerCode });
}

/** An error without an inner error (401, 403, 404, 429, 5xx). */
export function plainError(status: number, code: string, message: string, headers: Record<string, string> = {}): VisionError {
  return new VisionError(status, { error: { code, message } }, { 'x-ms-error-code': code, ...headers });
}
