/**
 * Events are hints; the blob is the truth (issue 9 §1). Each case is an observation made on the dev host with a
 * forged or odd event: a traversal in the subject, a delete for a blob that exists, a forged sequencer, events for
 * blobs that never existed, and attacker URLs in `data.url`.
 */
import type { ContainerClient } from '@azure/storage-blob';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';

import { blobCreatedEvent as buildBlobCreated, blobDeletedEvent } from '../../shared/events';
import type { PipelineDeps } from '../../shared/pipeline';
import { processBlobCreated } from '../../shared/pipeline';
import { pipelineDeps } from '../../shared/runtime';
import { documentId } from '../../shared/store';
import { blobCreatedEvent } from '../support/blobEvents';
import { createTestContainer } from '../support/emulators';
import type { FakeOpenAI } from '../support/fakeOpenAI';
import { answerFromSchema, startFakeOpenAI } from '../support/fakeOpenAI';
import { jpeg } from '../support/imageFixtures';
import type { TestApp } from '../support/testApp';
import { startTestApp } from '../support/testApp';

let fake: FakeOpenAI;
let app: TestApp;

beforeAll(async () => {
  fake = await startFakeOpenAI();
});
afterAll(async () => {
  await fake.close();
});
beforeEach(async () => {
  fake.reset();
  fake.setAnswer(({ schema }) => ({ answer: answerFromSchema(schema, { label: 'cat' }) }));
  app = await startTestApp(fake);
});
afterEach(async () => {
  await app.cleanup();
});

const chatRequests = (): number => fake.requests.filter((r) => r.path.endsWith('/chat/completions')).length;

/** The images container, counting every blob client the pipeline asks it for (each is a storage call to come). */
function countingImages(images: ContainerClient): { images: ContainerClient; blobClients: string[] } {
  const blobClients: string[] = [];
  const proxy = new Proxy(images, {
    get(target, prop, receiver) {
      if (prop === 'getBlobClient') return (name: string) => (blobClients.push(name), target.getBlobClient(name));
      const v: unknown = Reflect.get(target, prop, receiver);
      return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v;
    },
  });
  return { images: proxy, blobClients };
}

function eventWithSubject(subject: string, eTag: string): Record<string, unknown> {
  const e = blobCreatedEvent({ container: app.services.images.containerName, name: 'placeholder.jpg', eTag, contentLength: 10 });
  return { ...e, subject };
}

describe('blob names that could leave the container are refused before any storage call', () => {
  it('a subject with ../.. into another container reads nothing, calls no model and stores nothing', async () => {
    const secret = await createTestContainer('private');
    try {
      const up = await secret.value.getBlockBlobClient('secret.jpg').uploadData(await jpeg(), { blobHTTPHeaders: { blobContentType: 'image/jpeg' } });
      const { images, blobClients } = countingImages(app.services.images);
      const deps: PipelineDeps = { ...pipelineDeps(app.services), images };
      const subject = `/blobServices/default/containers/${app.services.images.containerName}/blobs/x/../../${secret.value.containerName}/secret.jpg`;
      const out = await processBlobCreated(eventWithSubject(subject, up.etag ?? ''), deps);
      expect(out).toMatchObject({ outcome: 'ignored', reason: expect.stringMatching(/"\.\." path segment/) });
      expect(blobClients).toEqual([]);
      expect(chatRequests()).toBe(0);
      expect((await app.services.store.list({ limit: 10 })).items).toHaveLength(0);
    } finally {
      await secret.cleanup();
    }
  });

  it.each([['flowers/../a.jpg'], ['flowers/./a.jpg'], ['flowers//a.jpg'], ['flowers\\a.jpg'], ['flowers/a\u0007.jpg']])('%j is refused (no profile from a path it does not have)', async (name) => {
    const u = await app.upload('a.jpg', await jpeg());
    const { images, blobClients } = countingImages(app.services.images);
    const subject = `/blobServices/default/containers/${app.services.images.containerName}/blobs/${name}`;
    const out = await processBlobCreated(eventWithSubject(subject, u.eTag), { ...pipelineDeps(app.services), images });
    expect(out).toMatchObject({ outcome: 'ignored', reason: expect.stringMatching(/refusing blob name/) });
    expect(blobClients).toEqual([]);
    expect(chatRequests()).toBe(0);
    expect((await app.services.store.list({ limit: 10 })).items).toHaveLength(0);
  });
});

