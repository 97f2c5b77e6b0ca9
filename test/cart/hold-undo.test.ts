import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import request from 'supertest';
import { ManualClock } from '../../services/kit/index.js';
import { anonCartId } from '../../services/cart/domain/carts.js';
import type { Clients } from '../../services/cart/clients.js';
import type { Product } from '../helpers/catalog.js';
import { uniqueName } from '../helpers/env.js';
import { admin, inventoryCalls } from '../inventory/helpers.js';
import { startCartStack, type CartStack } from './helpers.js';

const dbName = uniqueName(import.meta.url);
const clock = new ManualClock(Date.now());
let stack: CartStack;
let product: Product;
const { api: invApi, stock, check } = inventoryCalls(() => stack.inv);
const api = () => request(stack.cart.app.callback());

before(async () => {
  stack = await startCartStack({ dbName, clock });
  product = await stack.catalog.createProduct({ sku: 'UNDO-1', slug: 'undo-lamp', name: 'Lamp', price: { amount: 2500, currency: 'EUR' }, limitedQuantity: true, maxPerOrder: 5 });
  assert.equal((await invApi().put('/api/inventory/stock/UNDO-1').set(admin).send({ onHand: 5 })).status, 201);
});
after(() => stack.close());

/**
 * Lets the next call of `method` reach inventory, then writes the cart behind the request's back
 * (what a second writer does when the first one's lock lease ran out), so the request's save fails.
 */
function interfereAfter(method: 'reserve' | 'modifyHold', cartId: string): void {
  const clients = stack.cart.deps.clients as unknown as Record<keyof Clients, (...args: unknown[]) => Promise<unknown>>;
  const real = clients[method];
  clients[method] = async (...args: unknown[]) => {
    clients[method] = real;
    const result = await real(...args);
    await stack.cart.models.Cart.updateOne({ _id: cartId }, { $inc: { version: 1 } });
    return result;
  };
}

const holdsOfSku = async () => Object.entries((await stack.inv.models.Stock.findById('UNDO-1').lean())?.holds ?? {});

describe('a cart that is not saved gives back what inventory granted for it', () => {
  test('when the save fails after a new hold was reserved, then the hold is released: no units are held for a line that does not exist', async () => {
    const token = (await api().post('/api/cart/carts')).body.token as string;
    interfereAfter('reserve', anonCartId(token));
    const res = await api().post('/api/cart/cart/lines').set('x-cart-token', token).send({ productId: product.id, quantity: 2 });
    assert.equal(res.status, 409);
    assert.equal(res.body.type, 'urn:problem:cart_changed');
    assert.deepEqual((await api().get('/api/cart/cart').set('x-cart-token', token)).body.lines, []);
    assert.deepEqual(await holdsOfSku(), []);
    const s = await stock('UNDO-1');
    assert.deepEqual([s.available, s.reserved], [5, 0]);
    // The shopper's retry gets the units.
    assert.equal((await api().post('/api/cart/cart/lines').set('x-cart-token', token).send({ productId: product.id, quantity: 2 })).status, 201);
    assert.deepEqual((await holdsOfSku()).map(([, units]) => units), [2]);
  });

  test('when the save fails after a hold was resized, then the hold goes back to the saved line\'s units', async () => {
    const token = (await api().post('/api/cart/carts')).body.token as string;
    assert.equal((await api().post('/api/cart/cart/lines').set('x-cart-token', token).send({ productId: product.id, quantity: 1 })).status, 201);
    const before = await stock('UNDO-1');
    interfereAfter('modifyHold', anonCartId(token));
    const res = await api().post('/api/cart/cart/lines').set('x-cart-token', token).send({ productId: product.id, quantity: 1 });
    assert.equal(res.status, 409);
    const cart = (await api().get('/api/cart/cart').set('x-cart-token', token)).body;
    assert.equal(cart.lines[0].quantity, 1);
    const after = await stock('UNDO-1');
    assert.deepEqual([after.available, after.reserved], [before.available, before.reserved]);
    assert.equal((await check()).ok, true);
  });
});
