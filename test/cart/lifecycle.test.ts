import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import request from 'supertest';
import { ManualClock } from '../../services/kit/index.js';
import type { CartDoc } from '../../services/cart/models.js';
import type { CatalogUnderTest, Product } from '../helpers/catalog.js';
import { uniqueName } from '../helpers/env.js';
import { admin, inventoryCalls, type InventoryUnderTest } from '../inventory/helpers.js';
import { startCartStack, type CartStack, type CartUnderTest } from './helpers.js';

const DAY_MS = 86_400_000;
const dbName = uniqueName(import.meta.url);
const clock = new ManualClock(Date.now());
let stack: CartStack;
let catalog: CatalogUnderTest;
let inv: InventoryUnderTest;
let cart: CartUnderTest;
let plain: Product;
const api = () => request(cart.app.callback());
const { api: invApi, stock, usage, holdState, check } = inventoryCalls(() => inv);

const bearer = (customerId: string) => `Bearer ${cart.customerToken(customerId)}`;
async function checkOk() {
  const report = await check();
  assert.equal(report.ok, true, JSON.stringify(report.violations));
}
const cartDoc = async (id: string) => (await cart.models.Cart.findById(id).lean<CartDoc>()) as CartDoc;

/** A limited product with its own SKU and `onHand` units, so each test reads its own stock. */
async function limitedProduct(sku: string, onHand: number, maxPerOrder = 3): Promise<Product> {
  const product = await catalog.createProduct({ sku, slug: sku.toLowerCase(), name: `Limited ${sku}`, price: { amount: 9900, currency: 'EUR' }, limitedQuantity: true, maxPerOrder });
  assert.equal((await invApi().put(`/api/inventory/stock/${sku}`).set(admin).send({ onHand })).status, 201);
  return product;
}
async function openCustomerCart(customerId: string) {
  const res = await api().post('/api/cart/carts').set('authorization', bearer(customerId));
  assert.equal(res.status, 201);
  return res.body.cart as { id: string };
}
async function openGuestCart() {
  const res = await api().post('/api/cart/carts');
  assert.equal(res.status, 201);
  return { token: res.body.token as string, id: res.body.cart.id as string };
}
const addAsCustomer = (customerId: string, productId: string, quantity: number) =>
  api().post('/api/cart/cart/lines').set('authorization', bearer(customerId)).send({ productId, quantity });
const addAsGuest = (token: string, productId: string, quantity: number) => api().post('/api/cart/cart/lines').set('x-cart-token', token).send({ productId, quantity });

before(async () => {
  stack = await startCartStack({ dbName, clock, env: { CART_LIMITED_MAX_PER_CUSTOMER: '4', CART_CUSTOMER_TTL_DAYS: '180' } });
  ({ catalog, inv, cart } = stack);
  plain = await catalog.createProduct({ sku: 'LC-PLAIN', slug: 'lc-plain-mug', name: 'Mug', price: { amount: 1500, currency: 'EUR' } });
});
after(() => stack.close());

