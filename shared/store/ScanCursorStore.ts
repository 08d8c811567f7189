/**
 * Where the reconcile orphan scan resumes: one small document per images container, kept in the Cosmos container
 * beside the image documents, so a run on any instance (Flex Consumption scales to zero between runs) goes on where
 * the last run stopped, and the scan covers the whole blob container over successive runs, then wraps around.
 */
import type { Container } from '@azure/cosmos';
import { StatusCodes } from '@azure/cosmos';

import { isCosmosError } from './isCosmosError';
import { toStoreError } from './toStoreError';

/** Stored with `type: 'scanCursor'`: the API lists only `type: 'image'`, so it never shows up there. */
export interface ScanCursor {
  id: string;
  type: 'scanCursor';
  /** The blob container scanned. */
  container: string;
  /** The blob listing's continuation marker to resume from; null: start at the top. */
  marker: string | null;
  /** How many times the scan has started again at the top (1 for the first pass). */
  pass: number;
  passStartedAt: string;
  /** Blobs looked at since the top, this pass. */
  scannedThisPass: number;
  updatedAt: string;
  /** Cosmos system property; present on cursors read back, required for the conditional write. */
  _etag?: string;
}

/** The next position to store: what the run reached. */
export type ScanCursorPosition = Pick<ScanCursor, 'marker' | 'pass' | 'passStartedAt' | 'scannedThisPass'>;

/** Ids of image documents are 32 hex chars and cache entries start `cache-`: this prefix can collide with neither. */
const ID_PREFIX = 'scan-cursor-';

export function scanCursorId(container: string): string {
  return `${ID_PREFIX}${container}`;
}

export class ScanCursorStore {
  readonly #container: Container;

  constructor(container: Container) {
    this.#container = container;
  }

  /** The stored cursor, or a fresh one at the top of the first pass (not yet stored, so without `_etag`). */
  async read(container: string, now: Date): Promise<ScanCursor> {
    const id = scanCursorId(container);
    let resource: ScanCursor | undefined;
    try {
      ({ resource } = await this.#container.item(id, id).read<ScanCursor>());
    } catch (e) {
      throw toStoreError(e, `read the scan cursor of ${container}`);
    }
    if (resource?.type === 'scanCursor') return strip(resource);
    return { id, type: 'scanCursor', container, marker: null, pass: 1, passStartedAt: now.toISOString(), scannedThisPass: 0, updatedAt: now.toISOString() };
  }

  /**
   * Stores the position reached, only if nobody moved the cursor since `read` (IfMatch its `_etag`; create when it
   * was never stored). 'conflict' when another run wrote first: its position stands. Every stored position was
   * reached by a run that started from the position it replaces, so the chain of positions has no gap.
   */
  async advance(read: ScanCursor, next: ScanCursorPosition, now: Date): Promise<ScanCursor | 'conflict'> {
    const { _etag: etag, ...body } = read;
    const doc: ScanCursor = { ...body, ...next, updatedAt: now.toISOString() };
    let resource: ScanCursor | undefined;
    try {
      ({ resource } =
        etag === undefined
          ? await this.#container.items.create<ScanCursor>(doc)
          : await this.#container.item(doc.id, doc.id).replace<ScanCursor>(doc, { accessCondition: { type: 'IfMatch', condition: etag } }));
    } catch (e) {
      if (isCosmosError(e, StatusCodes.Conflict) || isCosmosError(e, StatusCodes.PreconditionFailed) || isCosmosError(e, StatusCodes.NotFound)) return 'conflict';
      throw toStoreError(e, `write the scan cursor of ${read.container}`);
    }
    if (resource === undefined) throw new Error(`Cosmos DB returned no document for the scan cursor of ${read.container}`);
    return strip(resource);
  }
}

function strip(resource: ScanCursor): ScanCursor {
  const { id, type, container, marker, pass, passStartedAt, scannedThisPass, updatedAt, _etag } = resource;
  return { id, type, container, marker, pass, passStartedAt, scannedThisPass, updatedAt, ...(_etag === undefined ? {} : { _etag }) };
}
