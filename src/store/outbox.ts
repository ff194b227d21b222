/**
 * The outbox: durable delivery queues in the store (signals/: SSF push and poll, webhooks).
 *
 * An item is added once, with an id of its own (adding an id already queued changes nothing, so
 * a retried enqueue never delivers twice). A worker *claims* the items that are due: each claimed
 * item becomes due again `leaseMs` later, so another gateway does not take it meanwhile, and an
 * item whose claimer died comes back after the lease (at least once, never lost). The claimer
 * then removes it (delivered, or given up) or defers it (retry with back-off).
 */
export interface OutboxItem {
  id: string;
  payload: string;
  /** How many times it was claimed, this claim included. */
  attempts: number;
  /** When it is (next) due, ms. */
  dueAt: number;
}

/** `full`: the queue already holds `max` items; nothing was added (a bounded queue). */
export type OutboxAddResult = 'added' | 'exists' | 'full';

/** Names of queues and logs: they become part of store keys. */
const OUTBOX_NAME = /^[A-Za-z0-9_.:-]{1,200}$/;

export function checkOutboxName(name: string): void {
  if (!OUTBOX_NAME.test(name)) throw new RangeError(`invalid outbox name ${JSON.stringify(name)}`);
}
