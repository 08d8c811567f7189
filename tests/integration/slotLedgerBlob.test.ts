/**
 * The shared slot ledger on a real blob (Azurite, as under `npm start`): instances that reserve at the same moment
 * get disjoint, evenly spaced send times through ETag-conditional writes, the container is created on first use,
 * and a document that is not a slot ledger is reported instead of being silently overwritten.
 */
import { BlobServiceClient } from '@azure/storage-blob';
import { describe, expect, inject, it } from 'vitest';

import { BlobSlotStore } from '../../shared/throughput/BlobSlotStore';
import { SlotLedger } from '../../shared/throughput/SlotLedger';

const service = (): BlobServiceClient => BlobServiceClient.fromConnectionString(inject('blobConnectionString'));

describe('SlotLedger on a blob', () => {
  it('gives three instances reserving at once disjoint slots one interval apart, creating its container on first use', async () => {
    const container = service().getContainerClient(`ledger-${Date.now().toString(36)}`);
    const instances = Array.from({ length: 3 }, () => new SlotLedger(new BlobSlotStore(container, 'slots.json'), { conflictBackoffMs: 2 }));
    const grants = await Promise.all(instances.flatMap((l) => Array.from({ length: 4 }, () => l.reserve(250, 60_000))));
    const at = grants.map((g) => (g.kind === 'send' ? g.at : Number.NaN)).sort((a, b) => a - b);
    expect(at.every(Number.isFinite)).toBe(true);
    for (let i = 1; i < at.length; i++) expect((at[i] ?? 0) - (at[i - 1] ?? 0)).toBeGreaterThanOrEqual(250);
    // The shared document ends one slot after the last one handed out.
    const doc = await new BlobSlotStore(container, 'slots.json').read();
    expect(doc?.state.nextFreeAt).toBe((at.at(-1) ?? 0) + 250);
    expect(instances.reduce((n, l) => n + l.counts.conflicts, 0), 'the instances did contend for the blob').toBeGreaterThan(0);
    await container.deleteIfExists();
  });

  it('answers unavailable, and reports why, when the blob holds something else', async () => {
    const container = service().getContainerClient(`ledger-bad-${Date.now().toString(36)}`);
    await container.createIfNotExists();
    await container.getBlockBlobClient('slots.json').upload('not json', 8);
    const failures: unknown[] = [];
    const ledger = new SlotLedger(new BlobSlotStore(container, 'slots.json'), { onFailure: (e) => failures.push(e) });
    expect(await ledger.reserve(250, 60_000)).toEqual({ kind: 'unavailable' });
    expect(String(failures[0])).toMatch(/not a slot document/);
    await container.deleteIfExists();
  });
});
