/**
 * The checkout process SIGKILLed at each step of the flow (docs/checkout.md, "What
 * each failure does"): one real checkout process per crash point
 * (test/checkout/checkout-process.ts), all killed mid-request at once; then the
 * surviving replica (this process's checkout app, same database and locks) runs
 * recovery and the shopper retries with the same key. Unlike crash.test.ts, the
 * dead process releases nothing: its flow lock and its idempotency key stay
 * behind until their leases run out.
 */
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import request from 'supertest';
import { systemClock } from '../../services/kit/index.js';
import type { CrashPoint } from '../../services/checkout/domain/checkout.js';
import type { OrderDoc } from '../../services/checkout/models.js';
import type { Product } from '../helpers/catalog.js';
import { killAll, startTsChild } from '../helpers/child.js';
import { TEST_ADMIN_TOKEN, TEST_CUSTOMER_TOKEN_SECRET, TEST_INTERNAL_TOKEN, testServers, uniqueName } from '../helpers/env.js';
import { admin, inventoryCalls } from '../inventory/helpers.js';
import { assertRecovered, BODY, CRASH_EXPECT, startCheckoutStack, type CheckoutStack } from './helpers.js';

const dbName = uniqueName(import.meta.url);
let s: CheckoutStack;
let sneaker: Product;
const cartApi = () => request(s.cart.app.callback());
const api = () => request(s.checkout.app.callback());
const { api: invApi } = inventoryCalls(() => s.inv);
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

const POINTS = Object.keys(CRASH_EXPECT) as CrashPoint[];
/** Per crash point: the cart token, the key, how the killed request ended, the settled order. */
const runs = new Map<CrashPoint, { token: string; key: string; answer: string; order?: OrderDoc; exit?: string }>();

before(async () => {
  s = await startCheckoutStack({ dbName, clock: systemClock });
  sneaker = await s.catalog.createProduct({ sku: 'SNK-K', slug: 'sneaker-k', name: 'Sneaker', price: { amount: 10000, currency: 'EUR' }, limitedQuantity: true, maxPerOrder: 2 });
  await invApi().put('/api/inventory/stock/SNK-K').set(admin).send({ onHand: 50 });
  const { mongoUri, redisUrl } = testServers();
  // One checkout process per crash point, all crashing at the same time.
  await Promise.all(POINTS.map(async (point) => {
    const token = (await cartApi().post('/api/cart/carts')).body.token as string;
    assert.equal((await cartApi().post('/api/cart/cart/lines').set('x-cart-token', token).send({ productId: sneaker.id, quantity: 2 })).status, 201);
    const proc = startTsChild('test/checkout/checkout-process.ts', {
      CRASH_AT: point, MONGO_DB: dbName, LOCK_PREFIX: `lock:${dbName}`, MONGODB_URI: mongoUri, REDIS_URL: redisUrl, QUEUE_PREFIX: `q_${dbName}`,
      ADMIN_TOKEN: TEST_ADMIN_TOKEN, INTERNAL_TOKEN: TEST_INTERNAL_TOKEN, CUSTOMER_TOKEN_SECRET: TEST_CUSTOMER_TOKEN_SECRET,
      CART_URL: s.cartUrl, INVENTORY_URL: s.inv.url, EDGE_EXEMPT_CIDRS: '0.0.0.0/0,::/0', PAYMENT_TIMEOUT_MS: '1500', LOG_LEVEL: 'silent',
    });
    const url = (await proc.waitFor(/listening \S+/)).slice('listening '.length);
    const exited = new Promise<string>((resolve) => proc.child.once('exit', (code, signal) => resolve(signal ?? `code ${code}`)));
    const key = `kill-${point}-${Date.now()}`;
    const answer = await fetch(`${url}/api/checkout`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-cart-token': token, 'idempotency-key': key }, body: JSON.stringify(BODY), signal: AbortSignal.timeout(20_000) })
      .then((res) => `status ${res.status}`, (error: Error) => `no answer (${error.cause instanceof Error ? error.cause.message : error.message})`);
    runs.set(point, { token, key, answer, exit: await exited });
  }));
  // The surviving replica's recovery, as its sweeper would run it, until every order is settled (bounded).
  for (let pass = 0; pass < 60; pass += 1) {
    await s.checkout.sweepers.recovery.runOnce().catch(() => 0);
    const orders = await s.models.Order.find({ idempotencyKey: { $regex: ':kill-' } }).lean<OrderDoc[]>();
    const settled = orders.filter((o) => o.status !== 'pending' && o.cartCleared === (o.status === 'paid') && (o.status === 'paid' || o.compensated));
    if (settled.length === POINTS.length) break;
    await sleep(500);
  }
  for (const run of runs.values()) run.order = (await s.models.Order.findOne({ idempotencyKey: { $regex: `:${run.key}$` } }).lean<OrderDoc>()) ?? undefined;
});

after(async () => {
  await killAll();
  await s?.close();
});

describe('checkout SIGKILLed at each step, then recovery on the surviving replica', () => {
  for (const point of POINTS) {
    test(`when the process is killed at "${point}", then one ${CRASH_EXPECT[point]} order, at most one capture, the hold ${CRASH_EXPECT[point] === 'paid' ? 'committed' : point === 'created' ? 'still the cart\'s' : 'released'}, and the retry with the same key answers it`, async () => {
      const run = runs.get(point);
      assert.ok(run);
      assert.equal(run.exit, 'SIGKILL', `the process died by SIGKILL at ${point}`);
      assert.match(run.answer, /^no answer/, 'the shopper got no answer from the killed process');
      const order = run.order;
      assert.ok(order, 'the order exists');
      await assertRecovered(s, order, point);
      // The storefront's retry: the dead request's key lease (10 s) runs out, then the settled order answers.
      let retry = await api().post('/api/checkout').set('x-cart-token', run.token).set('idempotency-key', run.key).send(BODY);
      for (let i = 0; i < 10 && retry.status === 409 && retry.body.type === 'urn:problem:in_progress'; i += 1) {
        retry = await api().post('/api/checkout').set('x-cart-token', run.token).set('idempotency-key', run.key).send(BODY);
      }
      assert.equal(retry.status, order.status === 'paid' ? 201 : 402, JSON.stringify(retry.body));
      assert.equal(retry.body.order?.id ?? retry.body.orderId, order._id);
      assert.equal(await s.models.Order.countDocuments({ idempotencyKey: order.idempotencyKey }), 1);
    });
  }
});
