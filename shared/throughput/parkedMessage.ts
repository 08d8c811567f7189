/** The body of a parked event's queue message: the Event Grid event as delivered, and how often it was parked. */

export interface ParkedMessage {
  v: 1;
  /** The blob event exactly as Event Grid delivered it; processBlobCreated checks it against the blob again. */
  event: unknown;
  /** Parks so far, this one included. */
  parks: number;
  parkedAt: string;
}

/** Queue messages are base64 (the Functions queue trigger's default `messageEncoding`). */
export function encodeParkedMessage(m: ParkedMessage): string {
  return Buffer.from(JSON.stringify(m), 'utf8').toString('base64');
}

/**
 * Reads a message as the queue trigger hands it over (already decoded and JSON-parsed by the host) or as raw text
 * (base64 or JSON, the dev host's drainer). Undefined for anything that is not a parked event: a poison message.
 */
export function readParkedMessage(raw: unknown): ParkedMessage | undefined {
  let value = raw;
  if (typeof value === 'string') {
    const text = /^[A-Za-z0-9+/=\s]+$/.test(value) ? Buffer.from(value, 'base64').toString('utf8') : value;
    try {
      value = JSON.parse(text) as unknown;
    } catch {
      return undefined;
    }
  }
  if (typeof value !== 'object' || value === null) return undefined;
  const m = value as Partial<ParkedMessage>;
  if (m.v !== 1 || typeof m.parks !== 'number' || !Number.isInteger(m.parks) || m.parks < 1 || m.event === undefined || typeof m.parkedAt !== 'string') return undefined;
  return { v: 1, event: m.event, parks: m.parks, parkedAt: m.parkedAt };
}
