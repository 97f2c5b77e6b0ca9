/**
 * Carts' Redis copies (services/cart/domain/cart-cache.ts): writes and views
 * read the copy instead of the database; a copy that is behind the database,
 * or older than the Redis server it sits in, is never what a request gets.
 */
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { serialize } from 'node:v8';
import request from 'supertest';
import { ManualClock } from '../../services/kit/index.js';
import { anonCartId } from '../../services/cart/domain/carts.js';
import { countFinds, type Product } from '../helpers/catalog.js';
import { eventually, uniqueName } from '../helpers/env.js';
import { startCart, startCartStack, type CartStack, type CartUnderTest } from './helpers.js';

const dbName = uniqueName(import.meta.url);
const clock = new ManualClock(Date.now());
let stack: CartStack;
let mug: Product;
let pen: Product;
const api = (cart: CartUnderTest = stack.cart) => request(cart.app.callback());
const copyKey = (token: string) => `lock:${dbName}:copy:${anonCartId(token)}`;

async function newCart(cart: CartUnderTest = stack.cart): Promise<string> {
  const res = await api(cart).post('/api/cart/carts');
  assert.equal(res.status, 201);
  return res.body.token as string;
}
const add = (token: string, productId: string, quantity = 1, cart: CartUnderTest = stack.cart) =>
  api(cart).post('/api/cart/cart/lines').set('x-cart-token', token).send({ productId, quantity });
const view = async (token: string, cart: CartUnderTest = stack.cart) => (await api(cart).get('/api/cart/cart').set('x-cart-token', token)).body as { lines: Array<{ productId: string; quantity: number }> };

/** Finds the cart service sends on its carts collection from now on. */
const countCartFinds = (cart: CartUnderTest) => countFinds(cart, 'carts');

before(async () => {
  stack = await startCartStack({ dbName, clock });
  mug = await stack.catalog.createProduct({ sku: 'COPY-MUG', slug: 'copy-mug', name: 'Mug', price: { amount: 900, currency: 'EUR' }, maxPerOrder: 50 });
  pen = await stack.catalog.createProduct({ sku: 'COPY-PEN', slug: 'copy-pen', name: 'Pen', price: { amount: 150, currency: 'EUR' }, maxPerOrder: 50 });
  // The copy needs the Redis server's run_id, learnt just after the connection is ready.
  assert.ok(await eventually(async () => {
    const token = await newCart();
    return (await stack.cart.redis.exists(copyKey(token))) === 1;
  }), 'a new cart gets a Redis copy');
});
after(() => stack.close());

