import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import request from 'supertest';
import { ManualClock } from '../../services/kit/index.js';
import type { CatalogUnderTest, Product } from '../helpers/catalog.js';
import { uniqueName } from '../helpers/env.js';
import { admin, freePort, inventoryCalls, type InventoryUnderTest } from '../inventory/helpers.js';
import { startCart, startCartStack, type CartStack, type CartUnderTest } from './helpers.js';

const dbName = uniqueName(import.meta.url);
const clock = new ManualClock(Date.now());
let stack: CartStack;
let catalog: CatalogUnderTest;
let inv: InventoryUnderTest;
let cart: CartUnderTest;
let plain: Product;
let limited: Product;
let capped: Product;
const api = () => request(cart.app.callback());
const { api: invApi, stock } = inventoryCalls(() => inv);

async function newCart(): Promise<string> {
  const res = await api().post('/api/cart/carts');
  assert.equal(res.status, 201);
  return res.body.token as string;
}
const add = (token: string, productId: string, quantity: number) => api().post('/api/cart/cart/lines').set('x-cart-token', token).send({ productId, quantity });

before(async () => {
  stack = await startCartStack({ dbName, clock, env: { CART_MAX_LINES: '3', CART_MAX_UNITS: '20', CART_LIMITED_MAX_PER_CUSTOMER: '4' } });
  ({ catalog, inv, cart } = stack);
  const price = { amount: 1999, currency: 'EUR' };
  plain = await catalog.createProduct({ sku: 'PLAIN-1', slug: 'plain-mug', name: 'Mug', price });
  limited = await catalog.createProduct({ sku: 'LTD-1', slug: 'limited-sneaker', name: 'Sneaker', price: { amount: 12999, currency: 'EUR' }, limitedQuantity: true, maxPerOrder: 3 });
  capped = await catalog.createProduct({ sku: 'CAP-1', slug: 'capped-tee', name: 'Tee', price, maxPerOrder: 2 });
  await invApi().put('/api/inventory/stock/LTD-1').set(admin).send({ onHand: 5 });
});
after(() => stack.close());

describe('cart basics', () => {
  test('when a guest creates a cart and adds a product, then the line keeps the price seen and the cart is addressed by its token', async () => {
    const token = await newCart();
    const res = await add(token, plain.id, 2);
    assert.equal(res.status, 201);
    assert.equal(res.body.lines[0].quantity, 2);
    assert.deepEqual(res.body.lines[0].unitPrice, { amount: 1999, currency: 'EUR' });
    assert.equal(res.body.lines[0].hold, null);
    assert.deepEqual(res.body.totals.subtotal, { amount: 3998, currency: 'EUR' });
    const again = await add(token, plain.id, 1);
    assert.equal(again.body.lines.length, 1);
    assert.equal(again.body.lines[0].quantity, 3);
  });

  test('when the catalog price changes, then the cart shows both prices and flags the line', async () => {
    const token = await newCart();
    await add(token, capped.id, 1);
    const patched = await fetch(`${catalog.url}/api/catalog/products/${capped.id}`, { method: 'PATCH', headers: { 'content-type': 'application/json', authorization: `Bearer ${catalog.adminToken}` }, body: JSON.stringify({ price: { amount: 2499, currency: 'EUR' } }) });
    assert.equal(patched.status, 200);
    await catalog.cache.invalidateAll();
    const res = await api().get('/api/cart/cart').set('x-cart-token', token);
    assert.equal(res.body.lines[0].priceChanged, true);
    assert.equal(res.body.lines[0].unitPrice.amount, 1999);
    assert.equal(res.body.lines[0].currentUnitPrice.amount, 2499);
  });

  test('when input is bad, then 400 names the field and nothing is written', async () => {
    const token = await newCart();
    const res = await api().post('/api/cart/cart/lines').set('x-cart-token', token).send({ productId: 'x', quantity: 0, color: 'red' });
    assert.equal(res.status, 400);
    const fields = res.body.errors.map((e: { field: string }) => e.field).sort();
    assert.deepEqual(fields, ['body', 'body.quantity']);
    assert.equal((await api().get('/api/cart/cart').set('x-cart-token', token)).body.lines.length, 0);
  });

  test('when the cart token is unknown or malformed, then 404 and 400', async () => {
    assert.equal((await api().get('/api/cart/cart').set('x-cart-token', 'A'.repeat(43))).status, 404);
    assert.equal((await api().get('/api/cart/cart').set('x-cart-token', 'short')).status, 400);
    assert.equal((await add('A'.repeat(43), plain.id, 1)).status, 404);
  });

  test('when an unknown product is added, then 422 names it', async () => {
    const res = await add(await newCart(), 'no-such-product', 1);
    assert.equal(res.status, 422);
    assert.equal(res.body.type, 'urn:problem:unknown_product');
  });
});

