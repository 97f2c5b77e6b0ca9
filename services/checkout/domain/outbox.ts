/**
 * The outbox relay: publishes every paid order's entry to the Bull queue
 * `fulfillment` (job id = order id, so a repeat adds no second job while the
 * first is kept) and marks it sent. While Redis is down the add times out, the
 * entry stays pending and the next pass tries again: nothing paid is lost.
 */
import { addJob, type Logger, type Queue, type WithLock } from '../../kit/index.js';
import type { CheckoutModels, OrderDoc } from '../models.js';

export interface FulfillmentJob {
  orderId: string;
}

export interface RelayDeps {
  models: CheckoutModels;
  queue: Queue<FulfillmentJob>;
  logger: Logger;
  now: () => number;
  /** The per-order lock of every order write (FerretDB loses concurrent updates to one document). */
  lock: WithLock;
}

/** Job options of every fulfillment job: retries with exponential backoff, failures kept as dead letters. */
export const FULFILLMENT_JOB_OPTIONS = { attempts: 5, backoff: { type: 'exponential', delay: 1_000 }, removeOnComplete: 10_000, removeOnFail: false } as const;

/** One relay pass; returns how many entries it published. */
export async function relayOutbox(deps: RelayDeps, batch = 100): Promise<number> {
  const pending = await deps.models.Order.find({ 'outbox.state': 'pending' }, { _id: 1 }).limit(batch).lean<Pick<OrderDoc, '_id'>[]>();
  let sent = 0;
  for (const { _id } of pending) {
    await addJob(deps.queue, { orderId: _id }, { ...FULFILLMENT_JOB_OPTIONS, jobId: _id });
    await deps.lock(_id, () => deps.models.Order.updateOne({ _id, 'outbox.state': 'pending' }, { $set: { 'outbox.state': 'sent', 'outbox.sentAt': new Date(deps.now()) } }));
    sent += 1;
  }
  return sent;
}
