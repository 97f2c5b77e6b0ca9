import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import request from 'supertest';
import { ManualClock } from '../../services/kit/index.js';
import { uniqueName } from '../helpers/env.js';
import { admin, inventoryCalls } from '../inventory/helpers.js';
import { startCartStack, type CartStack } from './helpers.js';

const dbName = uniqueName(import.meta.url);
const clock = new ManualClock(Date.now());
let stack: CartStack;
const { api: invApi, stock, usage } = inventoryCalls(() => stack.inv);

before(async () => {
  stack = await startCartStack({ dbName, clock, env: { CART_LIMITED_MAX_PER_CUSTOMER: '5' } });
});
after(() => stack.close());

test('when 40 adds of a limited product race on one customer cart while reconcile passes run, then the cart, the hold and usage all stay at the cap of 5', async () => {
  const product = await stack.catalog.createProduct({ sku: 'RACE-1', slug: 'race-sneaker', name: 'Sneaker', price: { amount: 9999, currency: 'EUR' }, limitedQuantity: true, maxPerOrder: 10 });
  await invApi().put('/api/inventory/stock/RACE-1').set(admin).send({ onHand: 100 });
  const bearer = `Bearer ${stack.cart.customerToken('cust-race')}`;
  const api = () => request(stack.cart.app.callback());
  assert.equal((await api().post('/api/cart/carts').set('authorization', bearer)).status, 201);

  // Other holds on the SKU make each pass read a longer list, widening the window the race needs.
  for (let i = 0; i < 30; i++) assert.equal((await invApi().post('/api/inventory/holds').set(admin).send({ id: `other-hold-${i}`, sku: 'RACE-1', qty: 1, owner: `cart:other-${i}` })).status, 201);
  let adding = true;
  let passes = 0;
  const loop = async () => {
    while (adding) {
      await stack.inv.sweeps.reconcileOnce();
      passes++;
    }
  };
  const reconciling = Promise.all([loop(), loop(), loop()]);
  // 40 adds queue on one cart's lock; on a busy machine some wait past its bound and get 503 + Retry-After,
  // so each add retries as a storefront would, with the same Idempotency-Key (409 in_progress: the first
  // attempt is still running; retry shortly).
  // Retries stop at a deadline, not a count: on a machine running the whole suite the 40 adds take minutes.
  const giveUpAt = Date.now() + 300_000;
  const addOnce = async (key: string) => {
    for (;;) {
      const res = await api().post('/api/cart/cart/lines').set('authorization', bearer).set('idempotency-key', key).send({ productId: product.id, quantity: 1 });
      const retry = res.status === 503 || (res.status === 409 && res.body.type === 'urn:problem:in_progress');
      if (!retry || Date.now() > giveUpAt) return res;
      await sleep(500 + Math.random() * 500);
    }
  };
  const answers = await Promise.all(Array.from({ length: 40 }, (_, i) => addOnce(`race-add-${i}`)));
  adding = false;
  await reconciling;
  await stack.inv.sweeps.reconcileOnce();

  const statuses = answers.map((res) => res.status);
  assert.ok(passes > 0, 'reconcile ran during the adds');
  assert.ok(statuses.every((status) => [201, 422].includes(status)), `unexpected answers ${answers.map((res) => `${res.status} ${res.body.type ?? ""}`).join(", ")}`);
  const cart = (await api().get('/api/cart/cart').set('authorization', bearer)).body;
  const line = cart.lines[0];
  assert.equal(line.quantity, 5);
  assert.equal(statuses.filter((status) => status === 201).length, 5);
  assert.equal((await stock('RACE-1')).reserved, 5 + 30);
  assert.deepEqual(await usage('customer:cust-race', 'RACE-1'), { owner: 'customer:cust-race', sku: 'RACE-1', held: 5, committed: 0 });
});