describe('limits (Q4, Q5)', () => {
  test('when a cart would exceed max lines or max units, then 422 names the limit', async () => {
    const token = await newCart();
    await add(token, plain.id, 1);
    await add(token, capped.id, 1);
    await add(token, limited.id, 1);
    const other = await catalog.createProduct({ sku: 'PLAIN-2', slug: 'plain-plate', name: 'Plate', price: { amount: 500, currency: 'EUR' } });
    const lines = await add(token, other.id, 1);
    assert.equal(lines.status, 422);
    assert.deepEqual([lines.body.type, lines.body.limit, lines.body.max], ['urn:problem:cart_line_limit', 'maxLines', 3]);
    const units = await add(token, plain.id, 30);
    assert.equal(units.status, 422);
    assert.deepEqual([units.body.limit, units.body.max], ['maxUnits', 20]);
    await api().delete('/api/cart/cart').set('x-cart-token', token);
  });

  test('when more than maxPerOrder of a product is asked, then 422 names maxPerOrder', async () => {
    const res = await add(await newCart(), capped.id, 3);
    assert.equal(res.status, 422);
    assert.deepEqual([res.body.type, res.body.limit, res.body.max], ['urn:problem:max_per_order', 'maxPerOrder', 2]);
  });

  test('when a customer asks for more of a limited item than the per-customer limit across carts and orders, then 422 names it', async () => {
    const customer = cart.customerToken('cust-limit');
    const created = await api().post('/api/cart/carts').set('authorization', `Bearer ${customer}`);
    assert.equal(created.status, 201);
    // An earlier order of 2 (a committed hold owned by this customer).
    await invApi().post('/api/inventory/holds').set(admin).send({ id: 'order-hold-0001', sku: 'LTD-1', qty: 2, owner: 'customer:cust-limit' });
    await invApi().post('/api/inventory/holds/order-hold-0001/commit').set(admin);
    const res = await api().post('/api/cart/cart/lines').set('authorization', `Bearer ${customer}`).send({ productId: limited.id, quantity: 3 });
    assert.equal(res.status, 422);
    assert.deepEqual([res.body.type, res.body.limit, res.body.max, res.body.alreadyHeldOrBought], ['urn:problem:customer_limit', 'maxPerCustomer', 4, 2]);
    const ok = await api().post('/api/cart/cart/lines').set('authorization', `Bearer ${customer}`).send({ productId: limited.id, quantity: 2 });
    assert.equal(ok.status, 201);
    await api().delete('/api/cart/cart').set('authorization', `Bearer ${customer}`);
  });
});

