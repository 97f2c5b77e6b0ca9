/**
 * The storefront page's logic (services/storefront/public/logic.js), run in Node
 * without a browser: the retry policy against the kit's real problem answers, a
 * new guest's ticket against the real cart and support services, and the rule that
 * the page calls only the public APIs. The DOM part (app.js) is driven in Chromium
 * by browser.solo.test.ts.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import Router from '@koa/router';
import type Koa from 'koa';
import { AppError, createKoaApp, systemClock } from '../../services/kit/index.js';
import { SERVICES } from '../../charts-ts/services.js';
import { checkoutResult, createClient, isRetryable, limitedStock, noticeText, tokenStore, type TokenStore } from '../../services/storefront/public/logic.js';
import { testObservability, uniqueName } from '../helpers/env.js';
import { startCart, type CartUnderTest } from '../cart/helpers.js';
import { startSupport, type SupportUnderTest } from '../support/helpers.js';

const PUBLIC_DIR = new URL('../../services/storefront/public/', import.meta.url);

async function listen(app: Koa): Promise<{ url: string; close(): Promise<void> }> {
  const server = http.createServer(app.callback());
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () => new Promise<void>((resolve) => { server.closeAllConnections(); server.close(() => resolve()); }),
  };
}

/** A fresh visitor: nothing in storage. */
function emptyStore(): TokenStore {
  const data = new Map<string, string>();
  return tokenStore({ getItem: (k) => data.get(k) ?? null, setItem: (k, v) => void data.set(k, v), removeItem: (k) => void data.delete(k) });
}

/** fetch as the page does it (same-origin paths), sent to the service that owns the prefix, as the Ingress would. */
const routedFetch = (routes: Array<[string, string]>) => (path: string, init: RequestInit) => {
  const base = routes.find(([prefix]) => path.startsWith(prefix))?.[1];
  if (!base) throw new Error(`no route for ${path}`);
  return fetch(`${base}${path}`, init);
};

let cart: CartUnderTest;
let support: SupportUnderTest;
let cartServer: Awaited<ReturnType<typeof listen>>;
let supportServer: Awaited<ReturnType<typeof listen>>;
before(async () => {
  const dbName = uniqueName(import.meta.url);
  // Creating a cart and opening a ticket call neither catalog nor inventory.
  cart = await startCart({ dbName: `${dbName}_cart`, catalogUrl: 'http://127.0.0.1:9', inventoryUrl: 'http://127.0.0.1:9', clock: systemClock });
  support = await startSupport({ dbName: `${dbName}_sup` });
  cartServer = await listen(cart.app);
  supportServer = await listen(support.app);
});
after(async () => {
  await cartServer.close();
  await supportServer.close();
  await cart.close();
  await support.connection.dropDatabase().catch(() => undefined);
  await support.close();
});

test('when checkout answers 409 in_progress (the kit\'s problem body, type urn:problem:in_progress), then the page retries the same request with the same Idempotency-Key and gets the order', async () => {
  const keys: string[] = [];
  const app = createKoaApp(testObservability('storefront-logic'));
  const router = new Router();
  router.post('/api/checkout', (ctx) => {
    keys.push(ctx.get('idempotency-key'));
    // What kit/idempotency.ts throws while the first request with this key is still running.
    if (keys.length === 1) throw new AppError(409, 'in_progress', 'Conflict', { detail: 'a request with this Idempotency-Key is still running; retry shortly', headers: { 'retry-after': '1' } });
    ctx.status = 201;
    ctx.body = { order: { id: 'o_test', status: 'paid' } };
  });
  app.use(router.routes());
  const server = await listen(app);
  const slept: number[] = [];
  try {
    const client = createClient({ fetch: routedFetch([['/api/', server.url]]), store: emptyStore(), sleep: async (ms) => void slept.push(ms) });
    const answer = await client.api('POST', '/api/checkout', { body: { email: 'a@example.com' }, headers: { 'idempotency-key': 'key-1' }, retry: true });
    assert.equal(answer.status, 201);
    assert.deepEqual(keys, ['key-1', 'key-1']);
    assert.ok(slept.includes(1000), 'Retry-After honoured');
    assert.deepEqual(checkoutResult(answer), { orderId: 'o_test', keepKey: false });
  } finally {
    await server.close();
  }
});

