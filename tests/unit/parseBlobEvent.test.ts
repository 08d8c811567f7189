import { readFileSync } from 'node:fs';
import { join } from 'node:path';

import { describe, expect, it } from 'vitest';

import { parseBlobEvent } from '../../shared/events';
import { blobCreatedEvent } from '../support/blobEvents';
import { locateSpecs } from '../support/specs';

const located = locateSpecs(['blobcreated-eventgrid-example.json', 'blobcreated-cloudevents-example.json']);
const specs = located.ok ? located.dir : '';
const haveSpecs = located.ok;
if (!located.ok) console.warn(`[skip] published-example tests skipped: ${located.reason}`);

describe('parseBlobEvent', () => {
  it.skipIf(!haveSpecs)('reads the published Event Grid and CloudEvents BlobCreated examples alike', () => {
    const [eg] = JSON.parse(readFileSync(join(specs, 'blobcreated-eventgrid-example.json'), 'utf8')) as unknown[];
    const [ce] = JSON.parse(readFileSync(join(specs, 'blobcreated-cloudevents-example.json'), 'utf8')) as unknown[];
    const a = parseBlobEvent(eg);
    const b = parseBlobEvent(ce);
    expect(a).toEqual({
      kind: 'ok',
      event: {
        id: '831e1650-001e-001b-66ab-eeb76e069631',
        type: 'Microsoft.Storage.BlobCreated',
        time: '2017-06-26T18:41:00.9584103Z',
        source: '/subscriptions/{subscription-id}/resourceGroups/Storage/providers/Microsoft.Storage/storageAccounts/my-storage-account',
        container: 'test-container',
        blobName: 'new-file.txt',
        api: 'PutBlockList',
        eTag: '"0x8D4BCC2E4835CD0"',
        contentType: 'text/plain',
        contentLength: 524288,
        url: 'https://my-storage-account.blob.core.windows.net/testcontainer/new-file.txt',
        sequencer: '00000000000004420000000000028963',
      },
    });
    expect(b).toEqual(a);
  });

  it.skipIf(!haveSpecs)('test events carry the same fields as the published example', () => {
    const [eg] = JSON.parse(readFileSync(join(specs, 'blobcreated-eventgrid-example.json'), 'utf8')) as Array<Record<string, Record<string, unknown>>>;
    const ours = blobCreatedEvent({ container: 'images', name: 'a.jpg', eTag: '"0x1"', contentLength: 1 });
    expect(Object.keys(ours).sort()).toEqual(Object.keys(eg ?? {}).sort());
    expect(Object.keys(ours['data'] as object).sort()).toEqual(Object.keys(eg?.['data'] ?? {}).sort());
  });

  it('keeps slashes, spaces and unicode in blob names', () => {
    const r = parseBlobEvent(blobCreatedEvent({ container: 'images', name: 'flowers/my rosé ../x.jpg', eTag: '"0x1"', contentLength: 10 }));
    expect(r).toMatchObject({ kind: 'ok', event: { container: 'images', blobName: 'flowers/my rosé ../x.jpg' } });
  });

  it.each([
    ['null', null],
    ['a string', 'hello'],
    ['no subject', { id: '1', eventType: 'Microsoft.Storage.BlobCreated', data: {} }],
    ['a subject that is not a blob', { id: '1', subject: '/foo', eventType: 'Microsoft.Storage.BlobCreated', data: {} }],
    ['data of the wrong type', { id: '1', subject: '/blobServices/default/containers/c/blobs/b', eventType: 'x', data: { contentLength: 'big' } }],
  ])('reports %s as malformed with a reason', (_name, input) => {
    const r = parseBlobEvent(input);
    expect(r.kind).toBe('malformed');
    expect(r.kind === 'malformed' && r.reason.length > 10).toBe(true);
  });
});
