/** Reads, writes and lists image documents in Cosmos DB, with queries both Cosmos and the local emulator server run. */
import { createHash } from 'node:crypto';

import type { Container, FeedOptions, SqlParameter, SqlQuerySpec } from '@azure/cosmos';
import { StatusCodes } from '@azure/cosmos';

import type { ImageDocument, ImageStatus } from './imageDocument';
import { InvalidContinuationTokenError } from './InvalidContinuationTokenError';
import { cosmosStatus, isCosmosError } from './isCosmosError';
import { ScanCursorStore } from './ScanCursorStore';
import { toStoreError } from './toStoreError';

export interface ListFilter {
  status?: ImageStatus;
  /** Documents whose flattened `labels` contain this label (any result kind, attributes included). */
  label?: string;
  /** Profile name. */
  profile?: string;
  /** Inclusive bounds on the overall confidence; documents without a confidence never match a bound. */
  minConfidence?: number;
  maxConfidence?: number;
  /** ISO 8601 date-time; documents updated at or after it. */
  since?: string;
  /** Page size, 1 to MAX_LIST_LIMIT. Pages may be shorter, never longer. */
  limit: number;
  /** From the previous page of the same filter; opaque. */
  continuationToken?: string;
}

export interface ListPage {
  /** Newest update first. */
  items: ImageDocument[];
  /** Pass it back for the next page; null when there is none. */
  continuationToken: string | null;
}

export const MAX_LIST_LIMIT = 1000;

/** Cosmos may answer a cross-partition page with no items but a continuation; these are skipped, a bounded number of times. */
const MAX_EMPTY_PAGES = 20;
const MAX_TOKEN_CHARS = 16_384;
const TOKEN_VERSION = 2;

/** Cosmos system properties that mean nothing to callers; `_etag` is kept for conditional writes. */
const SYSTEM_PROPERTIES = ['_rid', '_self', '_ts', '_attachments', '_lsn'] as const;

