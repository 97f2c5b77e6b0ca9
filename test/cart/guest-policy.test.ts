import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import request from 'supertest';
import { ManualClock } from '../../services/kit/index.js';
import type { CatalogUnderTest, Product } from '../helpers/catalog.js';
import { uniqueName } from '../helpers/env.js';
import { admin, inventoryCalls, type InventoryUnderTest } from '../inventory/helpers.js';
import { startCartStack, type CartStack, type CartUnderTest } from './helpers.js';

const clock = new ManualClock(Date.now());
let stack: CartStack;
let catalog: CatalogUnderTest;
let inv: InventoryUnderTest;
let cart: CartUnderTest;
let membersOnly: Product;
let doorbuster: Product;
const api = () => request(cart.app.callback());
const { api: invApi, stock } = inventoryCalls(() => inv);

/** A guest cart opened from `ip` (the cart's client key comes from the address Koa sees). */
async function guestCart(ip: string): Promise<{ add: (productId: string, quantity: number) => request.Test; set: (lineId: string, quantity: number) => request.Test }> {
  const created = await api().post('/api/cart/carts').set('x-forwarded-for', ip).expect(201);
  const token = created.body.token as string;
  return {
    add: (productId, quantity) => api().post('/api/cart/cart/lines').set('x-forwarded-for', ip).set('x-cart-token', token).send({ productId, quantity }),
    set: (lineId, quantity) => api().patch(`/api/cart/cart/lines/${lineId}`).set('x-forwarded-for', ip).set('x-cart-token', token).send({ quantity }),
  };
}

before(async () => {
  stack = await startCartStack({ dbName: uniqueName(import.meta.url), clock, env: { CART_LIMITED_MAX_PER_CLIENT: '3' } });
  ({ catalog, inv, cart } = stack);
  const price = { amount: 4999, currency: 'EUR' };
  membersOnly = await catalog.createProduct({ sku: 'GP-MEMBERS', slug: 'members-console', name: 'Console', price, limitedQuantity: true, maxPerOrder: 2, limitedPolicy: 'customers_only' });
  doorbuster = await catalog.createProduct({ sku: 'GP-DOOR', slug: 'door-tv', name: 'TV', price, limitedQuantity: true, maxPerOrder: 2 });
  await invApi().put('/api/inventory/stock/GP-MEMBERS').set(admin).send({ onHand: 50 });
  await invApi().put('/api/inventory/stock/GP-DOOR').set(admin).send({ onHand: 50 });
});
after(() => stack.close());

describe('guests and limited products (issue 9, item 7)', () => {
  test('a product says per_client unless set otherwise', () => {
    assert.equal(doorbuster.limitedPolicy, 'per_client');
    assert.equal(membersOnly.limitedPolicy, 'customers_only');
  });

  test('when a guest adds a customers_only product, then 403 sign_in_required and nothing is reserved; a signed-in customer can add it', async () => {
    const before = (await stock('GP-MEMBERS')).available;
    const guest = await guestCart('10.0.0.9');
    const refused = await guest.add(membersOnly.id, 1).expect(403);
    assert.equal(refused.body.type, 'urn:problem:sign_in_required');
    assert.match(refused.body.detail, /sign in/);
    assert.equal((await stock('GP-MEMBERS')).available, before);
    const customer = cart.customerToken('gp-cust-1');
    await api().post('/api/cart/carts').set('authorization', `Bearer ${customer}`).expect(201);
    await api().post('/api/cart/cart/lines').set('authorization', `Bearer ${customer}`).send({ productId: membersOnly.id, quantity: 2 }).expect(201);
    assert.equal((await stock('GP-MEMBERS')).available, before - 2);
  });

  test('when one client opens many guest carts for a per_client product, then their units together stop at the per-client cap; another client is not affected', async () => {
    const first = await guestCart('10.0.0.1');
    const second = await guestCart('10.0.0.1');
    await first.add(doorbuster.id, 2).expect(201);
    const over = await second.add(doorbuster.id, 2).expect(422);
    assert.equal(over.body.type, 'urn:problem:client_limit');
    assert.equal(over.body.max, 3);
    assert.equal(over.body.alreadyHeldOrBought, 2);
    const one = await second.add(doorbuster.id, 1).expect(201);
    // Raising a line counts too.
    const raised = await second.set(one.body.lines[0].id, 2).expect(422);
    assert.equal(raised.body.type, 'urn:problem:client_limit');
    const third = await guestCart('10.0.0.1');
    await third.add(doorbuster.id, 1).expect(422);
    const elsewhere = await guestCart('10.0.0.2');
    await elsewhere.add(doorbuster.id, 2).expect(201);
    assert.equal((await stock('GP-DOOR')).reserved, 5);
  });

  test('when a guest lowers and raises a line within the cap, then it is allowed (the line\'s own units are not counted twice)', async () => {
    const guest = await guestCart('10.0.0.3');
    const added = await guest.add(doorbuster.id, 1).expect(201);
    await guest.set(added.body.lines[0].id, 2).expect(200);
    await guest.add(doorbuster.id, 1).expect(422);
  });

  test('when one client adds from 12 guest carts at once, then together they still stop at the per-client cap (the count and the hold are one step)', async () => {
    const carts = await Promise.all(Array.from({ length: 12 }, () => guestCart('10.0.0.4')));
    const before = (await stock('GP-DOOR')).reserved;
    const statuses = (await Promise.all(carts.map((c) => c.add(doorbuster.id, 1)))).map((res) => res.status);
    assert.equal(statuses.filter((status) => status === 201).length, 3, `statuses: ${statuses.join(',')}`);
    assert.deepEqual([...new Set(statuses.filter((status) => status !== 201))], [422]);
    assert.equal((await stock('GP-DOOR')).reserved, before + 3);
  });

  test('when a guest writes its own X-Forwarded-For entries, then the cap still counts the address the trusted proxy saw', async () => {
    // The peer (127.0.0.1) is a trusted proxy that appended 10.0.0.5; the left entries are the client's own.
    const carts = await Promise.all(['1.1.1.1', '2.2.2.2', '3.3.3.3', '4.4.4.4'].map((spoofed) => guestCart(`${spoofed}, 10.0.0.5`)));
    for (const c of carts.slice(0, 3)) await c.add(doorbuster.id, 1).expect(201);
    const over = await carts[3]!.add(doorbuster.id, 1).expect(422);
    assert.equal(over.body.type, 'urn:problem:client_limit');
  });
});
