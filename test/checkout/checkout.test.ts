import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import request from 'supertest';
import { systemClock } from '../../services/kit/index.js';
import type { Product } from '../helpers/catalog.js';
import { uniqueName } from '../helpers/env.js';
import { admin, inventoryCalls } from '../inventory/helpers.js';
import { BODY, startCheckoutStack, type CheckoutStack } from './helpers.js';

const dbName = uniqueName(import.meta.url);
let s: CheckoutStack;
let mug: Product;
let sneaker: Product;
const cartApi = () => request(s.cart.app.callback());
const api = () => request(s.checkout.app.callback());
const { api: invApi } = inventoryCalls(() => s.inv);
let keySeq = 0;
const newKey = () => `key-${process.pid}-${Date.now()}-${keySeq++}`;

/** A guest cart with 2 mugs and 1 limited sneaker (held in inventory). */
async function filledCart(): Promise<string> {
  const created = await cartApi().post('/api/cart/carts');
  const token = created.body.token as string;
  assert.equal((await cartApi().post('/api/cart/cart/lines').set('x-cart-token', token).send({ productId: mug.id, quantity: 2 })).status, 201);
  assert.equal((await cartApi().post('/api/cart/cart/lines').set('x-cart-token', token).send({ productId: sneaker.id, quantity: 1 })).status, 201);
  return token;
}
const checkout = (token: string, key: string | null, body: unknown = BODY) => {
  const req = api().post('/api/checkout').set('x-cart-token', token);
  if (key) req.set('idempotency-key', key);
  return req.send(body as object);
};
const stockOf = async (sku: string) => (await invApi().get(`/api/inventory/stock/${sku}`).set(admin)).body as { onHand: number; available: number; reserved: number; sold?: number };
const chargesOf = (orderId: string) => s.models.PaymentCharge.find({ orderId }).lean();

before(async () => {
  s = await startCheckoutStack({ dbName, clock: systemClock });
  mug = await s.catalog.createProduct({ sku: 'MUG-1', slug: 'mug', name: 'Mug', price: { amount: 1500, currency: 'EUR' } });
  sneaker = await s.catalog.createProduct({ sku: 'SNK-1', slug: 'sneaker', name: 'Sneaker', price: { amount: 12000, currency: 'EUR' }, limitedQuantity: true, maxPerOrder: 2 });
  await invApi().put('/api/inventory/stock/SNK-1').set(admin).send({ onHand: 100 });
});
after(() => s.close());

