import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import request from 'supertest';
import { systemClock } from '../../services/kit/index.js';
import type { CrashPoint } from '../../services/checkout/domain/checkout.js';
import type { Product } from '../helpers/catalog.js';
import { uniqueName } from '../helpers/env.js';
import { admin, inventoryCalls } from '../inventory/helpers.js';
import { assertRecovered, BODY, CRASH_EXPECT, startCheckoutStack, type CheckoutStack } from './helpers.js';

/**
 * The flow stopped between each pair of steps (the checkpoint throws, so the
 * request ends there and nothing of it continues: what a crash leaves), then
 * recovery runs, in this process (fast, one point at a time). The same points
 * with a real SIGKILL of a checkout process, which leaves its locks and
 * idempotency key behind, are in crash-kill.test.ts.
 */
const dbName = uniqueName(import.meta.url);
let s: CheckoutStack;
let sneaker: Product;
const cartApi = () => request(s.cart.app.callback());
const api = () => request(s.checkout.app.callback());
const { api: invApi } = inventoryCalls(() => s.inv);

class Crash extends Error {}

before(async () => {
  s = await startCheckoutStack({ dbName, clock: systemClock });
  sneaker = await s.catalog.createProduct({ sku: 'SNK-C', slug: 'sneaker-c', name: 'Sneaker', price: { amount: 10000, currency: 'EUR' }, limitedQuantity: true, maxPerOrder: 2 });
  await invApi().put('/api/inventory/stock/SNK-C').set(admin).send({ onHand: 50 });
});
after(() => s.close());

describe('crash points, then recovery', () => {
  for (const point of Object.keys(CRASH_EXPECT) as CrashPoint[]) {
    test(`when the flow stops after "${point}", then recovery leaves one ${CRASH_EXPECT[point]} order, at most one capture, and the hold committed or released`, async () => {
      const token = (await cartApi().post('/api/cart/carts')).body.token as string;
      assert.equal((await cartApi().post('/api/cart/cart/lines').set('x-cart-token', token).send({ productId: sneaker.id, quantity: 2 })).status, 201);
      const key = `crash-${point}-${Date.now()}`;
      s.checkout.hooks.checkpoint = (at) => {
        if (at === point) throw new Crash(`stopped after ${at}`);
      };
      try {
        const res = await api().post('/api/checkout').set('x-cart-token', token).set('idempotency-key', key).send(BODY);
        assert.equal(res.status, 500);
      } finally {
        s.checkout.hooks.checkpoint = undefined;
      }
      await new Promise((resolve) => setTimeout(resolve, 1_100));
      await s.checkout.sweepers.recovery.runOnce();
      const orders = await s.models.Order.find({ cartId: { $regex: '^a-' }, idempotencyKey: { $regex: `${key}$` } }).lean();
      assert.equal(orders.length, 1);
      const [order] = orders;
      assert.ok(order);
      await assertRecovered(s, order, point);
      // A retry with the same key answers the settled order, never a second one.
      const retry = await api().post('/api/checkout').set('x-cart-token', token).set('idempotency-key', key).send(BODY);
      assert.equal(retry.status, order.status === 'paid' ? 201 : 402);
      assert.equal(await s.models.Order.countDocuments({ idempotencyKey: order.idempotencyKey }), 1);
    });
  }
});
