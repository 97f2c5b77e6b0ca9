import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { ManualClock } from '../../services/kit/index.js';
import type { Product } from '../helpers/catalog.js';
import { uniqueName } from '../helpers/env.js';
import { admin, inventoryCalls } from '../inventory/helpers.js';
import { startCartStack, type CartStack } from './helpers.js';

const dbName = uniqueName(import.meta.url);
const clock = new ManualClock(Date.now());
let stack: CartStack;
let server: http.Server;
let cartUrl = '';
let door: Product;
let other: Product;
const { api: invApi, stock, check } = inventoryCalls(() => stack.inv);

async function newCart(): Promise<string> {
  const res = await fetch(`${cartUrl}/api/cart/carts`, { method: 'POST' });
  assert.equal(res.status, 201);
  return ((await res.json()) as { token: string }).token;
}
const add = (token: string, productId: string) =>
  fetch(`${cartUrl}/api/cart/cart/lines`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-cart-token': token }, body: JSON.stringify({ productId, quantity: 1 }) });

before(async () => {
  // Generous per-call deadline: this machine is shared, and the claim here is exactness, not speed (the bench measures that).
  // The 400 carts stand for 400 shoppers, but all come from 127.0.0.1: lift the guest per-client cap (test/cart/guest-policy.test.ts covers it).
  stack = await startCartStack({ dbName, clock, env: { CART_CALL_TIMEOUT_MS: '5000', CART_PRODUCT_CACHE_MS: '1000', CART_LIMITED_MAX_PER_CLIENT: '100000' } });
  server = http.createServer(stack.cart.app.callback());
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  cartUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const price = { amount: 4999, currency: 'EUR' };
  door = await stack.catalog.createProduct({ sku: 'DOOR-1', slug: 'doorbuster-tv', name: 'TV', price, limitedQuantity: true, maxPerOrder: 1 });
  other = await stack.catalog.createProduct({ sku: 'OTHER-1', slug: 'other-limited', name: 'Console', price, limitedQuantity: true, maxPerOrder: 1 });
  for (const [sku, onHand] of [['DOOR-1', 20], ['OTHER-1', 10]] as const) {
    assert.equal((await invApi().put(`/api/inventory/stock/${sku}`).set(admin).send({ onHand })).status, 201);
  }
});
after(async () => {
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  await stack.close();
});

describe('doorbuster', () => {
  test('when 400 distinct carts (10 at a time) add a limited SKU with 20 units, then exactly 20 units end in carts, the rest get 409, nothing is orphaned, another limited SKU and readiness are unaffected', async () => {
    const tokens: string[] = [];
    for (let i = 0; i < 400; i += 20) tokens.push(...(await Promise.all(Array.from({ length: 20 }, newCart))));
    const bystander = await newCart();

    let bursting = true;
    const readiness: number[] = [];
    const probing = (async () => {
      while (bursting) {
        readiness.push((await fetch(`${stack.inv.url}/readyz`)).status);
        await sleep(50);
      }
    })();
    // 400 attempts, 10 in flight at any time (one process here runs catalog, inventory, cart and the clients).
    const answers: Array<{ token: string; status: number }> = [];
    let next = 0;
    const worker = async () => {
      while (next < tokens.length) {
        const token = tokens[next++]!;
        answers.push({ token, status: (await add(token, door.id)).status });
      }
    };
    const burst = Promise.all(Array.from({ length: 10 }, worker));
    await sleep(20);
    const bystanderStatus = (await add(bystander, other.id)).status;
    await burst;
    bursting = false;
    await probing;

    const won = answers.filter((a) => a.status === 201);
    const others = answers.filter((a) => a.status !== 201).map((a) => a.status);
    assert.equal(won.length, 20, `statuses: ${answers.map((a) => a.status).join(",")}`);
    assert.deepEqual([...new Set(others)], [409]);
    assert.equal(bystanderStatus, 201, 'another limited SKU can be added during the burst');
    assert.ok(readiness.length > 0 && readiness.every((status) => status === 200), `readiness during the burst: ${readiness.join(',')}`);

    // Every unit reserved in inventory belongs to a hold some cart line names, and vice versa.
    const carts = await stack.cart.models.Cart.find({}).lean();
    const lineHolds = carts.flatMap((cart) => cart.lines.filter((line) => line.sku === 'DOOR-1').map((line) => line.hold?.id));
    assert.equal(lineHolds.length, 20);
    const entries = (await stack.inv.models.Stock.findById('DOOR-1').lean())?.holds ?? {};
    assert.deepEqual(Object.keys(entries).sort(), [...lineHolds].sort());
    const s = await stock('DOOR-1');
    assert.deepEqual([s.available, s.reserved], [0, 20]);
    assert.equal(await stack.inv.models.Hold.countDocuments({ sku: 'DOOR-1', state: 'active' }), 20);
    assert.equal((await check()).ok, true);
  });

  test('when the SKU has just sold out, then adds get 409 from the cart alone, and a unit released meanwhile is offered again once the memo lapses', async () => {
    // The burst above sold DOOR-1 out; a hold released now gives one unit back in inventory.
    const [holdId] = Object.keys((await stack.inv.models.Stock.findById('DOOR-1').lean())?.holds ?? {});
    assert.ok(holdId);
    assert.equal((await invApi().post(`/api/inventory/holds/${holdId}/release`).set(admin)).status, 200);
    assert.equal((await stock('DOOR-1')).available, 1);
    const late = await newCart();
    // Within CART_SOLD_OUT_MEMO_MS (1 s by default) the cart still answers "none left" without asking inventory.
    const early = await add(late, door.id);
    assert.equal(early.status, 409);
    const problem = (await early.json()) as Record<string, unknown>;
    assert.deepEqual([problem.type, problem.available], ['urn:problem:insufficient_stock', 0]);
    assert.equal((await stock('DOOR-1')).available, 1, 'nothing was reserved');
    clock.advance(1_001);
    assert.equal((await add(late, door.id)).status, 201);
    assert.deepEqual([(await stock('DOOR-1')).available, (await check()).ok], [0, true]);
  });
});
