import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import request from 'supertest';
import { ManualClock } from '../../services/kit/index.js';
import { anonCartId } from '../../services/cart/domain/carts.js';
import type { Clients } from '../../services/cart/clients.js';
import type { Product } from '../helpers/catalog.js';
import { eventually, uniqueName } from '../helpers/env.js';
import { admin, inventoryCalls } from '../inventory/helpers.js';
import { startCartStack, type CartStack } from './helpers.js';

const dbName = uniqueName(import.meta.url);
const clock = new ManualClock(Date.now());
let stack: CartStack;
let slow: Product;
let lamp: Product;
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
  lamp = await stack.catalog.createProduct({ sku: 'UNDO-1', slug: 'undo-lamp', name: 'Lamp', price: { amount: 2500, currency: 'EUR' }, limitedQuantity: true, maxPerOrder: 5 });
  assert.equal((await invApi().put('/api/inventory/stock/UNDO-1').set(admin).send({ onHand: 5 })).status, 201);
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

test('when inventory cannot take the release of a given-up hold, then the release is owed and made by the retry loop once it can', async () => {
  const token = await newCart();
  const before = await stock('SLOW-1');
  // The release fails as it does when the cart's inventory breaker is open in a rush; everything else goes through.
  const clients = stack.cart.deps.clients as unknown as Record<keyof Clients, (...args: unknown[]) => Promise<unknown>>;
  const realRelease = clients.releaseHold;
  let refusing = true;
  clients.releaseHold = async (...args: unknown[]) => {
    if (refusing) throw new Error('Breaker is open');
    return realRelease(...args);
  };
  try {
    const holder = stack.inv.deps.lock('SLOW-1', () => sleep(4_500));
    await sleep(50);
    assert.equal((await add(token, slow.id)).status, 503);
    await holder;
    // Inventory finished the reserve nobody wants: one unit held, its release owed.
    assert.ok(await eventually(async () => (await stack.cart.deps.releases.owed()).length > 0), 'the release is owed');
    const owed = await stack.cart.deps.releases.owed();
    assert.equal(owed.length, 1);
    assert.match(owed[0]!, new RegExp(`^h_${anonCartId(token)}_`));
    assert.equal(await stack.cart.releaseRetry.runOnce(), 0, 'not due yet, and still refused');
    refusing = false;
    clock.advance(2_000);
    assert.equal(await stack.cart.releaseRetry.runOnce(), 1);
    assert.deepEqual(await stack.cart.deps.releases.owed(), []);
    const settled = async () => {
      const s = await stock('SLOW-1');
      return s.available === before.available && s.reserved === before.reserved;
    };
    assert.ok(await eventually(settled), 'the unit came back');
    assert.equal((await check()).ok, true);
  } finally {
    clients.releaseHold = realRelease;
  }
});

/**
 * Lets calls of `method` reach inventory, each followed by a write of the cart behind the request's
 * back (what a second writer does when the first one's lock lease ran out), so the request's saves
 * fail, until `times` calls were made or the returned function is called. A save that fails runs once
 * more from the database (the cart's Redis copy may have been behind, carts.ts `withLockedCart`).
 */
function interfereAfter(method: 'reserve' | 'modifyHold', cartId: string, times = Infinity): () => void {
  const clients = stack.cart.deps.clients as unknown as Record<keyof Clients, (...args: unknown[]) => Promise<unknown>>;
  const real = clients[method];
  let left = times;
  const restore = () => {
    clients[method] = real;
  };
  clients[method] = async (...args: unknown[]) => {
    if (--left <= 0) restore();
    const result = await real(...args);
    await stack.cart.models.Cart.updateOne({ _id: cartId }, { $inc: { version: 1 } });
    return result;
  };
  return restore;
}

const holdsOfSku = async () => Object.entries((await stack.inv.models.Stock.findById('UNDO-1').lean())?.holds ?? {});

describe('a cart that is not saved gives back what inventory granted for it', () => {
  test('when the save fails after a new hold was reserved, then the hold is released: no units are held for a line that does not exist', async () => {
    const token = await newCart();
    const restore = interfereAfter('reserve', anonCartId(token));
    const res = await api().post('/api/cart/cart/lines').set('x-cart-token', token).send({ productId: lamp.id, quantity: 2 });
    restore();
    assert.equal(res.status, 409);
    assert.equal(res.body.type, 'urn:problem:cart_changed');
    assert.deepEqual((await api().get('/api/cart/cart').set('x-cart-token', token)).body.lines, []);
    assert.deepEqual(await holdsOfSku(), []);
    const s = await stock('UNDO-1');
    assert.deepEqual([s.available, s.reserved], [5, 0]);
    // The shopper's retry gets the units.
    assert.equal((await api().post('/api/cart/cart/lines').set('x-cart-token', token).send({ productId: lamp.id, quantity: 2 })).status, 201);
    assert.deepEqual((await holdsOfSku()).map(([, units]) => units), [2]);
  });

  test('when one save fails after a hold was reserved, then the add runs once more from the database: one hold, the one the line names', async () => {
    const token = await newCart();
    interfereAfter('reserve', anonCartId(token), 1);
    const res = await api().post('/api/cart/cart/lines').set('x-cart-token', token).send({ productId: lamp.id, quantity: 2 });
    assert.equal(res.status, 201);
    const cart = (await api().get('/api/cart/cart').set('x-cart-token', token)).body;
    assert.deepEqual(cart.lines.map((line: { quantity: number }) => line.quantity), [2]);
    const saved = await stack.cart.models.Cart.findById(anonCartId(token)).lean();
    const ofThisCart = (await holdsOfSku()).filter(([id]) => id.startsWith(`h_${anonCartId(token)}_`));
    assert.deepEqual(ofThisCart, [[saved!.lines[0]!.hold!.id, 2]]);
    assert.equal((await check()).ok, true);
    // Its units go back: the guests of this file share one client address and its per-client cap.
    assert.equal((await api().delete(`/api/cart/cart/lines/${cart.lines[0].id}`).set('x-cart-token', token)).status, 200);
  });

  test('when the save fails after a hold was resized, then the hold goes back to the saved line\'s units', async () => {
    const token = await newCart();
    assert.equal((await api().post('/api/cart/cart/lines').set('x-cart-token', token).send({ productId: lamp.id, quantity: 1 })).status, 201);
    const before = await stock('UNDO-1');
    const restore = interfereAfter('modifyHold', anonCartId(token));
    const res = await api().post('/api/cart/cart/lines').set('x-cart-token', token).send({ productId: lamp.id, quantity: 1 });
    restore();
    assert.equal(res.status, 409);
    const cart = (await api().get('/api/cart/cart').set('x-cart-token', token)).body;
    assert.equal(cart.lines[0].quantity, 1);
    const after = await stock('UNDO-1');
    assert.deepEqual([after.available, after.reserved], [before.available, before.reserved]);
    assert.equal((await check()).ok, true);
  });
});
