/** The one small shared document the slot ledger keeps: read with its version, written only if nobody wrote since. */

export interface SlotState {
  v: 1;
  /** Epoch ms before which no instance may send its next model request: the end of the last slot handed out. */
  nextFreeAt: number;
}

export interface VersionedSlotState {
  state: SlotState;
  etag: string;
}

export interface SlotStore {
  /** The current state and its version; undefined when the document does not exist yet. */
  read(): Promise<VersionedSlotState | undefined>;
  /**
   * Writes `state` if the document is still at `etag` (undefined: only if it does not exist yet). Resolves the new
   * version, or 'conflict' when another instance wrote first. Anything else throws.
   */
  write(state: SlotState, etag: string | undefined): Promise<{ etag: string } | 'conflict'>;
}
