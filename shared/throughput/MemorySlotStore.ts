/**
 * A SlotStore in memory, for instances that share a process (the burst benchmark's simulated instances, tests).
 * Each call yields to the event loop first, as a network round trip would, so concurrent writers really conflict.
 */
import type { SlotState, SlotStore, VersionedSlotState } from './SlotStore';

export class MemorySlotStore implements SlotStore {
  private current: VersionedSlotState | undefined;
  private version = 0;
  /** Calls made, for tests and the benchmark's report. */
  readonly calls = { reads: 0, writes: 0, conflicts: 0 };

  constructor(private readonly roundTrip: () => Promise<void> = () => new Promise((r) => setImmediate(r))) {}

  async read(): Promise<VersionedSlotState | undefined> {
    this.calls.reads++;
    await this.roundTrip();
    return this.current === undefined ? undefined : { state: { ...this.current.state }, etag: this.current.etag };
  }

  async write(state: SlotState, etag: string | undefined): Promise<{ etag: string } | 'conflict'> {
    this.calls.writes++;
    await this.roundTrip();
    if (this.current?.etag !== etag) {
      this.calls.conflicts++;
      return 'conflict';
    }
    this.current = { state: { ...state }, etag: `"${++this.version}"` };
    return { etag: this.current.etag };
  }
}
