/**
 * Saves and restores everything in a Cosmos DB account through its own REST API (@azure/cosmos): the in-memory
 * emulator server keeps nothing, so the local stack persists it as one JSON file.
 */
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import path from 'node:path';

import type { ContainerDefinition, CosmosClient, IndexingPolicy, PartitionKeyDefinition, UniqueKeyPolicy } from '@azure/cosmos';

export interface CosmosSnapshot {
  version: 1;
  savedAt: string;
  databases: Array<{
    id: string;
    containers: Array<{
      id: string;
      partitionKey?: PartitionKeyDefinition;
      indexingPolicy?: IndexingPolicy;
      uniqueKeyPolicy?: UniqueKeyPolicy;
      defaultTtl?: number;
      items: Array<Record<string, unknown>>;
    }>;
  }>;
}

export interface SnapshotCounts {
  databases: number;
  containers: number;
  items: number;
}

/** Properties the server assigns; a restored item gets fresh ones. */
const SYSTEM_PROPERTIES = ['_rid', '_self', '_etag', '_attachments', '_ts'];
/** Item writes in flight at once while restoring. */
const RESTORE_CONCURRENCY = 16;

export async function takeSnapshot(client: CosmosClient, now: Date = new Date()): Promise<CosmosSnapshot> {
  const snapshot: CosmosSnapshot = { version: 1, savedAt: now.toISOString(), databases: [] };
  const { resources: databases } = await client.databases.readAll().fetchAll();
  for (const db of databases) {
    const database = client.database(db.id);
    const { resources: containers } = await database.containers.readAll().fetchAll();
    const entry: CosmosSnapshot['databases'][number] = { id: db.id, containers: [] };
    for (const c of containers) {
      const { resources: items } = await database.container(c.id).items.readAll<Record<string, unknown>>().fetchAll();
      entry.containers.push({ ...definition(c), items: items.map(withoutSystemProperties) });
    }
    snapshot.databases.push(entry);
  }
  return snapshot;
}

function definition(c: ContainerDefinition): Omit<CosmosSnapshot['databases'][number]['containers'][number], 'items'> {
  return {
    id: c.id as string,
    ...(c.partitionKey === undefined ? {} : { partitionKey: c.partitionKey }),
    ...(c.indexingPolicy === undefined ? {} : { indexingPolicy: c.indexingPolicy }),
    ...(c.uniqueKeyPolicy === undefined ? {} : { uniqueKeyPolicy: c.uniqueKeyPolicy }),
    ...(c.defaultTtl === undefined ? {} : { defaultTtl: c.defaultTtl }),
  };
}

function withoutSystemProperties(item: Record<string, unknown>): Record<string, unknown> {
  const copy = { ...item };
  for (const p of SYSTEM_PROPERTIES) delete copy[p];
  return copy;
}

/** Creates what is missing and upserts every item, so restoring twice is harmless. */
export async function restoreSnapshot(client: CosmosClient, snapshot: CosmosSnapshot): Promise<SnapshotCounts> {
  const counts: SnapshotCounts = { databases: 0, containers: 0, items: 0 };
  for (const db of snapshot.databases) {
    const { database } = await client.databases.createIfNotExists({ id: db.id });
    counts.databases++;
    for (const c of db.containers) {
      const { items, ...def } = c;
      const { container } = await database.containers.createIfNotExists(def);
      counts.containers++;
      for (let i = 0; i < items.length; i += RESTORE_CONCURRENCY) {
        await Promise.all(items.slice(i, i + RESTORE_CONCURRENCY).map((item) => container.items.upsert(item)));
      }
      counts.items += items.length;
    }
  }
  return counts;
}

/**
 * The snapshot in `file`, or undefined when there is none. A file that is not a snapshot is moved aside (never
 * overwritten: it may be the only copy of someone's data) and reported through `onCorrupt`.
 */
export function readSnapshotFile(file: string, onCorrupt: (message: string) => void): CosmosSnapshot | undefined {
  if (!existsSync(file)) return undefined;
  try {
    const parsed = JSON.parse(readFileSync(file, 'utf8')) as Partial<CosmosSnapshot>;
    if (parsed.version !== 1 || !Array.isArray(parsed.databases)) throw new Error('not a version 1 snapshot');
    return parsed as CosmosSnapshot;
  } catch (e) {
    const aside = `${file}.unreadable-${Date.now()}`;
    renameSync(file, aside);
    onCorrupt(`${file} could not be read (${e instanceof Error ? e.message : String(e)}); moved to ${aside}, starting with an empty Cosmos DB`);
    return undefined;
  }
}

/** Writes to a temporary file and renames it over the old one, so a crash never leaves half a snapshot. */
export function writeSnapshotFile(file: string, snapshot: CosmosSnapshot): void {
  mkdirSync(path.dirname(file), { recursive: true });
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, JSON.stringify(snapshot));
  renameSync(tmp, file);
}
