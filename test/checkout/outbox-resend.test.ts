/**
 * Fulfillment jobs lost with a failed-over Redis primary (docs/redis-failover.md,
 * docs/checkout.md "Outbox and fulfillment"): the relay marks an entry `sent` once
 * a primary accepted the job, and Redis replicates asynchronously, so the job can
 * vanish with that primary. The loss is simulated by removing the job (or moving
 * it between Bull's lists) in Redis; the resend pass must publish it again, and
 * leave alone a job that is still in the queue.
 */
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import request from 'supertest';
import { systemClock } from '../../services/kit/index.js';
import type { Product } from '../helpers/catalog.js';
import { uniqueName } from '../helpers/env.js';
import { BODY, startCheckoutStack, type CheckoutStack } from './helpers.js';

const dbName = uniqueName(import.meta.url);
/** The resend pass looks at a sent entry this long after its job was published or last seen. */
const AFTER_MS = 300;
let s: CheckoutStack;
let mug: Product;
let seq = 0;
const cartApi = () => request(s.cart.app.callback());
const api = () => request(s.checkout.app.callback());
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const queueKey = (list: string) => `q_${dbName}:fulfillment:${list}`;

async function paidOrder(): Promise<string> {
  const token = (await cartApi().post('/api/cart/carts')).body.token as string;
  assert.equal((await cartApi().post('/api/cart/cart/lines').set('x-cart-token', token).send({ productId: mug.id, quantity: 1 })).status, 201);
  const res = await api().post('/api/checkout').set('x-cart-token', token).set('idempotency-key', `resend-${process.pid}-${seq++}`).send(BODY);
  assert.equal(res.status, 201, JSON.stringify(res.body));
  return res.body.order.id as string;
}

async function relayed(id: string) {
  await s.checkout.sweepers.outbox.runOnce();
  const order = await s.models.Order.findById(id).lean();
  assert.equal(order?.outbox.state, 'sent');
  return order!;
}

const stateOf = async (id: string) => (await s.queue.getJob(id))?.getState() ?? null;

/** Polls `probe` (bounded) until it answers truthy. */
async function until(what: string, probe: () => Promise<boolean>, tries = 200): Promise<void> {
  for (let i = 0; i < tries; i += 1) {
    if (await probe()) return;
    await sleep(100);
  }
  throw new Error(`gave up waiting for ${what}`);
}

before(async () => {
  s = await startCheckoutStack({ dbName, clock: systemClock, env: { OUTBOX_RESEND_AFTER_MS: String(AFTER_MS) } });
  mug = await s.catalog.createProduct({ sku: 'MUG-RS', slug: 'mug-rs', name: 'Mug', price: { amount: 900, currency: 'EUR' } });
});
after(() => s?.close());

describe('resend of fulfillment jobs lost with a Redis primary', () => {
  test('when a sent order\'s job is deleted from Redis, then the resend pass publishes it again after the grace period, a job still queued is left alone, and the order ships once', async () => {
    const id = await paidOrder();
    const sent = await relayed(id);
    assert.equal(await stateOf(id), 'waiting');

    // The job is in the queue (no worker yet): left alone, checked again AFTER_MS later.
    await sleep(AFTER_MS + 100);
    assert.equal(await s.checkout.sweepers.resend.runOnce(), 0);
    assert.equal(await stateOf(id), 'waiting');
    const seen = await s.models.Order.findById(id).lean();
    assert.ok(seen!.outbox.checkedAt!.getTime() > sent.outbox.checkedAt!.getTime(), 'the check was recorded');

    // The primary that accepted the job dies before replicating it: the new primary has no such job.
    await (await s.queue.getJob(id))!.remove();
    assert.equal(await s.queue.getJob(id), null);
    assert.equal(await s.checkout.sweepers.resend.runOnce(), 0, 'not before the grace period');
    await sleep(AFTER_MS + 100);
    assert.equal(await s.checkout.sweepers.resend.runOnce(), 1);
    assert.equal(await stateOf(id), 'waiting');
    assert.equal((await s.models.Order.findById(id).lean())?.outbox.resends, 1);
    assert.equal(await s.checkout.sweepers.resend.runOnce(), 0, 'published once');

    s.fulfillment.startWorker();
    await until('the order shipped', async () => (await s.models.Order.findById(id).lean())?.status === 'shipped');
    assert.equal(await s.shipments.Shipment.countDocuments({ _id: id }), 1);
    await sleep(AFTER_MS + 100);
    assert.equal(await s.checkout.sweepers.resend.runOnce(), 0, 'a shipped order is not looked at again');
  });

  test('when a fulfilling order\'s job is gone, or completed while the order is not shipped, then it is published again; a dead letter is left for an admin', async () => {
    // The worker of the first test runs: the queue is paused (new jobs wait in its `paused` list) while the lists are rearranged.
    await s.queue.pause();
    const [fulfilling, completed, dead] = [await paidOrder(), await paidOrder(), await paidOrder()];
    await s.checkout.sweepers.outbox.runOnce();
    assert.deepEqual(await Promise.all([fulfilling, completed, dead].map(stateOf)), ['paused', 'paused', 'paused']);
    // The worker had moved the order to `fulfilling` when its job was lost with the primary.
    await s.models.Order.updateOne({ _id: fulfilling }, { $set: { status: 'fulfilling' } });
    await (await s.queue.getJob(fulfilling))!.remove();
    // A job left in the completed set while its order is still paid (what a half-replicated primary can leave).
    assert.equal(await s.redis.lrem(queueKey('paused'), 0, completed), 1);
    await s.redis.zadd(queueKey('completed'), Date.now(), completed);
    // A dead letter: failed after its attempts; an admin retries it from the dead-letter list.
    assert.equal(await s.redis.lrem(queueKey('paused'), 0, dead), 1);
    await s.redis.zadd(queueKey('failed'), Date.now(), dead);
    assert.equal(await stateOf(completed), 'completed');
    assert.equal(await stateOf(dead), 'failed');

    await sleep(AFTER_MS + 100);
    assert.equal(await s.checkout.sweepers.resend.runOnce(), 2);
    assert.equal(await stateOf(dead), 'failed', 'a dead letter stays where it is');
    await s.queue.resume();
    await until('both orders shipped', async () => (await s.models.Order.countDocuments({ _id: { $in: [fulfilling, completed] }, status: 'shipped' })) === 2);
    assert.equal((await s.models.Order.findById(dead).lean())?.status, 'paid');
    assert.equal(await s.shipments.Shipment.countDocuments({ _id: { $in: [fulfilling, completed, dead] } }), 2);
  });
});
