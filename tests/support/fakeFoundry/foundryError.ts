/** An HTTP error answer of the fake Foundry endpoint, in the body shapes the service sends (several coexist, see CONTRACTS.md (e)). */

export class FoundryError extends Error {
  override readonly name = 'FoundryError';
  readonly status: number;
  readonly body: Record<string, unknown>;
  readonly headers: Record<string, string>;

  constructor(status: number, body: Record<string, unknown>, headers: Record<string, string> = {}) {
    const error = body['error'] as { message?: unknown } | undefined;
    super(typeof error?.message === 'string' ? error.message : typeof body['message'] === 'string' ? body['message'] : `HTTP ${status}`);
    this.status = status;
    this.body = body;
    this.headers = headers;
  }
}

/** MI's default error: `Azure.Core.Foundations.ErrorResponse {error: {code, message}}` plus the `x-ms-error-code` header it declares. */
export function coreError(status: number, code: string, message: string, headers: Record<string, string> = {}): FoundryError {
  return new FoundryError(status, { error: { code, message } }, { 'x-ms-error-code': code, ...headers });
}

/** The validation shape mi-ref shows: 422 `{status, code: 'parameter_not_supported', detail: {loc, input}, message}`. */
export function parameterNotSupported(param: string, input: unknown): FoundryError {
  return new FoundryError(422, { status: 422, code: 'parameter_not_supported', detail: { loc: ['body', param], input }, message: 'One of the parameters contain invalid values.' });
}

/** A request the fake refuses like the service's schema validation would: 400 with MI's error envelope. */
export function invalidInput(message: string, target?: string): FoundryError {
  return new FoundryError(400, { error: { code: 'invalid_request', message, ...(target === undefined ? {} : { target }) } }, { 'x-ms-error-code': 'invalid_request' });
}