describe('limited items and holds (Q1, Q3)', () => {
  test('when a limited item is added, then the line has a live hold and inventory reserves exactly its units', async () => {
    const before = await stock('LTD-1');
    const token = await newCart();
    const res = await add(token, limited.id, 2);
    assert.equal(res.status, 201);
    assert.equal(res.body.lines[0].hold.status, 'active');
    assert.equal(res.body.lines[0].hold.expiresAt, new Date(clock.now() + 900_000).toISOString());
    assert.equal((await stock('LTD-1')).available, before.available - 2);
    const changed = await api().patch(`/api/cart/cart/lines/${res.body.lines[0].id}`).set('x-cart-token', token).send({ quantity: 1 });
    assert.equal(changed.body.lines[0].quantity, 1);
    assert.equal((await stock('LTD-1')).available, before.available - 1);
    await api().delete(`/api/cart/cart/lines/${res.body.lines[0].id}`).set('x-cart-token', token);
    assert.equal((await stock('LTD-1')).available, before.available);
  });

  test('when more limited units are asked than remain, then 409 says how many are available and no line is saved', async () => {
    const token = await newCart();
    const available = (await stock('LTD-1')).available;
    const res = await add(token, limited.id, 3);
    if (available >= 3) assert.equal(res.status, 201);
    else {
      assert.equal(res.status, 409);
      assert.equal(res.body.available, available);
      assert.equal((await api().get('/api/cart/cart').set('x-cart-token', token)).body.lines.length, 0);
    }
    await api().delete('/api/cart/cart').set('x-cart-token', token);
  });

  test('when the user leaves and the hold expires, then stock returns once and on return the cart re-reserves and says so', async () => {
    const token = await newCart();
    await add(token, limited.id, 2);
    const held = (await stock('LTD-1')).available;
    clock.advance(901_000);
    await inv.sweeps.sweepOnce();
    await inv.sweeps.sweepOnce();
    assert.equal((await stock('LTD-1')).available, held + 2, 'units return exactly once');
    const back = await api().get('/api/cart/cart').set('x-cart-token', token);
    assert.equal(back.body.lines[0].hold.status, 'active');
    assert.deepEqual(back.body.notices.map((n: { code: string }) => n.code), ['hold_renewed']);
    assert.equal((await stock('LTD-1')).available, held);
    await api().delete('/api/cart/cart').set('x-cart-token', token);
  });

  test('when the hold expired and someone else took the stock, then the cart shows the line as lost with what is left', async () => {
    const token = await newCart();
    await add(token, limited.id, 2);
    clock.advance(901_000);
    await inv.sweeps.sweepOnce();
    const left = (await stock('LTD-1')).available;
    await invApi().post('/api/inventory/holds').set(admin).send({ id: 'rival-hold-0001', sku: 'LTD-1', qty: left - 1 });
    const back = await api().get('/api/cart/cart').set('x-cart-token', token);
    assert.equal(back.body.lines[0].hold.status, 'lost');
    assert.equal(back.body.notices[0].code, 'hold_lost');
    assert.equal(back.body.notices[0].available, 1);
    await invApi().post('/api/inventory/holds/rival-hold-0001/release').set(admin);
    const again = await api().get('/api/cart/cart').set('x-cart-token', token);
    assert.equal(again.body.lines[0].hold.status, 'active');
    await api().delete('/api/cart/cart').set('x-cart-token', token);
    assert.equal((await invApi().get('/api/inventory/check').set(admin)).body.ok, true);
  });
});

