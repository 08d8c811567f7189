/** The one Cosmos DB document each image ends as. */
import type { ClassificationResult, ConfidenceSource, ModelInfo } from '../model/classification';
import type { OutboundMark } from '../outbound/outboundEvent';
import type { SupportedFormat } from '../preprocess/preprocessedImage';

/**
 * Final states end the story of a blob version; `processing` is a claim in flight; `deleted` keeps the history of a
 * blob that was deleted (its last result stays for audits and datasets).
 */
export type ImageStatus = 'classified' | 'needs_review' | 'rejected' | 'failed' | 'processing' | 'deleted';
export const FINAL_STATUSES: readonly ImageStatus[] = ['classified', 'needs_review', 'rejected', 'failed', 'deleted'];

/** Who is working on a document and until when; a lease past `expiresAt` may be taken over. */
export interface Lease {
  owner: string;
  expiresAt: string;
}

export interface BlobRef {
  container: string;
  name: string;
  url: string;
  /** The eTag of the blob version this document describes, quotes included as Azure sends them. */
  eTag: string;
  contentLength: number;
  contentType: string | null;
  /** Always null now: event sequencers are not trusted for ordering (the blob's eTag is). Kept for old documents. */
  sequencer: string | null;
}

export type ReviewedBy =
  /** A person signed in with Microsoft Entra ID through App Service authentication: the object id is the identity. */
  | { kind: 'user'; objectId: string; name: string | null; identityProvider: string }
  /** A function-key holder (a machine or an operator): the key proves access, not who; `reviewer` is their claim. */
  | { kind: 'key' };

export interface ImageReview {
  /** The corrected result, of the same kind as the profile. */
  result: ClassificationResult;
  /** Every label in the corrected result, flattened like `labels`. */
  labels: string[];
  /**
   * A name for people to read: the signed-in user's display name, or what a function-key caller wrote (unverified).
   * Reviews stored before sign-in existed have only this, and it was whatever the client sent.
   */
  reviewer: string | null;
  /** Who the app verified made the review; absent on reviews stored before sign-in existed. */
  reviewedBy?: ReviewedBy;
  note: string | null;
  reviewedAt: string;
}

export interface ImageDocument {
  /** Derived from container + blob name (see documentId), so redelivery and re-upload hit the same document. */
  id: string;
  /** Discriminates image documents from other kinds stored in the same container later (e.g. cache entries). */
  type: 'image';
  blob: BlobRef;
  profile: { name: string; version: string } | null;
  status: ImageStatus;
  result: ClassificationResult | null;
  /** Every label in `result`, flattened for queries (attributes as their label, e.g. `rainy`). */
  labels: string[];
  /** Overall confidence (the least confident decision); null when unknown or not classified. */
  confidence: number | null;
  confidenceSource: ConfidenceSource | null;
  model: (ModelInfo & { reportedModel: string | null }) | null;
  /** `cachedTokens`: prompt tokens served from the prompt cache, when there were any. */
  usage: { promptTokens: number; completionTokens: number; cachedTokens?: number; costUsd: number | null; modelCalls: number };
  timings: { downloadMs: number | null; preprocessMs: number | null; modelMs: number | null; totalMs: number };
  image: { width: number; height: number; format: SupportedFormat; sha256: string } | null;
  error: { code: string; message: string; details?: Record<string, unknown> } | null;
  /** Set while `processing`: the claim on this blob version. Null once final. */
  lease?: Lease | null;
  /** Processing attempts for the current blob version (claims taken). */
  attempts?: number;
  /**
   * Model requests sent for the current blob version, every SDK retry included, counted before each is sent (so a
   * crash mid-call still counts) and uncounted only when the service answered 429/401/403/404 (nothing was billed).
   * Capped by MAX_MODEL_ATTEMPTS, after which the version ends `failed`.
   */
  modelAttempts?: number;
  /** When the current blob version was first claimed: the retry horizon counts from here. */
  firstAttemptAt?: string;
  /** The last transient fault, kept while `processing` so the reconcile sweep can finalise with it. */
  lastError?: { code: string; message: string; at: string } | null;
  /** When the answer was reused from an earlier image with identical bytes (no model call, no tokens billed). */
  cached?: { documentId: string | null; at: string } | null;
  /** A person's correction, stored beside the model's answer (which is never overwritten); absent until reviewed. */
  review?: ImageReview | null;
  /** When the current answer was written (the final write); kept by reviews, so stats count it on its own day. */
  finishedAt?: string;
  /** The outbox mark of the outbound events (shared/outbound): set by the final write, cleared once published. */
  outbound?: OutboundMark | null;
  /** A reviewer's short hold from GET /api/review/next, so two reviewers are not handed the same image. */
  reviewLease?: Lease | null;
  /** The Event Grid event that produced this state. */
  source: { eventId: string | null; eventTime: string | null };
  createdAt: string;
  updatedAt: string;
  /** Cosmos system property; present on documents read back. */
  _etag?: string;
}
