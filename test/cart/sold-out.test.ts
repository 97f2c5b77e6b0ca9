import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import request from 'supertest';
import { ManualClock, unavailable } from '../../services/kit/index.js';
import { anonCartId } from '../../services/cart/domain/carts.js';
import { createSoldOutMemo } from '../../services/cart/domain/sold-out.js';
import type { Product } from '../helpers/catalog.js';
import { uniqueName } from '../helpers/env.js';
import { admin, inventoryCalls } from '../inventory/helpers.js';
import { startCartStack, type CartStack } from './helpers.js';

const dbName = uniqueName(import.meta.url);
const clock = new ManualClock(Date.now());
let stack: CartStack;
let door: Product;
const { api: invApi, stock, check } = inventoryCalls(() => stack.inv);
const api = () => request(stack.cart.app.callback());
/** Reserves the cart sent to inventory since the test began. */
let reserves = 0;

async function newCart(): Promise<string> {
  const res = await api().post('/api/cart/carts');
  assert.equal(res.status, 201);
  return res.body.token as string;
}
const add = (token: string, key?: string) => {
  const req = api().post('/api/cart/cart/lines').set('x-cart-token', token);
  return (key ? req.set('idempotency-key', key) : req).send({ productId: door.id, quantity: 1 });
};
/** Makes this replica remember DOOR-2 as sold out: an add that inventory refuses with none left. */
async function soldOutNoted(): Promise<void> {
  assert.equal((await stock('DOOR-2')).available, 0);
  assert.equal((await add(await newCart())).status, 409);
}
const lapse = () => clock.advance(1_001);

before(async () => {
  // All carts come from 127.0.0.1: lift the guest per-client cap (test/cart/guest-policy.test.ts covers it).
  stack = await startCartStack({ dbName, clock, env: { CART_PRODUCT_CACHE_MS: '60000', CART_LIMITED_MAX_PER_CLIENT: '100000' } });
  door = await stack.catalog.createProduct({ sku: 'DOOR-2', slug: 'doorbuster-console', name: 'Console', price: { amount: 29900, currency: 'EUR' }, limitedQuantity: true, maxPerOrder: 1 });
  assert.equal((await invApi().put('/api/inventory/stock/DOOR-2').set(admin).send({ onHand: 1 })).status, 201);
  const clients = stack.cart.deps.clients;
  const real = clients.reserve.bind(clients);
  clients.reserve = (input) => {
    reserves += 1;
    return real(input);
  };
  assert.equal((await add(await newCart())).status, 201);
});
after(() => stack.close());

describe('a doorbuster that just sold out', () => {
  test('when the memory of "none left" lapses during a rush, then one add asks inventory and the others get 409 from the cart at once', async () => {
    await soldOutNoted();
    lapse();
    const tokens = await Promise.all(Array.from({ length: 12 }, newCart));
    reserves = 0;
    const answers = await Promise.all(tokens.map((token) => add(token)));
    assert.deepEqual([...new Set(answers.map((a) => a.status))], [409]);
    assert.ok(answers.every((a) => a.body.type === 'urn:problem:insufficient_stock' && a.body.available === 0));
    assert.equal(reserves, 1, 'only the probe reached inventory');
    // The probe learnt "none left" again: the next add is answered by the cart alone.
    assert.equal((await add(tokens[0]!)).status, 409);
    assert.equal(reserves, 1);
  });

  test('when the probe learns nothing about stock (its cart is unknown), then the next add probes', async () => {
    lapse();
    reserves = 0;
    const unknown = (await add('x'.repeat(43))).status;
    assert.equal(unknown, 404);
    assert.equal(reserves, 0);
    assert.equal((await add(await newCart())).status, 409);
    assert.equal(reserves, 1, 'the add after the unknown cart asked inventory');
  });

  test('when the probe cannot reach inventory (503), then "none left" is kept for another period: the next adds do not each try in turn', async () => {
    lapse();
    const clients = stack.cart.deps.clients;
    const counted = clients.reserve;
    clients.reserve = () => {
      clients.reserve = counted;
      return Promise.reject(unavailable('inventory_unavailable', 'inventory is unavailable; try again shortly'));
    };
    assert.equal((await add(await newCart())).status, 503);
    reserves = 0;
    assert.equal((await add(await newCart())).status, 409);
    assert.equal(reserves, 0, 'answered from the memory');
    lapse();
    assert.equal((await add(await newCart())).status, 409);
    assert.equal(reserves, 1, 'the next period probes again');
  });

  test('when a unit comes back, then the probe gets it, and a retry of its Idempotency-Key replays the 201 even after the SKU sold out again', async () => {
    const [holdId] = Object.keys((await stack.inv.models.Stock.findById('DOOR-2').lean())?.holds ?? {});
    assert.equal((await invApi().post(`/api/inventory/holds/${holdId}/release`).set(admin)).status, 200);
    lapse();
    const token = await newCart();
    const first = await add(token, 'add-console-1');
    assert.equal(first.status, 201);
    await soldOutNoted();
    const retry = await add(token, 'add-console-1');
    assert.equal(retry.status, 201);
    assert.equal(retry.headers['idempotent-replayed'], 'true');
    // A new key on the same sold-out SKU gets the early 409 and leaves no idempotency record behind.
    const other = await add(token, 'add-console-2');
    assert.equal(other.status, 409);
    assert.equal(await stack.cart.models.Cart.db.collection('cart_idempotency_keys').countDocuments({ _id: { $regex: 'add-console-2$' } } as never), 0);
    const cart = await stack.cart.models.Cart.findById(anonCartId(token)).lean();
    assert.equal(cart?.lines[0]?.quantity, 1);
    assert.deepEqual([(await stock('DOOR-2')).available, (await check()).ok], [0, true]);
  });
});

describe('the sold-out memory of one replica', () => {
  test('when a winner\'s reserve, sent before the SKU sold out, answers after a loser\'s "none left", then the SKU stays sold out; a reserve sent after the note that gets units clears it', () => {
    const memoClock = new ManualClock(0);
    const memo = createSoldOutMemo(memoClock, 1_000);
    const winnerSent = memo.mark();
    memo.note('TV');
    memo.forget('TV', winnerSent);
    assert.equal(memo.check('TV'), 'sold_out', 'a late winner does not reopen the way for everyone');
    memoClock.advance(1_001);
    const probeSent = memo.mark();
    assert.equal(memo.check('TV'), 'probe');
    assert.equal(memo.check('TV'), 'sold_out', 'one probe at a time');
    memo.forget('TV', probeSent);
    memo.probed('TV');
    assert.equal(memo.check('TV'), 'open');
  });
});