describe('checkout', () => {
  test('when a guest checks out a cart with a key, then the order is paid with current prices, the hold is sold, the cart is emptied and one charge is captured', async () => {
    const token = await filledCart();
    const before = await stockOf('SNK-1');
    const res = await checkout(token, newKey());
    assert.equal(res.status, 201, JSON.stringify(res.body));
    const { order } = res.body;
    assert.equal(order.status, 'paid');
    assert.deepEqual(order.total, { amount: 2 * 1500 + 12000, currency: 'EUR' });
    assert.equal(order.lines.length, 2);
    assert.equal(res.headers.location, `/api/orders/${order.id}`);
    const charges = await chargesOf(order.id);
    assert.deepEqual(charges.map((c) => [c.status, c.amount]), [['captured', 15000]]);
    const after = await stockOf('SNK-1');
    assert.equal(after.onHand, before.onHand - 1);
    assert.equal(after.reserved, before.reserved - 1);
    const cart = await cartApi().get('/api/cart/cart').set('x-cart-token', token);
    assert.equal(cart.body.lines.length, 0);
    const read = await api().get(`/api/orders/${order.id}`).set('x-cart-token', token);
    assert.equal(read.status, 200);
    assert.deepEqual(read.body.order, order);
  });

  test('when 20 requests with one key arrive at once, then there is one order, one charge, and every answer is that order', async () => {
    const token = await filledCart();
    const key = newKey();
    const answers = await Promise.all(Array.from({ length: 20 }, () => checkout(token, key)));
    const statuses = answers.map((r) => r.status);
    assert.ok(statuses.every((status) => status === 201 || status === 409), statuses.join(','));
    const ids = new Set(answers.filter((r) => r.status === 201).map((r) => r.body.order.id));
    assert.equal(ids.size, 1);
    const [id] = [...ids];
    assert.equal(await s.models.Order.countDocuments({ cartId: (await s.models.Order.findById(id).lean())?.cartId }), 1);
    assert.equal((await chargesOf(String(id))).length, 1);
  });

  test('when the same key is sent again after success, then the first answer is replayed without a second charge', async () => {
    const token = await filledCart();
    const key = newKey();
    const first = await checkout(token, key);
    const again = await checkout(token, key);
    assert.equal(again.status, first.status);
    assert.deepEqual(again.body, first.body);
    assert.equal(again.headers['idempotent-replayed'], 'true');
    assert.equal((await chargesOf(first.body.order.id)).length, 1);
  });

  test('when the same key comes with a different body, then 422 and no second order', async () => {
    const token = await filledCart();
    const key = newKey();
    const first = await checkout(token, key);
    assert.equal(first.status, 201);
    const other = await checkout(token, key, { ...BODY, email: 'other@example.com' });
    assert.equal(other.status, 422);
    assert.equal(other.body.type, 'urn:problem:idempotency_key_reused');
    assert.equal(await s.models.Order.countDocuments({ email: 'other@example.com' }), 0);
  });

  test('when the key is missing or the body is bad, then 400 names the field and nothing is written', async () => {
    const token = await filledCart();
    const count = await s.models.Order.countDocuments();
    const noKey = await checkout(token, null);
    assert.equal(noKey.status, 400);
    assert.deepEqual(noKey.body.errors.map((e: { field: string }) => e.field), ['header.idempotency-key']);
    const bad = await checkout(token, newKey(), { email: 'not-an-email', shippingAddress: { ...BODY.shippingAddress, country: 'Germany' }, coupon: 'x' });
    assert.equal(bad.status, 400);
    assert.deepEqual(bad.body.errors.map((e: { field: string }) => e.field).sort(), ['body', 'body.email', 'body.shippingAddress.country']);
    const injected = await checkout(token, newKey(), { email: { $gt: '' }, shippingAddress: BODY.shippingAddress });
    assert.equal(injected.status, 400);
    assert.equal(await s.models.Order.countDocuments(), count);
    assert.equal((await cartApi().get('/api/cart/cart').set('x-cart-token', token)).body.lines.length, 2);
  });

  test("when someone else asks for an order, then 404; the admin reads it", async () => {
    const token = await filledCart();
    const { body } = await checkout(token, newKey());
    const other = (await cartApi().post('/api/cart/carts')).body.token as string;
    assert.equal((await api().get(`/api/orders/${body.order.id}`).set('x-cart-token', other)).status, 404);
    assert.equal((await api().get(`/api/orders/${body.order.id}`).set('authorization', `Bearer ${s.cart.customerToken('cust-x')}`)).status, 404);
    assert.equal((await api().get(`/api/orders/${body.order.id}`)).status, 401);
    assert.equal((await api().get(`/api/orders/${body.order.id}`).set(admin)).status, 200);
  });
});

describe('payment failures', () => {
  const heldBefore = async () => (await stockOf('SNK-1')).reserved;

  for (const [name, knob, status] of [
    ['declined', { declineRate: 1 }, 402],
    ['unavailable (outage)', { outage: true }, 503],
  ] as const) {
    test(`when the payment is ${name}, then ${status}, no capture, and the hold is released`, async () => {
      const token = await filledCart();
      const reserved = await heldBefore();
      Object.assign(s.knobs, knob);
      try {
        const res = await checkout(token, newKey());
        assert.equal(res.status, status, JSON.stringify(res.body));
        if (status === 503) assert.ok(res.headers['retry-after']);
        const order = await s.models.Order.findOne({ status: 'payment_failed' }).sort({ createdAt: -1 }).lean();
        assert.ok(order);
        assert.equal(order.compensated, true);
        assert.equal((await chargesOf(order._id)).filter((c) => c.status === 'captured').length, 0);
        assert.equal((await stockOf('SNK-1')).reserved, reserved - 1);
      } finally {
        Object.assign(s.knobs, { declineRate: 0, outage: false });
      }
      // The cart reserves again on its next view, and a new key checks it out.
      const view = await cartApi().get('/api/cart/cart').set('x-cart-token', token);
      assert.equal(view.body.lines.find((l: { limited: boolean }) => l.limited).hold.status, 'active');
      assert.equal((await checkout(token, newKey())).status, 201);
    });
  }

  test('when the provider times out, then 202 pending, and recovery settles it by asking the provider: paid with one capture, or failed with none', async () => {
    const token = await filledCart();
    s.knobs.timeoutRate = 1;
    let res;
    try {
      res = await checkout(token, newKey());
    } finally {
      s.knobs.timeoutRate = 0;
    }
    assert.equal(res.status, 202, JSON.stringify(res.body));
    assert.equal(res.body.order.status, 'pending');
    await new Promise((resolve) => setTimeout(resolve, 1_100));
    assert.ok((await s.checkout.sweepers.recovery.runOnce()) >= 1);
    const order = await s.models.Order.findById(res.body.order.id).lean();
    const captured = (await chargesOf(res.body.order.id)).filter((c) => c.status === 'captured');
    assert.ok(order && ['paid', 'payment_failed'].includes(order.status), order?.status);
    assert.equal(captured.length, order.status === 'paid' ? 1 : 0);
  });
});