describe('an expired customer cart not swept yet', () => {
  test('when the customer comes back after the sliding expiry, then GET answers 404, the next POST /carts resets the same cart in place to an empty one (201), and its old hold neither counts nor keeps stock', async () => {
    const ltd = await limitedProduct('LC-EXP', 5);
    const opened = await openCustomerCart('lc-exp');
    assert.equal(opened.id, 'c-lc-exp');
    assert.equal((await addAsCustomer('lc-exp', ltd.id, 2)).status, 201);
    const before = await cartDoc('c-lc-exp');
    const oldHold = before.lines[0].hold?.id as string;
    assert.deepEqual([(await stock('LC-EXP')).available, (await stock('LC-EXP')).reserved], [3, 2]);

    clock.advance(180 * DAY_MS + 1);
    assert.equal((await api().get('/api/cart/cart').set('authorization', bearer('lc-exp'))).status, 404);
    const reset = await api().post('/api/cart/carts').set('authorization', bearer('lc-exp'));
    assert.equal(reset.status, 201);
    assert.equal(reset.body.cart.id, 'c-lc-exp');
    assert.deepEqual(reset.body.cart.lines, []);
    assert.equal(reset.body.cart.expiresAt, new Date(clock.now() + 180 * DAY_MS).toISOString());
    const stored = await cartDoc('c-lc-exp');
    assert.deepEqual([stored.lines.length, stored.state, stored.version], [0, 'open', before.version + 1]);
    assert.equal(await cart.models.Cart.countDocuments({ _id: 'c-lc-exp' }), 1);
    assert.deepEqual(await usage('customer:lc-exp', 'LC-EXP'), { owner: 'customer:lc-exp', sku: 'LC-EXP', held: 0, committed: 0 });

    // The old hold ran out with the cart; inventory's sweep returns its units exactly once.
    await inv.sweeps.sweepOnce();
    assert.equal(await holdState(oldHold), 'expired');
    assert.deepEqual([(await stock('LC-EXP')).available, (await stock('LC-EXP')).reserved], [5, 0]);
    // The reset cart is usable at once, up to the full per-customer limit.
    const again = await addAsCustomer('lc-exp', ltd.id, 3);
    assert.equal(again.status, 201);
    assert.equal(again.body.lines[0].hold.status, 'active');
    assert.deepEqual([(await stock('LC-EXP')).available, (await stock('LC-EXP')).reserved], [2, 3]);
    await checkOk();
  });

  test('when the cart is past its expiry while a line still has a live hold, then the reset releases that hold at once and its units return', async () => {
    const ltd = await limitedProduct('LC-LIVE', 5);
    await openCustomerCart('lc-live');
    assert.equal((await addAsCustomer('lc-live', ltd.id, 2)).status, 201);
    const hold = (await cartDoc('c-lc-live')).lines[0].hold?.id as string;
    assert.equal(await holdState(hold), 'active');
    // The cart's expiry passed before its hold's (e.g. CART_CUSTOMER_TTL_DAYS was lowered): arranged directly.
    await cart.models.Cart.updateOne({ _id: 'c-lc-live' }, { $set: { expiresAt: new Date(clock.now() - 1) } });

    const reset = await api().post('/api/cart/carts').set('authorization', bearer('lc-live'));
    assert.equal(reset.status, 201);
    assert.deepEqual(reset.body.cart.lines, []);
    assert.equal(await holdState(hold), 'released');
    assert.deepEqual([(await stock('LC-LIVE')).available, (await stock('LC-LIVE')).reserved], [5, 0]);
    assert.deepEqual(await usage('customer:lc-live', 'LC-LIVE'), { owner: 'customer:lc-live', sku: 'LC-LIVE', held: 0, committed: 0 });
    await checkOk();
  });
});

describe('emptying a customer cart', () => {
  test('when a signed-in customer deletes the cart, then it has no lines left, its holds are released and the stock returns', async () => {
    const ltd = await limitedProduct('LC-DEL', 5);
    await openCustomerCart('lc-del');
    await addAsCustomer('lc-del', plain.id, 2);
    assert.equal((await addAsCustomer('lc-del', ltd.id, 3)).status, 201);
    const hold = (await cartDoc('c-lc-del')).lines.find((line) => line.sku === 'LC-DEL')?.hold?.id as string;
    assert.deepEqual([(await stock('LC-DEL')).available, (await stock('LC-DEL')).reserved], [2, 3]);

    const emptied = await api().delete('/api/cart/cart').set('authorization', bearer('lc-del'));
    assert.equal(emptied.status, 200);
    assert.deepEqual(emptied.body.lines, []);
    assert.deepEqual([emptied.body.totals.lines, emptied.body.totals.units], [0, 0]);
    assert.equal(await holdState(hold), 'released');
    assert.deepEqual([(await stock('LC-DEL')).available, (await stock('LC-DEL')).reserved], [5, 0]);
    assert.deepEqual(await usage('customer:lc-del', 'LC-DEL'), { owner: 'customer:lc-del', sku: 'LC-DEL', held: 0, committed: 0 });
    const reread = await api().get('/api/cart/cart').set('authorization', bearer('lc-del'));
    assert.equal(reread.status, 200);
    assert.deepEqual(reread.body.lines, []);
    await checkOk();
  });
});

