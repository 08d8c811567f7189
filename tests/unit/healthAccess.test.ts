/** A configuration error, as Azure's registered handlers answer it: bare to anonymous callers, named to key holders. */
import { HttpRequest, InvocationContext } from '@azure/functions';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { health } from '../../functions/health';
import { healthDetails } from '../../functions/healthDetails';
import { me } from '../../functions/signedIn';
import { web } from '../../functions/web';

function get(path: string): HttpRequest {
  return new HttpRequest({ url: `http://localhost:7071${path}`, method: 'GET' });
}
function ctx(name: string): InvocationContext {
  return new InvocationContext({ functionName: name, invocationId: `inv-${name}` });
}
function text(res: { body?: unknown }): string {
  return res.body instanceof Uint8Array ? Buffer.from(res.body).toString('utf8') : '';
}

const saved = { ...process.env };

beforeAll(() => {
  // Each test file runs in its own module graph, so these settings build this file's services only: COSMOS_ENDPOINT is
  // missing and the Azure OpenAI endpoint is not a URL (the value must not leak either).
  for (const k of Object.keys(process.env)) if (/^(COSMOS_|AZURE_OPENAI_|MODEL_PROVIDER|AzureWebJobsStorage|WEBSITE_AUTH)/.test(k)) delete process.env[k];
  Object.assign(process.env, { AzureWebJobsStorage: 'UseDevelopmentStorage=true', MODEL_PROVIDER: 'azure-openai', AZURE_OPENAI_ENDPOINT: 'not-a-url-secret-ish', AZURE_OPENAI_DEPLOYMENT: 'gpt-4o' });
});

afterAll(() => {
  for (const k of Object.keys(process.env)) if (!(k in saved)) delete process.env[k];
  Object.assign(process.env, saved);
});

describe('configuration errors and anonymous callers', () => {
  it('answers anonymous routes (health, the page, the sign-in probe) with a bare 503 that names no setting', async () => {
    for (const [fn, name, path] of [
      [health, 'health', '/api/health'],
      [web, 'web', '/'],
      [me, 'me', '/app/api/me'],
    ] as const) {
      const res = await fn(get(path), ctx(name));
      expect(res.status, path).toBe(503);
      const body = text(res);
      expect(JSON.parse(body), path).toEqual({ status: 'unavailable' });
      expect(body).not.toMatch(/COSMOS|AZURE_OPENAI|not-a-url/);
    }
  });

  it('tells a key holder which settings to fix', async () => {
    const res = await healthDetails(get('/api/health/details'), ctx('healthDetails'));
    expect(res.status).toBe(503);
    const body = text(res);
    expect(body).toContain('COSMOS_ENDPOINT');
    expect(body).toContain('AZURE_OPENAI_ENDPOINT');
  });
});
