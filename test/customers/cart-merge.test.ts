import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import request from 'supertest';
import { customerTokenKey, ManualClock, verifyCustomerToken } from '../../services/kit/index.js';
import { TEST_CUSTOMER_TOKEN_SECRET, uniqueName } from '../helpers/env.js';
import type { Product } from '../helpers/catalog.js';
import { admin } from '../inventory/helpers.js';
import { startCartStack, type CartStack } from '../cart/helpers.js';
import { listen, startCustomers, type CustomersUnderTest } from './helpers.js';

const dbName = uniqueName(import.meta.url);
const clock = new ManualClock(Date.now());
let stack: CartStack;
let cartServer: Awaited<ReturnType<typeof listen>>;
let customers: CustomersUnderTest;
let mug: Product;
let sneaker: Product;

const cartApi = () => request(cartServer.url);
const api = () => request(customers.app.callback());

async function guestCartWith(product: Product, quantity: number): Promise<string> {
  const created = await cartApi().post('/api/cart/carts');
  assert.equal(created.status, 201);
  const added = await cartApi().post('/api/cart/cart/lines').set('x-cart-token', created.body.token).send({ productId: product.id, quantity });
  assert.equal(added.status, 201, JSON.stringify(added.body));
  return created.body.token as string;
}

const signInWithCart = (cartToken: string) =>
  api().post('/api/customers/sessions').set('x-cart-token', cartToken).send({ email: 'fay@example.com', password: 'correct horse battery' });

before(async () => {
  stack = await startCartStack({ dbName, clock, env: { CART_LIMITED_MAX_PER_CUSTOMER: '3' } });
  cartServer = await listen(stack.cart.app);
  // A generous deadline: a merge that answers late is reported as failed, and this machine may be busy.
  customers = await startCustomers({ dbName: `${dbName}_cust`, cartUrl: cartServer.url, clock, env: { CUSTOMERS_CALL_TIMEOUT_MS: '8000' } });
  mug = await stack.catalog.createProduct({ sku: 'MUG-1', slug: 'mug', name: 'Mug', price: { amount: 900, currency: 'EUR' } });
  sneaker = await stack.catalog.createProduct({ sku: 'SNK-1', slug: 'sneaker', name: 'Sneaker', price: { amount: 12_999, currency: 'EUR' }, limitedQuantity: true, maxPerOrder: 5 });
  assert.equal((await request(stack.inv.app.callback()).put('/api/inventory/stock/SNK-1').set(admin).send({ onHand: 50 })).status < 300, true);
  assert.equal((await api().post('/api/customers').send({ email: 'fay@example.com', password: 'correct horse battery' })).status, 201);
});
after(async () => {
  await customers.connection.dropDatabase().catch(() => undefined);
  await customers.close();
  await cartServer.close();
  await stack.close();
});

describe('sign-in with a guest cart', () => {
  test('when a shopper signs in with X-Cart-Token, then the guest cart is merged into the customer cart and the guest token is gone', async () => {
    const guest = await guestCartWith(mug, 2);
    const res = await signInWithCart(guest);
    assert.equal(res.status, 201);
    assert.equal(res.body.cartMerge, 'merged');
    assert.equal(res.body.cart.lines[0].productId, mug.id);
    const own = await cartApi().get('/api/cart/cart').set('authorization', `Bearer ${res.body.token}`);
    assert.equal(own.status, 200);
    assert.deepEqual(own.body.lines.map((l: { productId: string; quantity: number }) => [l.productId, l.quantity]), [[mug.id, 2]]);
    assert.equal((await cartApi().get('/api/cart/cart').set('x-cart-token', guest)).status, 404);
  });

  test('when the guest cart token is unknown, then sign-in still succeeds and says so', async () => {
    const res = await signInWithCart('A'.repeat(43));
    assert.equal(res.status, 201);
    assert.equal(res.body.cartMerge, 'not_found');
    assert.ok(res.body.token);
  });

  test('when a malformed X-Cart-Token is sent, then 400 names the header and no session is issued', async () => {
    const res = await signInWithCart('short');
    assert.equal(res.status, 400);
    assert.equal(res.body.errors[0].field, 'header');
  });
});

describe('per-customer cap on limited items, end to end', () => {
  test('when a signed-in customer collects a limited item across two guest carts and sessions, then the cap holds across carts and orders: merge clamps, a further add is 422 maxPerCustomer, also once the units are bought', async () => {
    // Session 1 (laptop): 2 sneakers as a guest, then sign in.
    const first = await signInWithCart(await guestCartWith(sneaker, 2));
    assert.equal(first.body.cartMerge, 'merged');
    const held = first.body.cart.lines.find((l: { productId: string }) => l.productId === sneaker.id);
    assert.equal(held.quantity, 2);
    assert.equal(held.hold.status, 'active');
    // Session 2 (phone): 2 more as a guest (a guest is not the customer yet), then sign in again.
    const second = await signInWithCart(await guestCartWith(sneaker, 2));
    assert.equal(second.status, 201);
    assert.equal(second.body.cartMerge, 'merged');
    const merged = second.body.cart.lines.find((l: { productId: string }) => l.productId === sneaker.id);
    assert.equal(merged.quantity, 3, 'clamped to CART_LIMITED_MAX_PER_CUSTOMER');
    assert.ok(second.body.cart.notices.length > 0);
    // Signed in on the phone, one more is refused, naming the limit.
    const more = await cartApi().post('/api/cart/cart/lines').set('authorization', `Bearer ${second.body.token}`).send({ productId: sneaker.id, quantity: 1 });
    assert.equal(more.status, 422);
    assert.equal(more.body.limit, 'maxPerCustomer');
    assert.equal(more.body.max, 3);

    // The 3 are bought (checkout commits the hold, done here directly on inventory; test/customers/journey.test.ts
    // buys through the real checkout) and the line leaves the cart:
    // the orders still count, so the empty cart cannot take another one.
    const customerId = verifyCustomerToken(customerTokenKey(TEST_CUSTOMER_TOKEN_SECRET), second.body.token, clock.now());
    const stored = await stack.cart.models.Cart.findById(`c-${customerId}`).lean();
    const line = stored?.lines.find((l) => l.productId === sneaker.id);
    assert.ok(line?.hold);
    const committed = await request(stack.inv.app.callback()).post(`/api/inventory/holds/${line.hold.id}/commit`).set(admin);
    assert.equal(committed.status, 200, JSON.stringify(committed.body));
    assert.equal((await cartApi().delete(`/api/cart/cart/lines/${line.id}`).set('authorization', `Bearer ${second.body.token}`)).status, 200);
    const afterOrder = await cartApi().post('/api/cart/cart/lines').set('authorization', `Bearer ${second.body.token}`).send({ productId: sneaker.id, quantity: 1 });
    assert.equal(afterOrder.status, 422);
    assert.equal(afterOrder.body.limit, 'maxPerCustomer');
    assert.equal(afterOrder.body.alreadyHeldOrBought, 3);
  });
});