/** Ids are our hashes (documentId); anything Cosmos could not hold as an id simply does not exist. */
const VALID_ID = /^[^/\\?#]{1,255}$/;

export class ImageStore {
  readonly #container: Container;

  constructor(container: Container) {
    this.#container = container;
  }

  /** The image document with this id, or undefined when there is none. */
  async get(id: string): Promise<ImageDocument | undefined> {
    if (!VALID_ID.test(id)) return undefined;
    let resource: ImageDocument | undefined;
    try {
      // The SDK answers 404 with an undefined resource rather than throwing.
      ({ resource } = await this.#container.item(id, id).read<ImageDocument>());
    } catch (e) {
      throw toStoreError(e, `read image document ${id}`);
    }
    return resource?.type === 'image' ? toImageDocument(resource) : undefined;
  }

  /** Creates or replaces the document; returns it as stored (with its new `_etag`). */
  async upsert(doc: ImageDocument): Promise<ImageDocument> {
    let resource: ImageDocument | undefined;
    try {
      ({ resource } = await this.#container.items.upsert<ImageDocument>(doc));
    } catch (e) {
      throw toStoreError(e, `write image document ${doc.id}`);
    }
    if (resource === undefined) throw new Error(`Cosmos DB returned no document for the upsert of ${doc.id}`);
    return toImageDocument(resource);
  }

  /** Creates the document only if none has its id yet; 'conflict' when one does (someone else got there first). */
  async create(doc: ImageDocument): Promise<ImageDocument | 'conflict'> {
    const { _etag: _ignored, ...body } = doc;
    let resource: ImageDocument | undefined;
    try {
      ({ resource } = await this.#container.items.create<ImageDocument>(body));
    } catch (e) {
      if (isCosmosError(e, StatusCodes.Conflict)) return 'conflict';
      throw toStoreError(e, `create image document ${doc.id}`);
    }
    if (resource === undefined) throw new Error(`Cosmos DB returned no document for the create of ${doc.id}`);
    return toImageDocument(resource);
  }

  /**
   * Replaces the document only if it is unchanged since it was read (`ifMatch` = its `_etag`); 'conflict' when
   * someone else wrote it in between, so the caller can re-read and decide again.
   */
  async replace(doc: ImageDocument, ifMatch: string): Promise<ImageDocument | 'conflict'> {
    const { _etag: _ignored, ...body } = doc;
    let resource: ImageDocument | undefined;
    try {
      ({ resource } = await this.#container.item(doc.id, doc.id).replace<ImageDocument>(body as ImageDocument, { accessCondition: { type: 'IfMatch', condition: ifMatch } }));
    } catch (e) {
      if (isCosmosError(e, StatusCodes.PreconditionFailed)) return 'conflict';
      throw toStoreError(e, `replace image document ${doc.id}`);
    }
    if (resource === undefined) throw new Error(`Cosmos DB returned no document for the replace of ${doc.id}`);
    return toImageDocument(resource);
  }

  /**
   * One page of image documents matching `filter`, newest update first. Throws RangeError for a bad limit or
   * `since` (callers validate input first), InvalidContinuationTokenError for a token not issued for this filter,
   * TransientError `store_unavailable` when Cosmos is throttling or unreachable.
   */
  async list(filter: ListFilter): Promise<ListPage> {
    if (!Number.isInteger(filter.limit) || filter.limit < 1 || filter.limit > MAX_LIST_LIMIT) {
      throw new RangeError(`limit must be a whole number from 1 to ${MAX_LIST_LIMIT}, got ${filter.limit}`);
    }
    const spec = buildListQuery(filter);
    const queryHash = hashQuery(spec);
    const cosmosToken = filter.continuationToken === undefined ? undefined : decodeToken(filter.continuationToken, queryHash);

    const options: FeedOptions = {
      maxItemCount: filter.limit,
      // Real Cosmos runs this cross-partition ORDER BY through the SDK's query pipeline, which hands out and
      // accepts continuation tokens only with query control on; that is also why pages can come back empty.
      enableQueryControl: true,
      ...(cosmosToken === undefined ? {} : { continuationToken: cosmosToken }),
    };
    const iterator = this.#container.items.query<ImageDocument>(spec, options);
    let items: ImageDocument[] = [];
    let next: string | undefined;
    try {
      for (let i = 0; i < MAX_EMPTY_PAGES; i++) {
        const page = await iterator.fetchNext();
        items = page.resources ?? [];
        next = page.continuationToken;
        if (items.length > 0 || next === undefined || next === '') break;
      }
    } catch (e) {
      if (cosmosToken !== undefined && isRejectedToken(e)) {
        throw new InvalidContinuationTokenError('The continuation token is not valid for this query.', { cause: e });
      }
      throw toStoreError(e, 'list image documents');
    }
    return {
      items: items.map(toImageDocument),
      continuationToken: next === undefined || next === '' ? null : encodeToken(next, queryHash),
    };
  }

  /**
   * What is stored for each of these ids (at most MAX_VERSION_LOOKUP): status and blob eTag, in one query instead of
   * one point read per id. Ids with no image document are absent from the map.
   */
  async versionsOf(ids: readonly string[]): Promise<Map<string, StoredVersion>> {
    if (ids.length > MAX_VERSION_LOOKUP) throw new RangeError(`at most ${MAX_VERSION_LOOKUP} ids per lookup, got ${ids.length}`);
    const found = new Map<string, StoredVersion>();
    const valid = ids.filter((id) => VALID_ID.test(id));
    if (valid.length === 0) return found;
    const spec: SqlQuerySpec = {
      query: 'SELECT c.id, c.status, c.blob.eTag FROM c WHERE c.type = @type AND ARRAY_CONTAINS(@ids, c.id)',
      parameters: [
        { name: '@type', value: 'image' },
        { name: '@ids', value: valid },
      ],
    };
    try {
      const { resources } = await this.#container.items.query<{ id: string; status: ImageStatus; eTag?: string }>(spec, { maxItemCount: MAX_VERSION_LOOKUP }).fetchAll();
      for (const r of resources) found.set(r.id, { status: r.status, eTag: r.eTag ?? '' });
    } catch (e) {
      throw toStoreError(e, 'look up image documents');
    }
    return found;
  }

  /**
   * Up to `limit` `processing` documents last updated before `updatedBefore`, ids strictly after `after`, in id order.
   * Paging by id (pass the last id back as `after`) stays exact while the documents are rewritten: a document that
   * leaves `processing` or changes its `updatedAt` cannot shift the others, as it would under a continuation token.
   */
  async listProcessing(o: { after: string; updatedBefore: string; limit: number }): Promise<ImageDocument[]> {
    if (!Number.isInteger(o.limit) || o.limit < 1 || o.limit > MAX_LIST_LIMIT) throw new RangeError(`limit must be a whole number from 1 to ${MAX_LIST_LIMIT}, got ${o.limit}`);
    const spec: SqlQuerySpec = {
      query: 'SELECT TOP @limit * FROM c WHERE c.type = @type AND c.status = @status AND c.updatedAt < @before AND c.id > @after ORDER BY c.id',
      parameters: [
        { name: '@limit', value: o.limit },
        { name: '@type', value: 'image' },
        { name: '@status', value: 'processing' },
        { name: '@before', value: normalizeSince(o.updatedBefore) },
        { name: '@after', value: o.after },
      ],
    };
    try {
      const { resources } = await this.#container.items.query<ImageDocument>(spec, { maxItemCount: o.limit }).fetchAll();
      return resources.map(toImageDocument);
    } catch (e) {
      throw toStoreError(e, 'list processing image documents');
    }
  }

  /**
   * Every row of a read-only query (parameterized, and one both Cosmos DB and the emulator run): the outbox retry,
   * the review queue and the cache sweep use it. Image documents come back without Cosmos system properties but `_etag`.
   */
  async query<T = ImageDocument>(spec: SqlQuerySpec): Promise<T[]> {
    try {
      const { resources } = await this.#container.items.query<T>(spec).fetchAll();
      return resources.map((r) => toImageDocument(r as unknown as ImageDocument) as unknown as T);
    } catch (e) {
      throw toStoreError(e, 'query the images container');
    }
  }

  /** Deletes the item with this id (an image document or a cache entry); false when there was none. */
  async delete(id: string): Promise<boolean> {
    if (!VALID_ID.test(id)) return false;
    try {
      await this.#container.item(id, id).delete();
      return true;
    } catch (e) {
      if (isCosmosError(e, StatusCodes.NotFound)) return false;
      throw toStoreError(e, `delete ${id}`);
    }
  }

  /** The reconcile scan cursors, kept in this container beside the images. */
  scanCursors(): ScanCursorStore {
    return new ScanCursorStore(this.#container);
  }
}

/** What the reconcile scan needs to know about a blob's document. */
export interface StoredVersion {
  status: ImageStatus;
  /** The blob eTag the document describes, quotes included. */
  eTag: string;
}

/** Ids per lookup query: about 35 KB of parameters, far inside Cosmos DB's query size limit. */
export const MAX_VERSION_LOOKUP = 1000;

/** One parameterized query; only single-field ORDER BY, ARRAY_CONTAINS and comparisons, which both engines support. */
function buildListQuery(filter: ListFilter): SqlQuerySpec {
  const where = ['c.type = @type'];
  const parameters: SqlParameter[] = [{ name: '@type', value: 'image' }];
  const add = (clause: string, name: string, value: string | number): void => {
    where.push(clause);
    parameters.push({ name, value });
  };
  if (filter.status !== undefined) add('c.status = @status', '@status', filter.status);
  if (filter.label !== undefined) add('ARRAY_CONTAINS(c.labels, @label)', '@label', filter.label);
  if (filter.profile !== undefined) add('c.profile.name = @profile', '@profile', filter.profile);
  if (filter.minConfidence !== undefined) add('c.confidence >= @minConfidence', '@minConfidence', filter.minConfidence);
  if (filter.maxConfidence !== undefined) add('c.confidence <= @maxConfidence', '@maxConfidence', filter.maxConfidence);
  if (filter.since !== undefined) add('c.updatedAt >= @since', '@since', normalizeSince(filter.since));
  return { query: `SELECT * FROM c WHERE ${where.join(' AND ')} ORDER BY c.updatedAt DESC`, parameters };
}

/** `updatedAt` is always `toISOString()` output, so string comparison is time order only against the same form. */
function normalizeSince(since: string): string {
  const t = Date.parse(since);
  if (Number.isNaN(t)) throw new RangeError(`since must be an ISO 8601 date-time, got ${JSON.stringify(since)}`);
  return new Date(t).toISOString();
}

function hashQuery(spec: SqlQuerySpec): string {
  return createHash('sha256').update(JSON.stringify(spec)).digest('hex').slice(0, 16);
}

/**
 * Our token wraps Cosmos's with the hash of the query it belongs to, base64url so it travels in a URL. A token
 * from another filter, or garbage, is refused here: Cosmos emulators silently restart from the beginning instead.
 */
function encodeToken(cosmosToken: string, queryHash: string): string {
  return Buffer.from(JSON.stringify({ v: TOKEN_VERSION, q: queryHash, c: cosmosToken, h: tokenCheck(queryHash, cosmosToken) }), 'utf8').toString('base64url');
}

/**
 * A checksum over the query hash and Cosmos's token: an edited token is refused here, since an emulator would answer
 * it with page 1 (real Cosmos DB refuses what it cannot parse, but may accept an edited offset). Not a secret: a
 * deliberate forger can recompute it, and then gets only what Cosmos does with the forged token on their own query.
 */
function tokenCheck(queryHash: string, cosmosToken: string): string {
  return createHash('sha256').update(`${queryHash}\n${cosmosToken}`).digest('base64url').slice(0, 22);
}

function decodeToken(token: string, queryHash: string): string {
  if (token.length === 0 || token.length > MAX_TOKEN_CHARS || !/^[A-Za-z0-9_-]+$/.test(token)) {
    throw new InvalidContinuationTokenError('The continuation token is malformed.');
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(token, 'base64url').toString('utf8'));
  } catch {
    throw new InvalidContinuationTokenError('The continuation token is malformed.');
  }
  if (typeof parsed !== 'object' || parsed === null) throw new InvalidContinuationTokenError('The continuation token is malformed.');
  const { v, q, c, h } = parsed as { v?: unknown; q?: unknown; c?: unknown; h?: unknown };
  if (v !== TOKEN_VERSION || typeof q !== 'string' || typeof c !== 'string' || c === '' || typeof h !== 'string') {
    throw new InvalidContinuationTokenError('The continuation token is malformed.');
  }
  if (h !== tokenCheck(q, c)) throw new InvalidContinuationTokenError('The continuation token was altered.');
  if (q !== queryHash) throw new InvalidContinuationTokenError('The continuation token belongs to a different filter.');
  return c;
}

/** Cosmos answers 400 to a token it cannot use; the SDK throws plain errors naming the token when it cannot parse it. */
function isRejectedToken(e: unknown): boolean {
  if (cosmosStatus(e) === StatusCodes.BadRequest) return true;
  return e instanceof Error && cosmosStatus(e) === undefined && /continuation/i.test(e.message);
}

function toImageDocument(resource: ImageDocument): ImageDocument {
  const doc: Record<string, unknown> = { ...resource };
  for (const key of SYSTEM_PROPERTIES) delete doc[key];
  return doc as unknown as ImageDocument;
}
