import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import request from 'supertest';
import { systemClock } from '../../services/kit/index.js';
import { fulfil } from '../../services/fulfillment/domain/fulfil.js';
import type { Product } from '../helpers/catalog.js';
import { uniqueName } from '../helpers/env.js';
import { admin, inventoryCalls } from '../inventory/helpers.js';
import { BODY, startCheckoutStack, type CheckoutStack } from '../checkout/helpers.js';

const dbName = uniqueName(import.meta.url);
let s: CheckoutStack;
let mug: Product;
let lamp: Product;
const { api: invApi, stock } = inventoryCalls(() => s.inv);
const cartApi = () => request(s.cart.app.callback());
const api = () => request(s.checkout.app.callback());
const board = () => request(s.fulfillment.app.callback());
let seq = 0;

async function paidOrder(product = mug, quantity = 1): Promise<string> {
  const token = (await cartApi().post('/api/cart/carts')).body.token as string;
  assert.equal((await cartApi().post('/api/cart/cart/lines').set('x-cart-token', token).send({ productId: product.id, quantity })).status, 201);
  const res = await api().post('/api/checkout').set('x-cart-token', token).set('idempotency-key', `f-${seq++}-${Date.now()}`).send(BODY);
  assert.equal(res.status, 201, JSON.stringify(res.body));
  return res.body.order.id as string;
}

async function until<T>(what: string, probe: () => Promise<T | null | undefined | false>, timeoutMs = 15_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

before(async () => {
  s = await startCheckoutStack({ dbName, clock: systemClock });
  mug = await s.catalog.createProduct({ sku: 'MUG-F', slug: 'mug-f', name: 'Mug', price: { amount: 900, currency: 'EUR' } });
  lamp = await s.catalog.createProduct({ sku: 'LAMP-F', slug: 'lamp-f', name: 'Lamp', price: { amount: 3_000, currency: 'EUR' }, limitedQuantity: true, maxPerOrder: 3 });
  assert.ok((await invApi().put('/api/inventory/stock/LAMP-F').set(admin).send({ onHand: 5 })).status < 300);
  s.fulfillment.startWorker();
});
after(() => s.close());

describe('outbox and fulfillment', () => {
  test('when an order is paid, then the relay publishes it once and the worker ships it: paid → shipped, one shipment', async () => {
    const id = await paidOrder();
    assert.equal((await s.models.Order.findById(id).lean())?.outbox.state, 'pending');
    assert.equal(await s.checkout.sweepers.outbox.runOnce(), 1);
    assert.equal(await s.checkout.sweepers.outbox.runOnce(), 0);
    await until('shipped', async () => (await s.models.Order.findById(id).lean())?.status === 'shipped');
    const shipments = await s.shipments.Shipment.find({ _id: id }).lean();
    assert.equal(shipments.length, 1);
    assert.equal(shipments[0]?.status, 'shipped');
    assert.match(String(shipments[0]?.carrierRef), /^cr_/);
  });

  test('when a job for a shipped order runs again, then it ships once: one shipment, status stays shipped', async () => {
    const id = await paidOrder();
    await s.checkout.sweepers.outbox.runOnce();
    await until('shipped', async () => (await s.models.Order.findById(id).lean())?.status === 'shipped');
    const first = await s.shipments.Shipment.findById(id).lean();
    assert.equal(await fulfil(s.fulfillment.deps, id), 'shipped');
    const again = await s.shipments.Shipment.find({ _id: id }).lean();
    assert.equal(again.length, 1);
    assert.deepEqual(again[0]?.shippedAt, first?.shippedAt);
  });

  test('when the admin cancels a paid order before it ships, then it is refunded, and the worker skips it', async () => {
    const id = await paidOrder();
    const cancelled = await api().post(`/api/orders/${id}/cancel`).set(admin);
    assert.equal(cancelled.status, 200, JSON.stringify(cancelled.body));
    assert.equal(cancelled.body.order.status, 'cancelled');
    assert.equal((await s.models.PaymentCharge.findOne({ orderId: id }).lean())?.status, 'refunded');
    assert.equal(await fulfil(s.fulfillment.deps, id), 'skipped');
    assert.equal(await s.shipments.Shipment.countDocuments({ _id: id }), 0);
    assert.equal((await api().post(`/api/orders/${id}/cancel`).set(admin)).body.order.status, 'cancelled');
  });

  test('when the admin cancels a paid order of a limited item, then checkout restocks exactly the sold units once, through inventory\'s service route', async () => {
    const id = await paidOrder(lamp, 2);
    assert.deepEqual([(await stock('LAMP-F')).available, (await stock('LAMP-F')).sold], [3, 2]);
    assert.equal((await api().post(`/api/orders/${id}/cancel`).set(admin)).body.order.status, 'cancelled');
    assert.equal((await stock('LAMP-F')).available, 5);
    // A repeat (recovery, a second cancel) restocks nothing more.
    assert.equal((await api().post(`/api/orders/${id}/cancel`).set(admin)).body.order.status, 'cancelled');
    const order = await s.models.Order.findById(id).lean();
    await s.checkout.deps.clients.restock(String(order?.lines[0]?.holdId));
    assert.equal((await stock('LAMP-F')).available, 5);
  });

  test('when a job keeps failing, then it is kept as a dead letter, listed for the admin, and the retry action runs it again', async () => {
    const job = await s.queue.add({ orderId: 'o_doesnotexist' }, { jobId: `dead-${Date.now()}`, attempts: 1 });
    await until('failed', async () => (await job.isFailed()) || null);
    const list = await board().get('/api/fulfillment/admin/dead-letters').set(admin);
    assert.equal(list.status, 200);
    assert.ok(list.body.jobs.some((j: { id: string }) => j.id === String(job.id)));
    assert.equal((await board().get('/api/fulfillment/admin/dead-letters')).status, 401);
    const retried = await board().post(`/api/fulfillment/admin/dead-letters/${job.id}/retry`).set(admin);
    assert.equal(retried.status, 200);
  });

  test('when the queue dashboard is asked for, then it needs the admin token', async () => {
    assert.equal((await board().get('/api/fulfillment/admin/queues')).status, 401);
    const page = await board().get('/api/fulfillment/admin/queues').set(admin);
    assert.equal(page.status, 200);
    assert.match(page.text, /<html/i);
  });
});
