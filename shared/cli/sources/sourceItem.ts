/** One image to label, whatever it came from: bytes to read (file, blob) or a record the service already holds. */
import type { PredictionRecord, PredictionSource } from '../../runs';

export type ReadOutcome =
  | { kind: 'ok'; bytes: Buffer; size: number; sha256: string; readMs: number }
  /** Larger than the byte limit: not buffered, but hashed and measured so the record still says what it was. */
  | { kind: 'too-large'; size: number; sha256: string | null; readMs: number }
  /** Could not be read at all (dangling link, a directory, permissions, the blob vanished). */
  | { kind: 'unreadable'; code: string; message: string; readMs: number };

export type SourceItem =
  | { kind: 'bytes'; name: string; source: PredictionSource; read: (signal: AbortSignal) => Promise<ReadOutcome> }
  /** From the service's documents: nothing to compute, the record is written as is. */
  | { kind: 'record'; name: string; record: PredictionRecord };

export interface ListedSource {
  kind: 'folder' | 'glob' | 'container' | 'service';
  /** What the user named, for config.json and messages. */
  location: string;
  items: SourceItem[];
}
