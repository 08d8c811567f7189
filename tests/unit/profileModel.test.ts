/**
 * A profile's `model` names the provider and deployment that serve it: a provider that does not exist or cannot serve
 * the profile's kind is refused when the profile is loaded, and one whose endpoint is not configured stops the start.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

import { afterEach, describe, expect, it } from 'vitest';

import { loadConfig } from '../../shared/config';
import { ConfigError } from '../../shared/errors';
import { resolveRoutes } from '../../shared/model/routing/resolveRoutes';
import { parseProfile } from '../../shared/profiles';
import { createServices } from '../../shared/runtime/createServices';

const base = { AzureWebJobsStorage__blobServiceUri: 'https://acct.blob.core.windows.net', COSMOS_ENDPOINT: 'https://acct.documents.azure.com:443/' };
const azure = { ...base, MODEL_PROVIDER: 'azure-openai', AZURE_OPENAI_ENDPOINT: 'https://res.openai.azure.com/', AZURE_OPENAI_DEPLOYMENT: 'gpt-4o' };

const labels = { name: 'tags', version: '1', kind: 'single-label', prompt: 'Which?', detail: 'low', confidenceThreshold: 0.5, labels: [{ name: 'a' }, { name: 'b' }] };
const boxes = { name: 'boxes', version: '1', kind: 'objects', prompt: 'Find things.', detail: 'low', confidenceThreshold: 0.3, maxObjects: 10 };

function problems(data: unknown): string {
  try {
    parseProfile(data, 'test.json');
  } catch (e) {
    if (e instanceof ConfigError) return e.issues.join('\n');
    throw e;
  }
  return '';
}

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});
function profilesDir(...profiles: unknown[]): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'blobsight-profile-model-'));
  dirs.push(dir);
  for (const [i, p] of profiles.entries()) writeFileSync(path.join(dir, `p${i}.json`), JSON.stringify(p));
  return dir;
}

describe('a profile naming its model', () => {
  it('is refused when loaded if the provider is unknown or cannot serve the kind', () => {
    expect(problems({ ...labels, model: { provider: 'azure-ai-foundryy', deployment: 'x' } })).toMatch(/test\.json: model\.provider: unknown model provider "azure-ai-foundryy"; use one of azure-openai, azure-ai-foundry/);
    expect(problems({ ...boxes, categories: ['car', 'bus'], model: { provider: 'azure-ai-foundry' } })).toMatch(/model\.provider: azure-ai-foundry cannot serve objects profiles/);
    expect(problems({ ...labels, model: { provider: 'local-detector' } })).toMatch(/local-detector cannot serve single-label profiles \(it serves objects\)/);
    expect(problems({ ...labels, model: { provider: 'azure-ai-vision' } })).toMatch(/azure-ai-vision cannot serve single-label/);
    // GPT-4o answers boxes only on a closed category list.
    expect(problems({ ...boxes, model: { provider: 'azure-openai' } })).toMatch(/add "categories", or use local-detector or azure-ai-vision/);
    expect(problems({ ...labels, model: {} })).toMatch(/name a provider, a deployment, or both/);
    expect(problems({ ...labels, model: { provider: 'azure-openai', endpoint: 'https://x' } })).toMatch(/model: Unrecognized key/);
    expect(problems({ ...labels, model: { deployment: 'a/b' } })).toMatch(/no slashes/);
  });

  it('is accepted for a provider that serves its kind', () => {
    expect(problems({ ...labels, model: { provider: 'azure-ai-foundry', deployment: 'Phi-4-multimodal-instruct' } })).toBe('');
    expect(problems({ ...boxes, model: { provider: 'local-detector' } })).toBe('');
    expect(problems({ ...boxes, model: { provider: 'azure-ai-vision' } })).toBe('');
    expect(problems({ ...boxes, categories: ['car'], model: { provider: 'azure-openai', deployment: 'gpt-4o' } })).toBe('');
  });

  it('stops the start, before any client is opened, when its provider has no endpoint configured', async () => {
    const config = loadConfig({ ...azure, PROFILES_DIR: profilesDir({ ...labels, model: { provider: 'azure-ai-foundry', deployment: 'Phi-4-multimodal-instruct' } }) });
    // The storage and Cosmos DB endpoints above do not exist: reaching either would fail differently (and slowly).
    await expect(createServices(config)).rejects.toThrow(/profile tags: .* names azure-ai-foundry, whose endpoint is not configured\. Set FOUNDRY_ENDPOINT/);
  });

  it('needs a deployment from the profile or from the provider\'s setting', () => {
    const config = loadConfig({ ...azure, FOUNDRY_ENDPOINT: 'https://res.services.ai.azure.com/models' });
    const p = parseProfile({ ...labels, model: { provider: 'azure-ai-foundry' } }, 'test.json');
    expect(() => resolveRoutes(config, [p])).toThrow(/names no deployment and FOUNDRY_MODEL is not set/);
    const withDefault = loadConfig({ ...azure, FOUNDRY_ENDPOINT: 'https://res.services.ai.azure.com/models', FOUNDRY_MODEL: 'Phi-4-multimodal-instruct' });
    const route = resolveRoutes(withDefault, [p]).byProfile.get('tags');
    // The endpoint is taken with or without /models, as for MODEL_PROVIDER=azure-ai-foundry.
    expect(route).toMatchObject({ key: 'azure-ai-foundry/Phi-4-multimodal-instruct', model: { endpoint: 'https://res.services.ai.azure.com', deployment: 'Phi-4-multimodal-instruct' } });
  });

  it('shares one route per provider and deployment; a deployment alone keeps MODEL_PROVIDER (a fine-tuned deployment)', () => {
    const config = loadConfig(azure);
    const profiles = [
      parseProfile({ ...labels, name: 'plain' }, 'a'),
      parseProfile({ ...labels, name: 'same', model: { provider: 'azure-openai', deployment: 'gpt-4o' } }, 'b'),
      parseProfile({ ...labels, name: 'ft1', model: { deployment: 'gpt-4o-2024-08-06-ft-abc' } }, 'c'),
      parseProfile({ ...labels, name: 'ft2', model: { deployment: 'gpt-4o-2024-08-06-ft-abc' } }, 'd'),
    ];
    const routes = resolveRoutes(config, profiles);
    expect(routes.all.map((r) => r.key)).toEqual(['azure-openai/gpt-4o', 'azure-openai/gpt-4o-2024-08-06-ft-abc']);
    expect(routes.byProfile.get('same')).toBe(routes.default);
    expect(routes.byProfile.get('ft1')).toBe(routes.byProfile.get('ft2'));
    expect(routes.byProfile.get('ft1')?.model).toMatchObject({ provider: 'azure-openai', endpoint: 'https://res.openai.azure.com/', deployment: 'gpt-4o-2024-08-06-ft-abc' });
  });

  it('reports every unroutable profile at once, and a malformed endpoint of another provider by name', () => {
    const config = loadConfig({ ...azure });
    const ps = [parseProfile({ ...labels, name: 'one', model: { provider: 'openai-compatible' } }, 'a'), parseProfile({ ...boxes, name: 'two', model: { provider: 'azure-ai-vision' } }, 'b')];
    expect(() => resolveRoutes(config, ps)).toThrow(/profile one: .*OPENAI_BASE_URL[\s\S]*profile two: .*VISION_ENDPOINT/);
    expect(() => loadConfig({ ...azure, FOUNDRY_ENDPOINT: 'not a url' })).toThrow(/FOUNDRY_ENDPOINT="not a url" is not a URL/);
  });
});
