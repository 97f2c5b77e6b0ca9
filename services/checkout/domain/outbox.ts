/**
 * The outbox relay: publishes every paid order's entry to the Bull queue
 * `fulfillment` (job id = order id, so a repeat adds no second job while the
 * first is kept) and marks it sent. While Redis is down the add times out, the
 * entry stays pending and the next pass tries again: nothing paid is lost.
 *
 * `sent` means a Redis primary accepted the job, not that the job is safe:
 * Redis replicates asynchronously, so a primary that dies (and a Sentinel
 * failover, or a Redis pod recreated empty) can take a job it accepted with it.
 * The resend pass covers that: an order still `paid` or `fulfilling` whose job
 * was published (or last found in the queue) `afterMs` ago is looked up in the
 * queue; a job that is there (waiting, active, delayed, paused, failed) is left
 * alone, a job that is missing, or completed while the order is not shipped, is
 * published again. The worker is idempotent per order, so a resend ships once.
 */
import {
  addJob, bucketOf, createBucketMarks, jobPresence, readdJob, sweepDueBuckets, type Clock, type Logger, type Queue, type WithLock,
} from '../../kit/index.js';
import type { CheckoutModels, OrderDoc } from '../models.js';
import { updateOrderIf } from './orders.js';

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

/** Bucket size of `outboxBucket` (kit/time-buckets.ts). */
export const OUTBOX_CHECK_BUCKET_MS = 60_000;

/** The outbox fields that say "the job was in the queue at `at`": the resend pass looks again `afterMs` later. */
const seenAt = (at: number) => ({ 'outbox.checkedAt': new Date(at), outboxBucket: bucketOf(at, OUTBOX_CHECK_BUCKET_MS) });

/** Paid orders whose job is not in the queue yet: a top-level equality (models.ts `outboxPending`). */
export const RELAY_PENDING = { outboxPending: true } as const;

/** One relay pass; returns how many entries it published. */
export async function relayOutbox(deps: RelayDeps, batch = 100): Promise<number> {
  const pending = await deps.models.Order.find(RELAY_PENDING, { _id: 1 }).limit(batch).lean<Pick<OrderDoc, '_id'>[]>();
  let sent = 0;
  for (const { _id } of pending) {
    await addJob(deps.queue, { orderId: _id }, { ...FULFILLMENT_JOB_OPTIONS, jobId: _id });
    const now = deps.now();
    await deps.lock(_id, () => deps.models.Order.updateOne({ _id, 'outbox.state': 'pending' }, { $set: { 'outbox.state': 'sent', 'outbox.sentAt': new Date(now), outboxPending: false, ...seenAt(now) } }));
    sent += 1;
  }
  return sent;
}

export interface ResendDeps {
  models: CheckoutModels;
  queue: Queue<FulfillmentJob>;
  logger: Logger;
  clock: Clock;
  lock: WithLock;
  /** The whole-flow lock per order: one replica checks an order at a time, and never while a request or recovery moves it. */
  flowLock: WithLock;
}

export interface ResendOptions {
  /** A sent entry is checked this long after its job was published or last found in the queue. */
  afterMs: number;
  /** Most orders checked per pass. */
  batch?: number;
}

type Candidate = Pick<OrderDoc, '_id' | 'status' | 'outbox' | 'updatedAt'>;
const PROJECTION = { status: 1, outbox: 1, updatedAt: 1 };
/** Orders whose job fulfillment has not finished: `fulfilling` too, since a job lost while active leaves its order there. */
const AWAITING = ['paid', 'fulfilling'] as const;
const checkedAtOf = (order: Candidate) => order.outbox?.checkedAt ?? order.outbox?.sentAt ?? order.updatedAt;

/**
 * One resend pass: finds sent entries due for a check, bucket by bucket with
 * equality queries (`status`, `outboxBucket`), checks at most `batch`, and
 * returns how many it published again.
 */
export async function resendLostJobs(deps: ResendDeps, options: ResendOptions): Promise<number> {
  const { Order } = deps.models;
  const dueAt = deps.clock.now() - options.afterMs;
  let resent = 0;
  await sweepDueBuckets<Candidate>({
    name: 'orders:outbox-sent', marks: createBucketMarks(Order.db), sizeMs: OUTBOX_CHECK_BUCKET_MS, dueAt, batch: options.batch ?? 50,
    load: async (bucket) => (await Promise.all(AWAITING.map((status) => Order.find({ status, outboxBucket: bucket }, PROJECTION).lean<Candidate[]>()))).flat(),
    // Without a mark (a new database, or orders sent before this pass existed): once, every awaiting order.
    loadAllDue: async () => (await Promise.all(AWAITING.map((status) => Order.find({ status, 'outbox.state': 'sent' }, PROJECTION).lean<Candidate[]>()))).flat(),
    timeOf: checkedAtOf,
    handle: async (candidate) => {
      if (await checkOne(deps, candidate._id, dueAt)) resent += 1;
    },
  });
  return resent;
}

/** Checks one order's job; true when it published it again. Throws (stopping the pass) when Redis or MongoDB cannot be reached. */
async function checkOne(deps: ResendDeps, id: string, dueAt: number): Promise<boolean> {
  return deps.flowLock(id, async () => {
    const order = await deps.models.Order.findById(id, PROJECTION).lean<Candidate>();
    // Shipped, cancelled, or checked by another replica since it was read.
    if (!order || !(AWAITING as readonly string[]).includes(order.status) || order.outbox?.state !== 'sent' || checkedAtOf(order).getTime() > dueAt) return false;
    const now = deps.clock.now();
    const { presence, job } = await jobPresence(deps.queue, id);
    if (presence === 'queued') {
      // There (maybe behind a backlog, or a dead letter an admin retries): look again `afterMs` from now.
      await updateOrderIf(deps, id, [...AWAITING], seenAt(now) as Partial<OrderDoc>, { 'outbox.state': 'sent' });
      return false;
    }
    await readdJob(deps.queue, job, { orderId: id }, { ...FULFILLMENT_JOB_OPTIONS, jobId: id });
    await updateOrderIf(deps, id, [...AWAITING], { ...seenAt(now), 'outbox.resends': (order.outbox.resends ?? 0) + 1 } as Partial<OrderDoc>, { 'outbox.state': 'sent' });
    deps.logger.warn({ orderId: id, status: order.status, job: presence }, 'fulfillment job not in the queue (lost with a Redis primary?); published again');
    return true;
  });
}