describe('cart copies in Redis', () => {
  test('when a shopper adds to and views a cart, then no request reads the cart from the database', async () => {
    const token = await newCart();
    const finds = countCartFinds(stack.cart);
    assert.equal((await add(token, mug.id)).status, 201);
    assert.equal((await add(token, pen.id, 2)).status, 201);
    assert.equal((await add(token, mug.id)).status, 201);
    assert.deepEqual((await view(token)).lines.map((line) => [line.productId, line.quantity]), [[mug.id, 2], [pen.id, 2]]);
    assert.equal(finds.count(), 0);
    // The database has what the copy has.
    const saved = await stack.cart.models.Cart.findById(anonCartId(token)).lean();
    assert.deepEqual(saved!.lines.map((line) => [line.productId, line.quantity]), [[mug.id, 2], [pen.id, 2]]);
  });

  test('when the database was written behind the copy\'s back, then the next add lands on the database\'s cart and nothing is lost', async () => {
    const token = await newCart();
    assert.equal((await add(token, mug.id)).status, 201);
    // A write that bypassed the cart service (by hand, or a writer whose lock lease ran out).
    await stack.cart.models.Cart.updateOne({ _id: anonCartId(token) }, { $set: { 'lines.0.quantity': 7 }, $inc: { version: 1 } });
    const res = await add(token, pen.id);
    assert.equal(res.status, 201);
    assert.deepEqual(res.body.lines.map((line: { productId: string; quantity: number }) => [line.productId, line.quantity]), [[mug.id, 7], [pen.id, 1]]);
    const saved = await stack.cart.models.Cart.findById(anonCartId(token)).lean();
    assert.deepEqual(saved!.lines.map((line) => [line.productId, line.quantity]), [[mug.id, 7], [pen.id, 1]]);
    assert.deepEqual((await view(token)).lines.map((line) => [line.productId, line.quantity]), [[mug.id, 7], [pen.id, 1]]);
  });

  test('when a copy was made before a Redis restart, then it is ignored: the view is the database\'s', async () => {
    const token = await newCart();
    assert.equal((await add(token, mug.id, 3)).status, 201);
    // What a restart from the append-only file can leave: a copy one write behind, under the previous server's run_id.
    const saved = await stack.cart.models.Cart.findById(anonCartId(token)).lean();
    const behind = { ...saved!, version: saved!.version - 1, lines: [] };
    await stack.cart.redis.hset(copyKey(token), 'v', String(saved!.version + 5), 'r', 'f'.repeat(40), 'd', serialize(behind));
    assert.deepEqual((await view(token)).lines.map((line) => [line.productId, line.quantity]), [[mug.id, 3]]);
    // The next write replaces it.
    assert.equal((await add(token, mug.id)).status, 201);
    assert.deepEqual((await view(token)).lines.map((line) => [line.productId, line.quantity]), [[mug.id, 4]]);
  });

  test('when a copy holds a newer version, then a late write of an older one does not replace it', async () => {
    const token = await newCart();
    assert.equal((await add(token, mug.id)).status, 201);
    const newer = await stack.cart.models.Cart.findById(anonCartId(token)).lean();
    await stack.cart.deps.cache.put({ ...newer!, version: newer!.version - 1, lines: [] });
    assert.deepEqual((await view(token)).lines.map((line) => line.quantity), [1]);
  });

  test('when a second replica reads the cart, then it uses the copy the first one wrote', async () => {
    const other = await startCart({ dbName, catalogUrl: stack.catalog.url, inventoryUrl: stack.inv.url, clock });
    try {
      const token = await newCart();
      assert.equal((await add(token, mug.id)).status, 201);
      assert.ok(await eventually(async () => (await other.deps.cache.get(anonCartId(token))) !== undefined), 'the second replica learnt the run_id');
      const finds = countCartFinds(other);
      assert.equal((await add(token, pen.id, 1, other)).status, 201);
      assert.deepEqual((await view(token)).lines.map((line) => [line.productId, line.quantity]), [[mug.id, 1], [pen.id, 1]]);
      assert.equal(finds.count(), 0);
    } finally {
      // Its database is the stack's: close without dropping it.
      await other.sweeper.stop();
      await other.releaseRetry.stop();
      await other.clients.close();
      await other.redis.quit();
      await other.connection.close();
    }
  });

  test('when the sweeper deletes an expired cart, then its copy goes too: the token answers 404', async () => {
    const token = await newCart();
    assert.equal((await add(token, mug.id)).status, 201);
    clock.advance(31 * 86_400_000);
    try {
      await stack.cart.sweeper.runOnce();
      assert.equal(await stack.cart.redis.exists(copyKey(token)), 0);
      assert.equal((await api().get('/api/cart/cart').set('x-cart-token', token)).status, 404);
    } finally {
      clock.advance(-31 * 86_400_000);
    }
  });

  test('when copies are off (CART_CACHE_TTL_S=0), then every write reads the database and none is kept', async () => {
    const off = await startCart({ dbName: `${dbName}_off`, catalogUrl: stack.catalog.url, inventoryUrl: stack.inv.url, clock, env: { CART_CACHE_TTL_S: '0' } });
    try {
      const token = await newCart(off);
      const finds = countCartFinds(off);
      assert.equal((await add(token, mug.id, 1, off)).status, 201);
      assert.ok(finds.count() >= 1);
      assert.equal(await off.redis.exists(`lock:${dbName}_off:copy:${anonCartId(token)}`), 0);
    } finally {
      await off.close();
    }
  });
});
