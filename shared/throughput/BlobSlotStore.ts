/**
 * The slot ledger's document as a small blob in the storage account the app already uses (Azurite under `npm start`):
 * conditional writes on the blob's ETag (If-Match, or If-None-Match: * to create it) make each reservation an
 * atomic read-modify-write without a lease. The container is created on first use when missing.
 */
import type { BlockBlobClient, ContainerClient } from '@azure/storage-blob';

import type { SlotState, SlotStore, VersionedSlotState } from './SlotStore';

export class BlobSlotStore implements SlotStore {
  private readonly blob: BlockBlobClient;

  /** `timeoutMs` bounds each call: a slow ledger must not hold a model request longer than local pacing would. */
  constructor(
    private readonly container: ContainerClient,
    blobName: string,
    private readonly timeoutMs = 2_000,
  ) {
    this.blob = container.getBlockBlobClient(blobName);
  }

  async read(): Promise<VersionedSlotState | undefined> {
    try {
      const r = await this.blob.download(0, undefined, { abortSignal: AbortSignal.timeout(this.timeoutMs) });
      const text = await streamText(r.readableStreamBody);
      const state = parseSlotState(text);
      if (state === undefined || r.etag === undefined) throw new Error(`quota slot ledger ${this.blob.name} is not a slot document; delete it to start afresh`);
      return { state, etag: r.etag };
    } catch (e) {
      if (statusOf(e) === 404) return undefined;
      throw e;
    }
  }

  async write(state: SlotState, etag: string | undefined): Promise<{ etag: string } | 'conflict'> {
    const body = JSON.stringify(state);
    const upload = (): ReturnType<BlockBlobClient['upload']> =>
      this.blob.upload(body, Buffer.byteLength(body), {
        conditions: etag === undefined ? { ifNoneMatch: '*' } : { ifMatch: etag },
        blobHTTPHeaders: { blobContentType: 'application/json' },
        abortSignal: AbortSignal.timeout(this.timeoutMs),
      });
    try {
      const r = await upload().catch(async (e: unknown) => {
        // First use: the container is not there yet (Azure creates it in Bicep; Azurite starts empty).
        if (etag !== undefined || statusOf(e) !== 404) throw e;
        await this.container.createIfNotExists({ abortSignal: AbortSignal.timeout(this.timeoutMs) });
        return upload();
      });
      if (r.etag === undefined) throw new Error('blob upload returned no ETag');
      return { etag: r.etag };
    } catch (e) {
      // 412: the ETag moved (another instance reserved first); 409: someone created the blob first.
      const status = statusOf(e);
      if (status === 412 || status === 409) return 'conflict';
      throw e;
    }
  }
}

export function parseSlotState(text: string): SlotState | undefined {
  try {
    const v = JSON.parse(text) as Partial<SlotState>;
    return v.v === 1 && typeof v.nextFreeAt === 'number' && Number.isFinite(v.nextFreeAt) ? { v: 1, nextFreeAt: v.nextFreeAt } : undefined;
  } catch {
    return undefined;
  }
}

/** By shape, not instanceof: a RestError from a second copy of core-rest-pipeline is still recognised. */
function statusOf(e: unknown): number | undefined {
  const status = typeof e === 'object' && e !== null ? (e as { statusCode?: unknown }).statusCode : undefined;
  return typeof status === 'number' ? status : undefined;
}

async function streamText(stream: NodeJS.ReadableStream | undefined): Promise<string> {
  if (stream === undefined) return '';
  const chunks: Buffer[] = [];
  for await (const c of stream) chunks.push(typeof c === 'string' ? Buffer.from(c) : c);
  return Buffer.concat(chunks).toString('utf8');
}