test('the retry policy and the key: kept while the outcome may change (in_progress, 429, 5xx, no answer), dropped when final; a pending order (202) is placed', () => {
  const problem = (code: string) => ({ type: `urn:problem:${code}`, title: 'x', status: 409 });
  assert.equal(isRetryable(409, problem('in_progress')), true);
  assert.equal(isRetryable(409, problem('hold_expired')), false);
  for (const status of [0, 429, 502, 503, 504]) assert.equal(isRetryable(status, null), true, String(status));
  for (const status of [400, 402, 404, 422]) assert.equal(isRetryable(status, null), false, String(status));
  assert.deepEqual(checkoutResult({ status: 409, body: problem('in_progress') }), { orderId: null, keepKey: true });
  assert.deepEqual(checkoutResult({ status: 500, body: null }), { orderId: null, keepKey: true });
  assert.deepEqual(checkoutResult({ status: 402, body: problem('payment_declined') }), { orderId: null, keepKey: false });
  assert.deepEqual(checkoutResult({ status: 202, body: { order: { id: 'o_p', status: 'pending' } } }), { orderId: 'o_p', keepKey: false });
});

test('when a new guest (no cart, no sign-in) sends the ticket form, then a cart token is obtained first and support opens the ticket', async () => {
  const fetcher = routedFetch([['/api/cart/', cartServer.url], ['/api/support/', supportServer.url]]);
  const store = emptyStore();
  const client = createClient({ fetch: fetcher, store, sleep: async () => undefined });
  // What the form did before: no credentials, so support refuses the guest.
  const bare = await client.api('POST', '/api/support/tickets', { body: { email: 'guest@example.com', subject: 'Where is my parcel?', message: 'Hello' } });
  assert.equal(bare.status, 401);
  const opened = await client.openTicket({ email: 'guest@example.com', subject: 'Where is my parcel?', message: 'Hello' });
  assert.equal(opened.status, 201, JSON.stringify(opened.body));
  assert.match(opened.body.id, /^t_/);
  assert.ok(store.cartToken, 'the guest has a cart token now');
  const mine = await client.api('GET', '/api/support/tickets');
  assert.deepEqual(mine.body.items.map((t: { id: string }) => t.id), [opened.body.id]);
});

test('cart notices show the API\'s detail; limited stock comes from the catalog read (unknown when inventory left it out)', () => {
  assert.equal(noticeText({ code: 'hold_lost', detail: 'Sneaker: quantity reduced to 1 (limit)' }), 'Sneaker: quantity reduced to 1 (limit)');
  assert.deepEqual(limitedStock({ limitedQuantity: true, maxPerOrder: 2, availability: { available: 3, inStock: true } }), { available: 3, maxPerOrder: 2 });
  assert.deepEqual(limitedStock({ limitedQuantity: true }), { available: null, maxPerOrder: null });
  assert.equal(limitedStock({ limitedQuantity: false }), null);
});

test('the page calls only public APIs: every /api/ path in its scripts is under a prefix the Ingress routes', () => {
  const prefixes = SERVICES.flatMap((s) => s.publicPathPrefixes).filter((p) => p.startsWith('/api/'));
  const scripts = fs.readdirSync(PUBLIC_DIR).filter((f) => f.endsWith('.js'));
  assert.ok(scripts.includes('app.js') && scripts.includes('logic.js'));
  const paths = scripts.flatMap((f) => [...fs.readFileSync(new URL(f, PUBLIC_DIR), 'utf8').matchAll(/[`'"](\/api\/[A-Za-z0-9_\-/]*)/g)].map((m) => `${f}: ${m[1]}`));
  assert.ok(paths.length > 10, 'found the API paths');
  const internal = paths.filter((p) => !prefixes.some((prefix) => p.split(': ')[1] === prefix || p.split(': ')[1]!.startsWith(`${prefix}/`)));
  assert.deepEqual(internal, []);
});
