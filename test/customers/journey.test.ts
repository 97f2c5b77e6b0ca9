/**
 * The customer walk-through of the README against the real services: catalog,
 * inventory, cart, checkout (simulated payments) and fulfillment, with
 * customers and support calling them over HTTP. Sign up, sign in with a guest
 * cart, check out, list my orders, open a ticket about my order; the
 * per-customer cap counting units bought through checkout; sign-out honoured by
 * checkout.
 */
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import request from 'supertest';
import { systemClock } from '../../services/kit/index.js';
import type { Product } from '../helpers/catalog.js';
import { uniqueName } from '../helpers/env.js';
import { admin, inventoryCalls } from '../inventory/helpers.js';
import { BODY, startCheckoutStack, type CheckoutStack } from '../checkout/helpers.js';
import { startSupport, type SupportUnderTest } from '../support/helpers.js';
import { startCustomers, type CustomersUnderTest } from './helpers.js';

const dbName = uniqueName(import.meta.url);
let s: CheckoutStack;
let customers: CustomersUnderTest;
let support: SupportUnderTest;
let lamp: Product;
const { api: invApi } = inventoryCalls(() => s.inv);
const cartApi = () => request(s.cart.app.callback());
const customersApi = () => request(customers.app.callback());
const supportApi = () => request(support.app.callback());

async function signUpAndIn(email: string, cartToken?: string): Promise<{ token: string; body: Record<string, unknown> }> {
  assert.equal((await customersApi().post('/api/customers').send({ email, password: 'correct horse battery' })).status, 201);
  const signIn = customersApi().post('/api/customers/sessions');
  if (cartToken) signIn.set('x-cart-token', cartToken);
  const res = await signIn.send({ email, password: 'correct horse battery' });
  assert.equal(res.status, 201);
  return { token: res.body.token as string, body: res.body };
}

before(async () => {
  s = await startCheckoutStack({ dbName, clock: systemClock });
  customers = await startCustomers({ dbName: `${dbName}_cust`, cartUrl: s.cartUrl, checkoutUrl: s.checkoutUrl, env: { CUSTOMERS_CALL_TIMEOUT_MS: '8000' } });
  support = await startSupport({ dbName: `${dbName}_sup`, namespace: dbName, checkoutUrl: s.checkoutUrl, env: { SUPPORT_CALL_TIMEOUT_MS: '8000' } });
  lamp = await s.catalog.createProduct({ sku: 'JRN-LAMP', slug: 'journey-lamp', name: 'Lamp', price: { amount: 3_500, currency: 'EUR' }, limitedQuantity: true, maxPerOrder: 3 });
  assert.ok((await invApi().put('/api/inventory/stock/JRN-LAMP').set(admin).send({ onHand: 20 })).status < 300);
});
after(async () => {
  await customers.connection.dropDatabase().catch(() => undefined);
  await support.close();
  await customers.close();
  await s.close();
});