describe('version truth comes from the blob, not from the event', () => {
  it('a BlobDeleted for a blob that still exists changes nothing', async () => {
    const u = await app.upload('pets/alive.jpg', await jpeg());
    const first = await app.deliver('pets/alive.jpg', u);
    expect(first.outcome).toBe('classified');
    const blob = app.services.images.getBlobClient('pets/alive.jpg');
    const del = blobDeletedEvent({ accountName: 'devstoreaccount1', container: app.services.images.containerName, name: 'pets/alive.jpg', url: blob.url, contentType: 'image/jpeg', blobType: 'BlockBlob' });
    expect(await processBlobCreated(del, pipelineDeps(app.services))).toMatchObject({ outcome: 'ignored', reason: expect.stringMatching(/still exists/) });
    expect(await app.services.store.get(documentId(app.services.images.containerName, 'pets/alive.jpg'))).toMatchObject({ status: 'classified' });
  });

  it('a forged sequencer "ffff…" does not make the real next overwrite look older', async () => {
    const v1 = await app.upload('pets/forged.jpg', await jpeg(100, 100, { colour: '#102030' }));
    expect((await app.deliver('pets/forged.jpg', v1, { sequencer: 'f'.repeat(32) })).outcome).toBe('classified');
    fake.setAnswer(({ schema }) => ({ answer: answerFromSchema(schema, { label: 'dog' }) }));
    const v2 = await app.upload('pets/forged.jpg', await jpeg(120, 100, { colour: '#405060' }));
    const out = await app.deliver('pets/forged.jpg', v2, { sequencer: '00000000000000000000000000000002' });
    expect(out).toMatchObject({ outcome: 'classified', document: { labels: ['dog'], blob: { eTag: v2.eTag }, image: { width: 120 } } });
  });

  it('an event without an eTag (as reconcile makes them) repairs a document that describes bytes the blob no longer has', async () => {
    const v1 = await app.upload('pets/repair.jpg', await jpeg(100, 100, { colour: '#aa0000' }));
    await app.deliver('pets/repair.jpg', v1, { sequencer: 'f'.repeat(32) });
    // The overwrite's own event was lost: only reconcile's (no eTag, no sequencer) comes.
    fake.setAnswer(({ schema }) => ({ answer: answerFromSchema(schema, { label: 'dog' }) }));
    const v2 = await app.upload('pets/repair.jpg', await jpeg(130, 100, { colour: '#00aa00' }));
    const e = blobCreatedEvent({ container: app.services.images.containerName, name: 'pets/repair.jpg', eTag: 'x', contentLength: 0 });
    const data = { ...(e['data'] as Record<string, unknown>) };
    delete data['eTag'];
    delete data['sequencer'];
    const out = await processBlobCreated({ ...e, data }, pipelineDeps(app.services));
    expect(out).toMatchObject({ outcome: 'classified', document: { labels: ['dog'], blob: { eTag: v2.eTag }, image: { width: 130 } } });
  });

  it('an event for an eTag the blob does not have changes nothing', async () => {
    const u = await app.upload('pets/etag.jpg', await jpeg());
    expect(await app.deliver('pets/etag.jpg', { ...u, eTag: '"0x8DEADBEEF"' })).toMatchObject({ outcome: 'superseded' });
    expect((await app.services.store.list({ limit: 10 })).items).toHaveLength(0);
    expect(chatRequests()).toBe(0);
  });

  it('blob.url and every blob field come from the configured client and the real properties, never from data', async () => {
    const bytes = await jpeg();
    const u = await app.upload('pets/url.jpg', bytes);
    const out = await app.deliver('pets/url.jpg', u, { url: 'javascript:alert(1)', contentLength: 1, contentType: 'text/html' });
    expect(out).toMatchObject({
      outcome: 'classified',
      document: { blob: { url: app.services.images.getBlobClient('pets/url.jpg').url, contentLength: bytes.length, contentType: 'image/jpeg', eTag: u.eTag, sequencer: null } },
    });
  });
});

describe('blobs that do not exist', () => {
  it('100 events for blobs that never existed (attacker URLs included) create no document', async () => {
    const accountName = 'devstoreaccount1';
    const events = Array.from({ length: 100 }, (_, i) =>
      buildBlobCreated({
        accountName,
        container: app.services.images.containerName,
        name: `pets/never-${i}.jpg`,
        url: i % 2 === 0 ? 'javascript:alert(1)' : `https://attacker.example/${i}.jpg`,
        eTag: `"0x${(1000 + i).toString(16)}"`,
        contentLength: 1000,
        contentType: 'image/jpeg',
        blobType: 'BlockBlob',
      }),
    );
    const outcomes = await Promise.all(events.map((e) => processBlobCreated(e, pipelineDeps(app.services))));
    expect(outcomes.every((o) => o.outcome === 'ignored')).toBe(true);
    expect((await app.services.store.list({ limit: 200 })).items).toHaveLength(0);
    expect(chatRequests()).toBe(0);
  });
});
