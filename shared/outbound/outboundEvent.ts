/** The events downstream systems receive for a final image document, as CloudEvents 1.0. */
import { createHash } from 'node:crypto';

import type { ImageDocument } from '../store/imageDocument';

export const OUTBOUND_EVENT_TYPES = {
  classified: 'blobsight.ImageClassified',
  needs_review: 'blobsight.ImageNeedsReview',
  rejected: 'blobsight.ImageRejected',
  failed: 'blobsight.ImageFailed',
} as const;

export type OutboundStatus = keyof typeof OUTBOUND_EVENT_TYPES;

/** The outbox mark on a document: which version of its result was (or is still to be) published. */
export interface OutboundMark {
  version: string;
  /** True from the final write until a publish succeeded and was marked. */
  pending: boolean;
  publishedAt: string | null;
}

/** A structured-mode CloudEvent (the shape both Event Grid and the webhooks get). */
export interface OutboundCloudEvent {
  specversion: '1.0';
  /** `<document id>:<version>`: the same for every publish of one version, so a receiver can drop duplicates. */
  id: string;
  type: (typeof OUTBOUND_EVENT_TYPES)[OutboundStatus];
  source: string;
  /** The blob name. */
  subject: string;
  time: string;
  datacontenttype: 'application/json';
  data: Record<string, unknown>;
}

export function isOutboundStatus(status: string): status is OutboundStatus {
  return Object.hasOwn(OUTBOUND_EVENT_TYPES, status);
}

/**
 * The version of a document's result: what a downstream system would act on (blob version, status, profile,
 * answer, error, model). The same answer written again (a redelivery, a reprocess served from the cache) is the same
 * version and is not published again; a new profile version, model or blob version is a new one.
 */
export function outboundVersion(doc: Pick<ImageDocument, 'blob' | 'status' | 'profile' | 'result' | 'error' | 'model'>): string {
  const facts = [doc.blob.eTag, doc.status, doc.profile, doc.result, doc.error?.code ?? null, doc.model?.deployment ?? null, doc.model?.reportedModel ?? null];
  return createHash('sha256').update(JSON.stringify(facts)).digest('hex').slice(0, 16);
}

export function toCloudEvent(doc: ImageDocument, mark: OutboundMark): OutboundCloudEvent | undefined {
  if (!isOutboundStatus(doc.status)) return undefined;
  return {
    specversion: '1.0',
    id: `${doc.id}:${mark.version}`,
    type: OUTBOUND_EVENT_TYPES[doc.status],
    source: `/blobsight/containers/${doc.blob.container}`,
    subject: doc.blob.name,
    time: doc.updatedAt,
    datacontenttype: 'application/json',
    data: {
      id: doc.id,
      version: mark.version,
      status: doc.status,
      blob: { container: doc.blob.container, name: doc.blob.name, url: doc.blob.url, eTag: doc.blob.eTag },
      profile: doc.profile,
      labels: doc.labels,
      confidence: doc.confidence,
      result: doc.result,
      error: doc.error === null ? null : { code: doc.error.code, message: doc.error.message },
      usage: doc.usage,
      cached: doc.cached !== null && doc.cached !== undefined,
    },
  };
}
