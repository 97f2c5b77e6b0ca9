/**
 * Redis stopped during checkout, then restarted (docs/checkout.md, "What each
 * failure does"). Checkout's Redis (flow and order locks, the `fulfillment`
 * queue) is a redis-server of this test's own on a free loopback port, so
 * stopping it touches no other test; cart and inventory keep the shared one.
 */
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import request from 'supertest';
import { systemClock } from '../../services/kit/index.js';
import { startRedis } from '../../scripts/lib/stack.js';
import type { Managed } from '../../scripts/lib/procs.js';
import type { Product } from '../helpers/catalog.js';
import { freePort } from '../helpers/ferretdb.js';
import { uniqueName } from '../helpers/env.js';
import { BODY, startCheckoutStack, type CheckoutStack } from './helpers.js';

const dbName = uniqueName(import.meta.url);
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'checkout-redis-'));
let port: number;
let redis: Managed | undefined;
let s: CheckoutStack;
let mug: Product;
const cartApi = () => request(s.cart.app.callback());
const api = () => request(s.checkout.app.callback());
let seq = 0;
const newKey = () => `ro-${process.pid}-${Date.now()}-${seq++}`;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const startOwnRedis = () => startRedis(port, dir, path.join(dir, 'redis.log'));

async function filledCart(): Promise<string> {
  const token = (await cartApi().post('/api/cart/carts')).body.token as string;
  assert.equal((await cartApi().post('/api/cart/cart/lines').set('x-cart-token', token).send({ productId: mug.id, quantity: 1 })).status, 201);
  return token;
}

/** Polls `probe` (bounded) until it answers truthy. */
async function until<T>(what: string, probe: () => Promise<T | null | undefined | false>, tries = 300): Promise<T> {
  for (let i = 0; i < tries; i += 1) {
    const value = await probe();
    if (value) return value;
    await sleep(100);
  }
  throw new Error(`gave up waiting for ${what}`);
}

before(async () => {
  port = await freePort();
  redis = await startOwnRedis();
  s = await startCheckoutStack({ dbName, clock: systemClock, redisUrl: `redis://127.0.0.1:${port}` });
  mug = await s.catalog.createProduct({ sku: 'MUG-R', slug: 'mug-r', name: 'Mug', price: { amount: 1200, currency: 'EUR' } });
  s.fulfillment.startWorker();
});

after(async () => {
  // Redis must be up again for a clean close of the queue and locks.
  await s?.close();
  await redis?.stop();
  fs.rmSync(dir, { recursive: true, force: true });
});

