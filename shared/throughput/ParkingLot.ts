/** Where an event that cannot be served now waits for the quota: a Storage queue in Azure and on the dev host. */
export interface ParkingLot<T> {
  /** Keeps `item` out of sight for `delayMs`, then hands it to a drainer. Resolves once it is durably stored. */
  park(item: T, delayMs: number): Promise<void>;
  /** Items parked and not yet drained (visible or not): the deployment's backlog, for levelling the next delay. */
  backlog(): Promise<number>;
}
