/** Turns an Event Grid (or CloudEvents 1.0) Storage blob event into the facts the pipeline needs, or says why not. */
import { z } from 'zod';

import { blobNameProblem } from '../blob/blobNameProblem';

export const BLOB_CREATED = 'Microsoft.Storage.BlobCreated';
export const BLOB_DELETED = 'Microsoft.Storage.BlobDeleted';

/**
 * Storage APIs whose BlobCreated means the blob is complete. Others (e.g. PutBlock, FlushWithClose=false writes of
 * Data Lake, CreateFile) announce a blob that may still be growing.
 */
export const COMPLETED_WRITE_APIS: readonly string[] = ['PutBlob', 'PutBlockList', 'CopyBlob', 'FlushWithClose'];

export interface BlobEvent {
  id: string;
  type: string;
  time: string | null;
  /** Resource id of the storage account (Event Grid `topic` / CloudEvents `source`). */
  source: string | null;
  container: string;
  blobName: string;
  api: string | null;
  eTag: string | null;
  contentType: string | null;
  contentLength: number | null;
  /** Claimed by the sender; never stored or fetched (the document's URL is built from the configured client). */
  url: string | null;
  /** Claimed by the sender; never used to order versions (the blob's own eTag is the truth). */
  sequencer: string | null;
}

export type ParsedBlobEvent = { kind: 'ok'; event: BlobEvent } | { kind: 'malformed'; reason: string };

const blobEventData = z.looseObject({
  api: z.string().optional(),
  eTag: z.string().optional(),
  contentType: z.string().optional(),
  contentLength: z.number().int().nonnegative().optional(),
  url: z.string().optional(),
  sequencer: z.string().optional(),
});

const eventGridEvent = z.looseObject({
  id: z.string().min(1),
  topic: z.string().optional(),
  subject: z.string().min(1),
  eventType: z.string().min(1),
  eventTime: z.union([z.string(), z.date()]).optional(),
  data: blobEventData,
});

const cloudEvent = z.looseObject({
  id: z.string().min(1),
  source: z.string().optional(),
  subject: z.string().min(1),
  type: z.string().min(1),
  time: z.union([z.string(), z.date()]).optional(),
  specversion: z.string(),
  data: blobEventData,
});

// `/blobServices/default/containers/<container>/blobs/<name>`; the name may contain slashes.
const SUBJECT = /^\/blobServices\/default\/containers\/([^/]+)\/blobs\/(.+)$/;

/** Accepts one event object in either schema; never throws. */
export function parseBlobEvent(input: unknown): ParsedBlobEvent {
  const isCloud = typeof input === 'object' && input !== null && 'specversion' in input;
  let e: { id: string; subject: string; type: string; time: string | Date | undefined; source: string | undefined; data: z.infer<typeof blobEventData> };
  if (isCloud) {
    const r = cloudEvent.safeParse(input);
    if (!r.success) return { kind: 'malformed', reason: `not a CloudEvents blob event: ${describe(r.error)}` };
    e = { id: r.data.id, subject: r.data.subject, type: r.data.type, time: r.data.time, source: r.data.source, data: r.data.data };
  } else {
    const r = eventGridEvent.safeParse(input);
    if (!r.success) return { kind: 'malformed', reason: `not an Event Grid blob event: ${describe(r.error)}` };
    e = { id: r.data.id, subject: r.data.subject, type: r.data.eventType, time: r.data.eventTime, source: r.data.topic, data: r.data.data };
  }
  const m = SUBJECT.exec(e.subject);
  if (m === null) return { kind: 'malformed', reason: `subject ${JSON.stringify(e.subject)} is not a blob path (/blobServices/default/containers/<c>/blobs/<name>)` };
  // Refused here, before any storage call: `x/../../private/a.jpg` would otherwise be resolved by URL
  // normalisation into another container, and `flowers/../a.jpg` would pick a profile for a root blob.
  const nameProblem = blobNameProblem(m[2] as string);
  if (nameProblem !== null) return { kind: 'malformed', reason: `refusing blob name ${JSON.stringify(m[2])}: ${nameProblem}` };
  const time = e.time;
  return {
    kind: 'ok',
    event: {
      id: e.id,
      type: e.type,
      time: time === undefined ? null : time instanceof Date ? time.toISOString() : time,
      source: e.source ?? null,
      container: m[1] as string,
      blobName: m[2] as string,
      api: e.data.api ?? null,
      eTag: e.data.eTag ?? null,
      contentType: e.data.contentType ?? null,
      contentLength: e.data.contentLength ?? null,
      url: e.data.url ?? null,
      sequencer: e.data.sequencer ?? null,
    },
  };
}

function describe(error: z.ZodError): string {
  return error.issues.map((i) => `${i.path.join('.') || '(root)'} ${i.message}`).join('; ');
}