describe('merging guest and customer carts holding the same limited product', () => {
  /** A guest cart holding `guestUnits` and the customer's cart holding `customerUnits` of the product; returns the guest cart and its hold id. */
  async function bothHold(product: Product, customerId: string, guestUnits: number, customerUnits: number) {
    const guest = await openGuestCart();
    assert.equal((await addAsGuest(guest.token, product.id, guestUnits)).status, 201);
    await openCustomerCart(customerId);
    assert.equal((await addAsCustomer(customerId, product.id, customerUnits)).status, 201);
    const guestHold = (await cartDoc(guest.id)).lines[0].hold?.id as string;
    return { guest, guestHold };
  }
  async function assertHeldAsLines(sku: string, customerId: string) {
    const doc = await cartDoc(`c-${customerId}`);
    const lines = doc.lines.filter((line) => line.sku === sku);
    const s = await inv.models.Stock.findById(sku).lean();
    assert.deepEqual(s?.holds, Object.fromEntries(lines.map((line) => [line.hold?.id, line.quantity])), 'every reserved unit is a line\'s hold, once');
    assert.equal(s?.reserved, lines.reduce((sum, line) => sum + line.quantity, 0));
    await checkOk();
  }

  test('when both hold 2 and stock is plentiful, then quantities add, are clamped to maxPerOrder 3 with a notice, and the one remaining hold is the customer\'s', async () => {
    const ltd = await limitedProduct('LC-M1', 10);
    const { guest, guestHold } = await bothHold(ltd, 'lc-m1', 2, 2);
    assert.deepEqual([(await stock('LC-M1')).available, (await stock('LC-M1')).reserved], [6, 4]);

    const merged = await api().post('/api/cart/cart/merge').set('authorization', bearer('lc-m1')).set('x-cart-token', guest.token);
    assert.equal(merged.status, 200);
    assert.equal(merged.body.lines.length, 1);
    assert.equal(merged.body.lines[0].quantity, 3);
    assert.equal(merged.body.lines[0].hold.status, 'active');
    assert.deepEqual(merged.body.notices.map((n: { code: string; detail: string }) => [n.code, n.detail]), [['hold_lost', `${ltd.name}: quantity reduced to 3 (limit)`]]);
    assert.equal(await holdState(guestHold), 'released');
    assert.deepEqual([(await stock('LC-M1')).available, (await stock('LC-M1')).reserved], [7, 3]);
    assert.deepEqual(await usage('customer:lc-m1', 'LC-M1'), { owner: 'customer:lc-m1', sku: 'LC-M1', held: 3, committed: 0 });
    assert.deepEqual(await usage(`cart:${guest.id}`, 'LC-M1'), { owner: `cart:${guest.id}`, sku: 'LC-M1', held: 0, committed: 0 });
    assert.equal(await cart.models.Cart.countDocuments({ _id: guest.id }), 0);
    await assertHeldAsLines('LC-M1', 'lc-m1');
  });

  test('when the two carts hold all the stock there is, then the customer still gets the clamped quantity out of the guest\'s units and nothing is left reserved twice', async () => {
    const ltd = await limitedProduct('LC-M2', 4);
    const { guest, guestHold } = await bothHold(ltd, 'lc-m2', 2, 2);
    assert.deepEqual([(await stock('LC-M2')).available, (await stock('LC-M2')).reserved], [0, 4]);

    const merged = await api().post('/api/cart/cart/merge').set('authorization', bearer('lc-m2')).set('x-cart-token', guest.token);
    assert.equal(merged.status, 200);
    assert.deepEqual(merged.body.lines.map((line: { quantity: number; hold: { status: string } }) => [line.quantity, line.hold.status]), [[3, 'active']]);
    assert.deepEqual(merged.body.notices.map((n: { code: string; detail: string }) => [n.code, n.detail]), [['hold_lost', `${ltd.name}: quantity reduced to 3 (limit)`]]);
    assert.equal(await holdState(guestHold), 'released');
    assert.deepEqual([(await stock('LC-M2')).available, (await stock('LC-M2')).reserved], [1, 3]);
    assert.deepEqual(await usage('customer:lc-m2', 'LC-M2'), { owner: 'customer:lc-m2', sku: 'LC-M2', held: 3, committed: 0 });
    await assertHeldAsLines('LC-M2', 'lc-m2');
  });

  test('when the customer already bought 2 and the per-customer limit is 4, then the merged line is clamped to 2 with a notice and the order still counts', async () => {
    const ltd = await limitedProduct('LC-M3', 10);
    assert.equal((await invApi().post('/api/inventory/holds').set(admin).send({ id: 'lc-m3-order-0001', sku: 'LC-M3', qty: 2, owner: 'customer:lc-m3' })).status, 201);
    assert.equal((await invApi().post('/api/inventory/holds/lc-m3-order-0001/commit').set(admin)).body.state, 'committed');
    const { guest, guestHold } = await bothHold(ltd, 'lc-m3', 2, 1);

    const merged = await api().post('/api/cart/cart/merge').set('authorization', bearer('lc-m3')).set('x-cart-token', guest.token);
    assert.equal(merged.status, 200);
    assert.deepEqual(merged.body.lines.map((line: { quantity: number; hold: { status: string } }) => [line.quantity, line.hold.status]), [[2, 'active']]);
    assert.deepEqual(merged.body.notices.map((n: { code: string; detail: string }) => [n.code, n.detail]), [['hold_lost', `${ltd.name}: quantity reduced to 2 (limit)`]]);
    assert.equal(await holdState(guestHold), 'released');
    const s = await stock('LC-M3');
    assert.deepEqual([s.available, s.reserved, s.sold], [6, 2, 2]);
    assert.deepEqual(await usage('customer:lc-m3', 'LC-M3'), { owner: 'customer:lc-m3', sku: 'LC-M3', held: 2, committed: 2 });
    await assertHeldAsLines('LC-M3', 'lc-m3');
  });
});