describe('Redis stopped during checkout', () => {
  test('when Redis is stopped during checkout, then restarted, then every acknowledged order reaches the queue and ships once, and outage checkouts answer 503 + Retry-After without a charge', async (t) => {
    const acknowledged: string[] = [];
    // Before the outage: paid, waiting in the outbox (not relayed yet).
    for (let i = 0; i < 3; i += 1) {
      const res = await api().post('/api/checkout').set('x-cart-token', await filledCart()).set('idempotency-key', newKey()).send(BODY);
      assert.equal(res.status, 201, JSON.stringify(res.body));
      acknowledged.push(res.body.order.id as string);
    }

    await redis?.stop();
    redis = undefined;
    // During the outage: the flow lock lives in Redis and is taken before the charge (docs/checkout.md): 503 + Retry-After, nothing charged.
    const refusedKeys: string[] = [];
    for (let i = 0; i < 4; i += 1) {
      const key = newKey();
      const res = await api().post('/api/checkout').set('x-cart-token', await filledCart()).set('idempotency-key', key).send(BODY);
      if (res.status === 201 || res.status === 202) {
        acknowledged.push(res.body.order.id as string);
        continue;
      }
      assert.equal(res.status, 503, JSON.stringify(res.body));
      assert.ok(Number(res.headers['retry-after']) > 0, `Retry-After: ${res.headers['retry-after']}`);
      refusedKeys.push(key);
    }
    // The relay cannot publish while Redis is down: the entries stay pending.
    await s.checkout.sweepers.outbox.runOnce().catch(() => 0);
    assert.equal(await s.models.Order.countDocuments({ _id: { $in: acknowledged }, 'outbox.state': 'pending' }), acknowledged.length);

    redis = await startOwnRedis();
    // After the restart: clients reconnect and checkout works again.
    const after = await until('a checkout after the restart', async () => {
      const res = await api().post('/api/checkout').set('x-cart-token', await filledCart()).set('idempotency-key', newKey()).send(BODY);
      return res.status === 201 ? (res.body.order.id as string) : null;
    }, 50);
    acknowledged.push(after);

    await until('the outbox drained', async () => {
      await s.checkout.sweepers.outbox.runOnce().catch(() => 0);
      return (await s.models.Order.countDocuments({ _id: { $in: acknowledged }, 'outbox.state': { $ne: 'sent' } })) === 0;
    });
    await until('every acknowledged order shipped', async () => (await s.models.Order.countDocuments({ _id: { $in: acknowledged }, status: 'shipped' })) === acknowledged.length);
    // The refused checkouts' orders (created before the lock failed) are settled by recovery once they are stuck.
    await sleep(1_100);
    await s.checkout.sweepers.recovery.runOnce();

    for (const id of acknowledged) {
      assert.equal(await s.shipments.Shipment.countDocuments({ _id: id }), 1, `shipments of ${id}`);
      const captures = await s.models.PaymentCapture.countDocuments({ orderId: id });
      assert.equal(captures, 1, `captures of ${id}`);
    }
    assert.equal(await s.shipments.Shipment.countDocuments(), acknowledged.length);
    for (const key of refusedKeys) {
      const orders = await s.models.Order.find({ idempotencyKey: { $regex: `:${key}$` } }).lean();
      assert.ok(orders.length <= 1);
      for (const order of orders) {
        assert.notEqual(order.status, 'shipped');
        assert.equal(await s.models.PaymentCapture.countDocuments({ orderId: order._id }), 0, `a refused checkout was charged: ${order._id} ${order.status}`);
      }
    }
    t.diagnostic(`acknowledged ${acknowledged.length} (of which during the outage ${acknowledged.length - 4}), refused with 503 during the outage ${refusedKeys.length}`);
    // Every job of the queue ran once per order: one job per acknowledged order (job id = order id).
    const jobs = await s.queue.getJobs(['completed', 'failed', 'active', 'waiting', 'delayed']);
    assert.deepEqual(jobs.map((job) => String(job.id)).sort(), [...acknowledged].sort());
  });

  test('when Redis dies in the middle of a checkout (after the charge), then the shopper\'s retry with the same key completes once Redis is back, within seconds, charged once', async () => {
    const token = await filledCart();
    const key = newKey();
    s.checkout.hooks.checkpoint = async (at) => {
      if (at !== 'charged') return;
      s.checkout.hooks.checkpoint = undefined;
      // Stops Redis under the running request (SIGTERM: the AOF keeps the flow lock it holds).
      await redis?.stop();
      redis = undefined;
    };
    const first = await api().post('/api/checkout').set('x-cart-token', token).set('idempotency-key', key).send(BODY);
    assert.equal(first.status, 503, JSON.stringify(first.body));
    assert.equal(redis, undefined);
    await sleep(500);
    redis = await startOwnRedis();
    // The storefront's retries (docs/checkout.md): same key, a few seconds in all. The flow lock
    // the first request kept (Redis's AOF keeps it over the restart) must not outlast them.
    const started = Date.now();
    const retried = await until('the retried checkout', async () => {
      const res = await api().post('/api/checkout').set('x-cart-token', token).set('idempotency-key', key).send(BODY);
      return res.status === 201 ? res : null;
    }, 30);
    const orderId = retried.body.order.id as string;
    assert.equal(await s.models.PaymentCapture.countDocuments({ orderId }), 1);
    assert.equal(await s.models.Order.countDocuments({ idempotencyKey: { $regex: `:${key}$` } }), 1);
    assert.ok(Date.now() - started < 20_000, `the retry succeeded ${Date.now() - started} ms after Redis returned`);
  });
});
