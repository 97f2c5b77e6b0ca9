import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import request from 'supertest';
import { ManualClock } from '../../services/kit/index.js';
import type { Product } from '../helpers/catalog.js';
import { uniqueName } from '../helpers/env.js';
import { startCartStack, type CartStack } from '../cart/helpers.js';

const dbName = uniqueName(import.meta.url);
const clock = new ManualClock(Date.now());
let stack: CartStack;
let mug: Product;
const api = () => request(stack.cart.app.callback());

before(async () => {
  stack = await startCartStack({ dbName, clock });
  mug = await stack.catalog.createProduct({ sku: 'MUG-I', slug: 'mug-i', name: 'Mug', price: { amount: 1000, currency: 'EUR' } });
});
after(() => stack.close());

test('when a client retries an add with the same Idempotency-Key, then the line is added once and the retry gets the first answer', async () => {
  const token = (await api().post('/api/cart/carts')).body.token as string;
  const add = () => api().post('/api/cart/cart/lines').set('x-cart-token', token).set('idempotency-key', 'add-mug-1').send({ productId: mug.id, quantity: 2 });
  const first = await add();
  assert.equal(first.status, 201);
  const retried = await Promise.all([add(), add()]);
  for (const res of retried) {
    assert.equal(res.status, 201);
    assert.equal(res.headers['idempotent-replayed'], 'true');
    assert.deepEqual(res.body.lines, first.body.lines);
  }
  const cart = await api().get('/api/cart/cart').set('x-cart-token', token);
  assert.equal(cart.body.lines[0].quantity, 2);
});

test('when the same key comes with another body or from another cart, then 422, or it counts as a new key', async () => {
  const token = (await api().post('/api/cart/carts')).body.token as string;
  const other = (await api().post('/api/cart/carts')).body.token as string;
  assert.equal((await api().post('/api/cart/cart/lines').set('x-cart-token', token).set('idempotency-key', 'k-2').send({ productId: mug.id, quantity: 1 })).status, 201);
  const mismatch = await api().post('/api/cart/cart/lines').set('x-cart-token', token).set('idempotency-key', 'k-2').send({ productId: mug.id, quantity: 3 });
  assert.equal(mismatch.status, 422);
  const otherCart = await api().post('/api/cart/cart/lines').set('x-cart-token', other).set('idempotency-key', 'k-2').send({ productId: mug.id, quantity: 1 });
  assert.equal(otherCart.status, 201);
  assert.equal(otherCart.headers['idempotent-replayed'], undefined);
  assert.equal((await api().get('/api/cart/cart').set('x-cart-token', token)).body.lines[0].quantity, 1);
});

test('when adds come without a key, then each one adds (the header is optional on cart writes)', async () => {
  const token = (await api().post('/api/cart/carts')).body.token as string;
  await api().post('/api/cart/cart/lines').set('x-cart-token', token).send({ productId: mug.id, quantity: 1 });
  await api().post('/api/cart/cart/lines').set('x-cart-token', token).send({ productId: mug.id, quantity: 1 });
  assert.equal((await api().get('/api/cart/cart').set('x-cart-token', token)).body.lines[0].quantity, 2);
});

test('when a key\'s first run saved the cart but its record was lost (its lease ran out and a retry took the key over), then the re-run changes nothing', async () => {
  const token = (await api().post('/api/cart/carts')).body.token as string;
  const add = () => api().post('/api/cart/cart/lines').set('x-cart-token', token).set('idempotency-key', 'add-mug-slow').send({ productId: mug.id, quantity: 1 });
  assert.equal((await add()).status, 201);
  // What a retry finds when the first run was too slow to renew its lease: no finished record to replay.
  const keys = stack.cart.connection.collection('cart_idempotency_keys');
  assert.equal((await keys.deleteMany({ _id: { $regex: ':add-mug-slow$' } } as never)).deletedCount, 1);
  const rerun = await add();
  assert.equal(rerun.status, 201);
  assert.equal(rerun.body.lines[0].quantity, 1, 'the unit is in the cart once');
  // A new key is a new add.
  assert.equal((await api().post('/api/cart/cart/lines').set('x-cart-token', token).set('idempotency-key', 'add-mug-again').send({ productId: mug.id, quantity: 1 })).body.lines[0].quantity, 2);
});
