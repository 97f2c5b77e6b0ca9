/**
 * A fulfillment worker SIGKILLed mid-job (docs/checkout.md, "Outbox and
 * fulfillment"): the worker is a child process (test/fulfillment/worker-process.ts)
 * with a slow carrier, killed once its job is active; a second worker picks the
 * job up through Bull's stalled-job check (lock 2 s here) and the order ships once.
 */
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import request from 'supertest';
import { systemClock } from '../../services/kit/index.js';
import type { Product } from '../helpers/catalog.js';
import { TEST_ADMIN_TOKEN, TEST_INTERNAL_TOKEN, testServers, uniqueName } from '../helpers/env.js';
import { killAll, killHard, startTsChild, type TsChild } from '../helpers/child.js';
import { BODY, startCheckoutStack, type CheckoutStack } from '../checkout/helpers.js';

const dbName = uniqueName(import.meta.url);
let s: CheckoutStack;
let mug: Product;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function startWorker(carrierLatencyMs: number): TsChild {
  const { mongoUri, redisUrl } = testServers();
  return startTsChild('test/fulfillment/worker-process.ts', {
    MONGODB_URI: mongoUri, MONGO_DB: `${dbName}_f`, REDIS_URL: redisUrl, QUEUE_PREFIX: `q_${dbName}`, CHECKOUT_URL: s.checkoutUrl,
    ADMIN_TOKEN: TEST_ADMIN_TOKEN, INTERNAL_TOKEN: TEST_INTERNAL_TOKEN, CARRIER_SIM_LATENCY_MS: String(carrierLatencyMs), FULFILLMENT_LOCK_MS: '2000', FULFILLMENT_CONCURRENCY: '1',
  });
}

before(async () => {
  s = await startCheckoutStack({ dbName, clock: systemClock });
  mug = await s.catalog.createProduct({ sku: 'MUG-K', slug: 'mug-k', name: 'Mug', price: { amount: 700, currency: 'EUR' } });
});
after(async () => {
  await killAll();
  await s.close();
});

describe('worker killed mid-job', () => {
  test('when the worker is SIGKILLed while its job books the carrier, then a second worker reruns the stalled job and the order ships exactly once', async () => {
    const token = (await request(s.cart.app.callback()).post('/api/cart/carts')).body.token as string;
    assert.equal((await request(s.cart.app.callback()).post('/api/cart/cart/lines').set('x-cart-token', token).send({ productId: mug.id, quantity: 1 })).status, 201);
    const res = await request(s.checkout.app.callback()).post('/api/checkout').set('x-cart-token', token).set('idempotency-key', `wk-${Date.now()}`).send(BODY);
    assert.equal(res.status, 201, JSON.stringify(res.body));
    const id = res.body.order.id as string;

    // A carrier call of 20 s: the kill lands while the job is in it.
    const first = startWorker(20_000);
    await first.waitFor(/ready/);
    assert.equal(await s.checkout.sweepers.outbox.runOnce(), 1);
    await first.waitFor(new RegExp(`active ${id}`));
    // Bounded wait until the job has moved the order to fulfilling (its first step, before the carrier call).
    for (let i = 0; i < 100 && (await s.models.Order.findById(id).lean())?.status !== 'fulfilling'; i += 1) await sleep(100);
    assert.equal((await s.models.Order.findById(id).lean())?.status, 'fulfilling');
    await killHard(first.child);
    assert.equal(first.child.signalCode, 'SIGKILL');
    assert.equal(await s.shipments.Shipment.countDocuments({ _id: id }), 0);

    const second = startWorker(1);
    await second.waitFor(new RegExp(`completed ${id}`));
    for (let i = 0; i < 100 && (await s.models.Order.findById(id).lean())?.status !== 'shipped'; i += 1) await sleep(100);
    assert.equal((await s.models.Order.findById(id).lean())?.status, 'shipped');
    assert.equal(await s.shipments.Shipment.countDocuments({ _id: id }), 1);
    assert.equal(await s.models.PaymentCharge.countDocuments({ orderId: id, status: 'captured' }), 1);
    const job = await s.queue.getJob(id);
    assert.ok(job);
    assert.equal(await job.isCompleted(), true);
    await killHard(second.child);
  });
});