describe('customer journey on the real services', () => {
  test('when a guest fills a cart, signs up, signs in with it and checks out, then the order is the customer\'s: in my orders, readable with my token only, and a ticket can name it', async () => {
    const guest = (await cartApi().post('/api/cart/carts').expect(201)).body.token as string;
    await cartApi().post('/api/cart/cart/lines').set('x-cart-token', guest).send({ productId: lamp.id, quantity: 2 }).expect(201);

    const ann = await signUpAndIn('ann.journey@example.com', guest);
    assert.equal(ann.body.cartMerge, 'merged');
    const bearer = `Bearer ${ann.token}`;
    const cart = await cartApi().get('/api/cart/cart').set('authorization', bearer).expect(200);
    assert.deepEqual(cart.body.lines.map((l: { sku: string; quantity: number }) => [l.sku, l.quantity]), [['JRN-LAMP', 2]]);

    const placed = await request(s.checkout.app.callback()).post('/api/checkout').set('authorization', bearer).set('idempotency-key', `journey-${process.pid}-1`).send(BODY);
    assert.equal(placed.status, 201, JSON.stringify(placed.body));
    const order = placed.body.order as { id: string; status: string; total: { amount: number } };
    assert.equal(order.status, 'paid');
    assert.equal(order.total.amount, 7_000);

    const mine = await customersApi().get('/api/customers/me/orders').set('authorization', bearer).expect(200);
    assert.deepEqual(mine.body.orders.map((o: { id: string }) => o.id), [order.id]);

    const ticket = await supportApi().post('/api/support/tickets').set('authorization', bearer).send({ subject: 'Where is my lamp?', message: 'Ordered two lamps yesterday.', orderId: order.id });
    assert.equal(ticket.status, 201, JSON.stringify(ticket.body));
    assert.equal(ticket.body.orderId, order.id);

    // Someone else: the order is not theirs to list, read or name in a ticket.
    const bob = await signUpAndIn('bob.journey@example.com');
    const theirs = await customersApi().get('/api/customers/me/orders').set('authorization', `Bearer ${bob.token}`).expect(200);
    assert.deepEqual(theirs.body.orders, []);
    await request(s.checkout.app.callback()).get(`/api/orders/${order.id}`).set('authorization', `Bearer ${bob.token}`).expect(404);
    const refused = await supportApi().post('/api/support/tickets').set('authorization', `Bearer ${bob.token}`).send({ subject: 'Mine?', message: 'Is this mine?', orderId: order.id });
    assert.equal(refused.status, 422);
    assert.equal(refused.body.errors[0].field, 'body.orderId');
  });

  test('when a customer buys limited units through the real checkout, then the per-customer cap counts the bought units: the emptied cart takes only the rest of the cap', async () => {
    const eve = await signUpAndIn('eve.journey@example.com');
    const bearer = `Bearer ${eve.token}`;
    await cartApi().post('/api/cart/carts').set('authorization', bearer).expect(201);
    await cartApi().post('/api/cart/cart/lines').set('authorization', bearer).send({ productId: lamp.id, quantity: 3 }).expect(201);
    const placed = await request(s.checkout.app.callback()).post('/api/checkout').set('authorization', bearer).set('idempotency-key', `journey-${process.pid}-cap`).send(BODY);
    assert.equal(placed.status, 201, JSON.stringify(placed.body));
    assert.equal(placed.body.order.status, 'paid');
    // Checkout committed the hold (sold) and emptied the cart: nothing is held any more, 3 are bought.
    const emptied = await cartApi().get('/api/cart/cart').set('authorization', bearer).expect(200);
    assert.deepEqual(emptied.body.lines, []);

    const over = await cartApi().post('/api/cart/cart/lines').set('authorization', bearer).send({ productId: lamp.id, quantity: 3 });
    assert.equal(over.status, 422, JSON.stringify(over.body));
    assert.equal(over.body.limit, 'maxPerCustomer');
    assert.equal(over.body.max, 5);
    assert.equal(over.body.alreadyHeldOrBought, 3);
    await cartApi().post('/api/cart/cart/lines').set('authorization', bearer).send({ productId: lamp.id, quantity: 2 }).expect(201);
    const full = await cartApi().post('/api/cart/cart/lines').set('authorization', bearer).send({ productId: lamp.id, quantity: 1 });
    assert.equal(full.status, 422);
    assert.equal(full.body.limit, 'maxPerCustomer');
    // Inventory counts both: the units checkout committed and the line's live hold.
    const customerId = (await customersApi().get('/api/customers/me').set('authorization', bearer).expect(200)).body.id as string;
    const usage = await invApi().get('/api/inventory/usage').query({ owner: `customer:${customerId}`, sku: 'JRN-LAMP' }).set(admin).expect(200);
    assert.deepEqual([usage.body.committed, usage.body.held], [3, 2]);
  });

  test('when a customer signs out, then checkout refuses the old token: order list, order read, and a checkout replaying its Idempotency-Key are 401', async () => {
    const guest = (await cartApi().post('/api/cart/carts').expect(201)).body.token as string;
    await cartApi().post('/api/cart/cart/lines').set('x-cart-token', guest).send({ productId: lamp.id, quantity: 1 }).expect(201);
    const cid = await signUpAndIn('cid.journey@example.com', guest);
    const bearer = `Bearer ${cid.token}`;
    const checkout = () => request(s.checkout.app.callback());
    const key = `journey-${process.pid}-signout`;
    const placed = await checkout().post('/api/checkout').set('authorization', bearer).set('idempotency-key', key).send(BODY);
    assert.equal(placed.status, 201, JSON.stringify(placed.body));
    const orderId = placed.body.order.id as string;
    await checkout().get('/api/orders').set('authorization', bearer).expect(200);
    await checkout().get(`/api/orders/${orderId}`).set('authorization', bearer).expect(200);

    await customersApi().delete('/api/customers/sessions/current').set('authorization', bearer).expect(204);

    await checkout().get('/api/orders').set('authorization', bearer).expect(401);
    await checkout().get(`/api/orders/${orderId}`).set('authorization', bearer).expect(401);
    const replay = await checkout().post('/api/checkout').set('authorization', bearer).set('idempotency-key', key).send(BODY);
    assert.equal(replay.status, 401, 'a signed-out token gets no replay of its order');
    await checkout().post('/api/checkout').set('authorization', bearer).set('idempotency-key', `${key}-2`).send(BODY).expect(401);
    // And through the services that call checkout for the customer.
    await customersApi().get('/api/customers/me/orders').set('authorization', bearer).expect(401);
    await supportApi().post('/api/support/tickets').set('authorization', bearer).send({ subject: 'Lamp', message: 'Where is it?', orderId }).expect(401);
    // A fresh sign-in, even in the same second, gets a token of its own (a new session id) and reads the order again.
    const again = await customersApi().post('/api/customers/sessions').send({ email: 'cid.journey@example.com', password: 'correct horse battery' }).expect(201);
    await checkout().get(`/api/orders/${orderId}`).set('authorization', `Bearer ${again.body.token as string}`).expect(200);
  });
});