describe('per-customer limit and ended holds', () => {
  test('when a customer\'s earlier cart hold was released and one unit was bought, then the limit counts the order and the live hold but not the released one', async () => {
    const ltd = await limitedProduct('LC-CAP', 20, 5);
    await openCustomerCart('lc-cap');
    const first = await addAsCustomer('lc-cap', ltd.id, 3);
    assert.equal(first.status, 201);
    assert.equal((await api().delete(`/api/cart/cart/lines/${first.body.lines[0].id}`).set('authorization', bearer('lc-cap'))).status, 200);
    assert.equal((await invApi().post('/api/inventory/holds').set(admin).send({ id: 'lc-cap-order-01', sku: 'LC-CAP', qty: 1, owner: 'customer:lc-cap' })).status, 201);
    await invApi().post('/api/inventory/holds/lc-cap-order-01/commit').set(admin);

    const again = await addAsCustomer('lc-cap', ltd.id, 3);
    assert.equal(again.status, 201, JSON.stringify(again.body));
    const more = await api().patch(`/api/cart/cart/lines/${again.body.lines[0].id}`).set('authorization', bearer('lc-cap')).send({ quantity: 4 });
    assert.equal(more.status, 422);
    assert.deepEqual([more.body.type, more.body.limit, more.body.max, more.body.alreadyHeldOrBought], ['urn:problem:customer_limit', 'maxPerCustomer', 4, 1]);
    assert.deepEqual(await usage('customer:lc-cap', 'LC-CAP'), { owner: 'customer:lc-cap', sku: 'LC-CAP', held: 3, committed: 1 });
    const s = await stock('LC-CAP');
    assert.deepEqual([s.available, s.reserved, s.sold], [16, 3, 1]);
    await checkOk();
  });
});
