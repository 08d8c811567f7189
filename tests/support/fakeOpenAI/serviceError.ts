/** An HTTP error answer of the fake, in the exact body shapes the Azure OpenAI / OpenAI services send. */

export type Route = 'azure' | 'openai';

export class ServiceError extends Error {
  override readonly name = 'ServiceError';
  readonly status: number;
  readonly body: { error: Record<string, unknown> };
  readonly headers: Record<string, string>;

  constructor(status: number, error: Record<string, unknown>, headers: Record<string, string> = {}) {
    super(typeof error['message'] === 'string' ? error['message'] : `HTTP ${status}`);
    this.status = status;
    this.body = { error };
    this.headers = headers;
  }
}

/**
 * Request-validation failures: both services answer 400 with OpenAI's `invalid_request_error` envelope
 * (Azure passes the model service's validation errors through unchanged).
 */
export function invalidRequest(message: string, param: string | null = null, code: string | null = null): ServiceError {
  return new ServiceError(400, { message, type: 'invalid_request_error', param, code });
}

/** Errors raised by Azure's gateway in front of the model (auth, routing, quota): `{ code, message }` only. */
export function azureGatewayError(status: number, code: string, message: string, headers: Record<string, string> = {}): ServiceError {
  return new ServiceError(status, { code, message }, headers);
}

export function resourceNotFound(): ServiceError {
  return azureGatewayError(404, '404', 'Resource not found');
}

export function invalidUrl(method: string, pathname: string): ServiceError {
  return new ServiceError(404, {
    message: `Invalid URL (${method} ${pathname})`,
    type: 'invalid_request_error',
    param: null,
    code: null,
  });
}

/** The fake cannot emulate this part of the API; the message says so, so nobody mistakes it for a service rule. */
export function fakeUnsupported(what: string, param: string): ServiceError {
  return invalidRequest(`The fake OpenAI server does not implement ${what}.`, param, 'fake_unsupported');
}
