import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import request from 'supertest';
import { ManualClock } from '../../services/kit/index.js';
import type { Product } from '../helpers/catalog.js';
import { uniqueName } from '../helpers/env.js';
import { admin, inventoryCalls } from '../inventory/helpers.js';
import { startCartStack, type CartStack } from './helpers.js';

const dbName = uniqueName(import.meta.url);
const clock = new ManualClock(Date.now());
let stack: CartStack;
let slow: Product;
const { api: invApi, stock, check } = inventoryCalls(() => stack.inv);
const api = () => request(stack.cart.app.callback());
async function newCart(): Promise<string> {
  const res = await api().post('/api/cart/carts');
  assert.equal(res.status, 201);
  return res.body.token as string;
}
const add = (token: string, productId: string) => api().post('/api/cart/cart/lines').set('x-cart-token', token).send({ productId, quantity: 1 });

before(async () => {
  stack = await startCartStack({ dbName, clock });
  slow = await stack.catalog.createProduct({ sku: 'SLOW-1', slug: 'slow-limited', name: 'Drone', price: { amount: 4999, currency: 'EUR' }, limitedQuantity: true, maxPerOrder: 1 });
  assert.equal((await invApi().put('/api/inventory/stock/SLOW-1').set(admin).send({ onHand: 5 })).status, 201);
});
after(() => stack.close());

test('when the cart gives up on a reserve that inventory is still working on, then the hold ends released and its units return: no line, no orphaned hold', async () => {
  const token = await newCart();
  // Inventory is stuck on this SKU longer than the cart waits (1 s per attempt, 3 attempts).
  const holder = stack.inv.deps.lock('SLOW-1', () => sleep(4_500));
  await sleep(50);
  const res = await add(token, slow.id);
  assert.equal(res.status, 503);
  await holder;
  let settled = false;
  for (let i = 0; i < 100 && !settled; i++) {
    const s = await stock('SLOW-1');
    settled = s.available === 5 && s.reserved === 0 && (await stack.inv.models.Hold.countDocuments({ sku: 'SLOW-1', state: { $in: ['pending', 'active', 'releasing'] } })) === 0;
    if (!settled) await sleep(100);
  }
  assert.ok(settled, 'the given-up hold ended and its units came back');
  assert.deepEqual((await api().get('/api/cart/cart').set('x-cart-token', token)).body.lines, []);
  assert.equal((await add(await newCart(), slow.id)).status, 201);
  assert.equal((await check()).ok, true);
});