describe('customers and merging', () => {
  test('when a guest signs in, then the guest cart merges into the customer cart, its holds move and the guest token stops working', async () => {
    const guest = await newCart();
    await add(guest, plain.id, 1);
    await add(guest, limited.id, 1);
    const customer = cart.customerToken('cust-merge');
    await api().post('/api/cart/carts').set('authorization', `Bearer ${customer}`);
    await api().post('/api/cart/cart/lines').set('authorization', `Bearer ${customer}`).send({ productId: plain.id, quantity: 2 });
    const before = (await stock('LTD-1')).available;
    const merged = await api().post('/api/cart/cart/merge').set('authorization', `Bearer ${customer}`).set('x-cart-token', guest);
    assert.equal(merged.status, 200);
    const byProduct = Object.fromEntries(merged.body.lines.map((l: { productId: string; quantity: number }) => [l.productId, l.quantity]));
    assert.deepEqual(byProduct, { [plain.id]: 3, [limited.id]: 1 });
    assert.equal((await stock('LTD-1')).available, before, 'the guest hold moved, nothing reserved twice');
    const usage = await invApi().get('/api/inventory/usage').query({ owner: 'customer:cust-merge', sku: 'LTD-1' }).set(admin);
    assert.equal(usage.body.held, 1);
    assert.equal((await api().get('/api/cart/cart').set('x-cart-token', guest)).status, 404);
    const replay = await api().post('/api/cart/cart/merge').set('authorization', `Bearer ${customer}`).set('x-cart-token', guest);
    assert.equal(replay.status, 404);
  });

  test("when a cart token of another customer's cart is used, then 404 without revealing it exists", async () => {
    const alice = cart.customerToken('alice');
    const created = await api().post('/api/cart/carts').set('authorization', `Bearer ${alice}`);
    const aliceCart = await cart.models.Cart.findById(created.body.cart.id).lean();
    assert.ok(aliceCart);
    // Alice's cart has no token (its id is c-<customerId>); even a guest-cart id that somehow held her cart is refused the same way.
    const { newCartToken } = await import('../../services/cart/domain/tokens.js');
    const { token, hash } = newCartToken();
    await cart.models.Cart.create({ ...aliceCart, _id: `a-${hash}` });
    const asGuest = await api().get('/api/cart/cart').set('x-cart-token', token);
    const asBob = await api().post('/api/cart/cart/merge').set('authorization', `Bearer ${cart.customerToken('bob')}`).set('x-cart-token', token);
    const unknown = await api().get('/api/cart/cart').set('x-cart-token', 'B'.repeat(43));
    assert.equal(asGuest.status, 404);
    assert.equal(asBob.status, 404);
    assert.deepEqual([asGuest.body.type, asGuest.body.detail], [unknown.body.type, unknown.body.detail]);
    assert.equal((await api().get('/api/cart/cart').set('authorization', 'Bearer v1.forged.0.sig')).status, 401);
  });
});

describe('expiry of carts (Q2)', () => {
  test('when a cart is idle past its sliding expiry, then it is gone and the sweeper deletes it and releases its holds', async () => {
    const token = await newCart();
    await add(token, limited.id, 1);
    const held = (await stock('LTD-1')).available;
    clock.advance(29 * 86_400_000);
    // Activity slides the expiry: 29 days later it is still there, and its hold is renewed.
    const touched = await api().get('/api/cart/cart').set('x-cart-token', token);
    assert.equal(touched.status, 200);
    assert.equal((await stock('LTD-1')).available, held);
    clock.advance(30 * 86_400_000 + 1);
    assert.equal((await api().get('/api/cart/cart').set('x-cart-token', token)).status, 404);
    const removed = await cart.sweeper.runOnce();
    assert.ok(removed >= 1);
    assert.equal(await cart.models.Cart.countDocuments({ _id: touched.body.id }), 0);
    await inv.sweeps.sweepOnce();
    const report = (await invApi().get('/api/inventory/check').set(admin)).body;
    assert.equal(report.ok, true, JSON.stringify(report.violations));
    assert.equal((await stock('LTD-1')).reserved, 0);
  });
});

describe('when inventory is down', () => {
  test('then adding a non-limited item still works and adding a limited one fails fast with 503 and Retry-After', async () => {
    const down = await startCart({ dbName: `${dbName}_down`, catalogUrl: catalog.url, inventoryUrl: `http://127.0.0.1:${await freePort()}`, clock });
    try {
      const downApi = () => request(down.app.callback());
      const token = (await downApi().post('/api/cart/carts')).body.token;
      const ok = await downApi().post('/api/cart/cart/lines').set('x-cart-token', token).send({ productId: plain.id, quantity: 1 });
      assert.equal(ok.status, 201);
      const started = Date.now();
      const failed = await downApi().post('/api/cart/cart/lines').set('x-cart-token', token).send({ productId: limited.id, quantity: 1 });
      assert.equal(failed.status, 503);
      assert.ok(Number(failed.headers['retry-after']) > 0);
      assert.ok(Date.now() - started < 3_000, 'fails fast');
      const after = await downApi().get('/api/cart/cart').set('x-cart-token', token);
      assert.deepEqual(after.body.lines.map((l: { productId: string }) => l.productId), [plain.id]);
    } finally {
      await down.close();
    }
  });
});
