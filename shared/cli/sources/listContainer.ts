/** The blobs of a container (under an optional prefix), keyless by default, or through a connection string (Azurite). */
import { createHash } from 'node:crypto';

import type { TokenCredential } from '@azure/identity';
import type { ContainerClient } from '@azure/storage-blob';
import { BlobServiceClient, RestError } from '@azure/storage-blob';

import { BLOB_RETRY_OPTIONS, downloadBlob } from '../../blob';
import { isTransientError } from '../../errors';
import { UsageError } from '../UsageError';
import type { ListedSource, ReadOutcome, SourceItem } from './sourceItem';

export interface ContainerRef {
  /** `https://<account>.blob.core.windows.net` or, path-style (Azurite), `http://127.0.0.1:10000/<account>`. */
  serviceUrl: string;
  container: string;
  prefix: string;
}

/** True for an http(s) URL: the label source is then a container. */
export function isContainerUrl(arg: string): boolean {
  return /^https?:\/\//i.test(arg);
}

/**
 * Splits a container URL. Azure uses `https://<account>.blob.core.windows.net/<container>/<prefix>`; emulators
 * (an IP address or localhost host) put the account first: `http://127.0.0.1:10000/<account>/<container>/<prefix>`.
 */
export function parseContainerUrl(url: string): ContainerRef {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new UsageError(`${url} is not a URL.`);
  }
  const parts = u.pathname.split('/').filter((p) => p !== '').map(decodeURIComponent);
  const pathStyle = /^(localhost|\d{1,3}(\.\d{1,3}){3}|\[[0-9a-f:]+\])$/i.test(u.hostname);
  const account = pathStyle ? parts.shift() : undefined;
  const container = parts.shift();
  if ((pathStyle && account === undefined) || container === undefined) {
    throw new UsageError(
      `${url} names no container. Use https://<account>.blob.core.windows.net/<container>[/<prefix>] (or http://127.0.0.1:10000/<account>/<container>[/<prefix>] for Azurite).`,
    );
  }
  const serviceUrl = `${u.protocol}//${u.host}${account === undefined ? '' : `/${account}`}`;
  return { serviceUrl, container, prefix: parts.join('/') };
}

export function containerClientFor(ref: ContainerRef, auth: { connectionString?: string; credential: () => TokenCredential }): ContainerClient {
  const service =
    auth.connectionString !== undefined
      ? BlobServiceClient.fromConnectionString(auth.connectionString, { retryOptions: BLOB_RETRY_OPTIONS })
      : new BlobServiceClient(ref.serviceUrl, auth.credential(), { retryOptions: BLOB_RETRY_OPTIONS });
  return service.getContainerClient(ref.container);
}

/** Lists every blob first (the total drives progress and ETA); a missing container or denied identity is a usage error. */
export async function listContainer(url: string, client: ContainerClient, prefix: string, maxBytes: number): Promise<ListedSource> {
  const names: string[] = [];
  try {
    for await (const blob of client.listBlobsFlat(prefix === '' ? {} : { prefix })) names.push(blob.name);
  } catch (e) {
    throw listingError(url, client.containerName, e);
  }
  if (names.length === 0) throw new UsageError(`The container ${client.containerName} has no blobs${prefix === '' ? '' : ` under ${JSON.stringify(prefix)}`} (${url}).`);
  const items: SourceItem[] = names.map((name) => ({
    kind: 'bytes',
    name,
    source: { kind: 'blob', location: client.getBlobClient(name).url },
    read: (signal) => readBlob(client, name, maxBytes, signal),
  }));
  return { kind: 'container', location: url, items };
}

async function readBlob(client: ContainerClient, name: string, maxBytes: number, signal: AbortSignal): Promise<ReadOutcome> {
  const t0 = performance.now();
  const ms = (): number => Math.round((performance.now() - t0) * 10) / 10;
  try {
    const r = await downloadBlob(client, name, { maxBytes, signal });
    if (r.kind === 'ok') return { kind: 'ok', bytes: r.bytes, size: r.bytes.length, sha256: createHash('sha256').update(r.bytes).digest('hex'), readMs: ms() };
    if (r.kind === 'too-large') return { kind: 'too-large', size: r.contentLength, sha256: null, readMs: ms() };
    return { kind: 'unreadable', code: 'blob_not_found', message: `The blob ${name} was deleted or replaced while the run read it.`, readMs: ms() };
  } catch (e) {
    const message = isTransientError(e) ? e.message : e instanceof Error ? e.message : String(e);
    return { kind: 'unreadable', code: 'storage_unavailable', message: `The blob ${name} could not be read: ${message}`, readMs: ms() };
  }
}

function listingError(url: string, container: string, e: unknown): Error {
  const status = e instanceof RestError ? e.statusCode : undefined;
  const code = e instanceof RestError ? String(e.code ?? '') : '';
  if (status === 404) return new UsageError(`The container ${container} does not exist (${url}): ${code || 'ContainerNotFound'}.`);
  if (status === 403 || status === 401) {
    return new UsageError(
      `The identity cannot list ${url} (${status} ${code}). Grant it "Storage Blob Data Reader" on the storage account or container (az login / managed identity), or pass --connection-string for Azurite.`,
    );
  }
  return new UsageError(`Listing ${url} failed: ${e instanceof Error ? e.message : String(e)}`);
}
