/**
 * checkout_orders_total (the dashboard's Checkouts panel) and checkout_orders_stuck
 * (the OrdersStuck alert): counted once per order, and set by the recovery pass.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import request from 'supertest';
import { systemClock } from '../../services/kit/index.js';
import type { Product } from '../helpers/catalog.js';
import { uniqueName } from '../helpers/env.js';
import { admin } from '../inventory/helpers.js';
import { ADDRESS, BODY, startCheckoutStack, type CheckoutStack } from './helpers.js';

let s: CheckoutStack;
let mug: Product;
const cartApi = () => request(s.cart.app.callback());
const api = () => request(s.checkout.app.callback());
let keySeq = 0;
const newKey = () => `metrics-${process.pid}-${keySeq++}`;

before(async () => {
  // Five minutes, the default, made explicit: the test's stuck order is older, its fresh one younger.
  s = await startCheckoutStack({ dbName: uniqueName(import.meta.url), clock: systemClock, env: { CHECKOUT_STUCK_ALERT_AFTER_MS: '300000' } });
  mug = await s.catalog.createProduct({ sku: 'MUG-M', slug: 'mug-m', name: 'Mug', price: { amount: 1500, currency: 'EUR' } });
});
after(() => s.close());

/** Samples of one metric by its `outcome` label (or `''` without labels), as /metrics shows them. */
async function samples(name: string): Promise<Record<string, number>> {
  const text = (await api().get('/metrics').expect(200)).text;
  const found: Record<string, number> = {};
  for (const [, labels, value] of text.matchAll(new RegExp(`^${name}(?:\\{([^}]*)\\})? (\\S+)$`, 'gm'))) {
    found[/outcome="([^"]+)"/.exec(labels ?? '')?.[1] ?? ''] = Number(value);
  }
  return found;
}

async function checkoutOnce(): Promise<number> {
  const token = (await cartApi().post('/api/cart/carts')).body.token as string;
  assert.equal((await cartApi().post('/api/cart/cart/lines').set('x-cart-token', token).send({ productId: mug.id, quantity: 1 })).status, 201);
  const key = newKey();
  const res = await api().post('/api/checkout').set('x-cart-token', token).set('idempotency-key', key).send(BODY);
  // The same key again: a replay, not a second checkout.
  await api().post('/api/checkout').set('x-cart-token', token).set('idempotency-key', key).send(BODY);
  return res.status;
}

test('when the checkout app starts, then every checkout outcome is a series at 0 and no order is stuck', async () => {
  assert.deepEqual(await samples('checkout_orders_total'), { paid: 0, payment_failed: 0, cancelled: 0 });
  assert.deepEqual(await samples('checkout_orders_stuck'), { '': 0 });
});

test('when one checkout is paid and one declined (each sent twice with its key), then each outcome counts once', async () => {
  assert.equal(await checkoutOnce(), 201);
  s.knobs.declineRate = 1;
  try {
    assert.equal(await checkoutOnce(), 402);
  } finally {
    s.knobs.declineRate = 0;
  }
  assert.deepEqual(await samples('checkout_orders_total'), { paid: 1, payment_failed: 1, cancelled: 0 });
});

test('when an order recovery cannot move has been pending longer than CHECKOUT_STUCK_ALERT_AFTER_MS, then the recovery pass sets checkout_orders_stuck to the count', async () => {
  const now = Date.now();
  const order = (id: string, createdAgoMs: number) => ({
    _id: id, status: 'pending', step: 'created', idempotencyKey: `stuck:${id}`, cartId: `cart-${id}`, cartVersion: `cart-${id}:1`, cartLineIds: [], email: 'stuck@example.com',
    shippingAddress: ADDRESS, lines: [], total: { amount: 0, currency: 'EUR' }, outbox: { state: 'none', sentAt: null }, cartCleared: false, compensated: false,
    // Claimed by another replica for the next minute: this pass leaves them alone, as it would an order whose recovery keeps failing.
    claimedUntil: new Date(now + 60_000), createdAt: new Date(now - createdAgoMs), updatedAt: new Date(now - createdAgoMs),
  });
  await s.models.Order.create([order('o_stuck_old_0000000000001', 20 * 60_000), order('o_stuck_new_0000000000001', 60_000)]);
  const ran = await api().post('/api/checkout/admin/recovery').set(admin);
  assert.equal(ran.status, 200, JSON.stringify(ran.body));
  assert.deepEqual(await samples('checkout_orders_stuck'), { '': 1 });
  // Once settled, the next pass clears it.
  await s.models.Order.updateOne({ _id: 'o_stuck_old_0000000000001' }, { $set: { status: 'payment_failed', reason: 'abandoned', compensated: true } });
  await api().post('/api/checkout/admin/recovery').set(admin).expect(200);
  assert.deepEqual(await samples('checkout_orders_stuck'), { '': 0 });
});
