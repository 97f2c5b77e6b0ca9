import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import Koa from 'koa';
import request from 'supertest';
import { bearerToken, customerTokenKey, verifyCustomerToken } from '../../services/kit/index.js';
import { TEST_CUSTOMER_TOKEN_SECRET, uniqueName } from '../helpers/env.js';
import { freePort } from '../helpers/ferretdb.js';
import { listen, startCustomers, type CustomersUnderTest } from './helpers.js';

const dbName = uniqueName(import.meta.url);
const key = customerTokenKey(TEST_CUSTOMER_TOKEN_SECRET);
let checkout: Awaited<ReturnType<typeof listen>>;
let customers: CustomersUnderTest;
let down: CustomersUnderTest;
const seen: { path: string; authorization: string }[] = [];

/**
 * A stand-in for checkout implementing only the contract customers relies on:
 * `GET /api/orders?cursor=&limit=` with the customer's own bearer token answers
 * that customer's orders, newest first, as `{ orders, nextCursor }`.
 */
function fakeCheckout(): Koa {
  const app = new Koa();
  const orders = Array.from({ length: 5 }, (_, i) => ({ id: `ord-${5 - i}`, customerId: 'someone', total: { amount: 1000 * (i + 1), currency: 'EUR' } }));
  app.use(async (ctx) => {
    seen.push({ path: ctx.url, authorization: ctx.get('authorization') });
    const customerId = verifyCustomerToken(key, bearerToken(ctx), Date.now());
    if (ctx.path !== '/api/orders' || !customerId) {
      ctx.status = customerId ? 404 : 401;
      return;
    }
    const start = Number(ctx.query.cursor ?? 0);
    const limit = Number(ctx.query.limit ?? 2);
    const page = orders.slice(start, start + limit).map((o) => ({ ...o, customerId }));
    ctx.body = { orders: page, nextCursor: start + limit < orders.length ? String(start + limit) : null };
  });
  return app;
}

let token = '';
before(async () => {
  checkout = await listen(fakeCheckout());
  customers = await startCustomers({ dbName, checkoutUrl: checkout.url });
  // Nothing listens on this port: checkout is down for this replica.
  down = await startCustomers({ dbName, checkoutUrl: `http://127.0.0.1:${await freePort()}` });
  const api = request(customers.app.callback());
  assert.equal((await api.post('/api/customers').send({ email: 'gus@example.com', password: 'correct horse battery' })).status, 201);
  token = (await request(customers.app.callback()).post('/api/customers/sessions').send({ email: 'gus@example.com', password: 'correct horse battery' })).body.token;
});
after(async () => {
  await customers.connection.dropDatabase().catch(() => undefined);
  await Promise.all([customers.close(), down.close()]);
  await checkout.close();
});

describe('my orders', () => {
  test('when a customer pages through their orders, then checkout is asked with their own token and the cursor is passed through', async () => {
    const api = () => request(customers.app.callback());
    const first = await api().get('/api/customers/me/orders?limit=2').set('authorization', `Bearer ${token}`);
    assert.equal(first.status, 200);
    assert.deepEqual(first.body.orders.map((o: { id: string }) => o.id), ['ord-5', 'ord-4']);
    assert.equal(first.body.nextCursor, '2');
    const customerId = verifyCustomerToken(key, token, Date.now());
    assert.ok(first.body.orders.every((o: { customerId: string }) => o.customerId === customerId));
    const last = await api().get(`/api/customers/me/orders?limit=2&cursor=4`).set('authorization', `Bearer ${token}`);
    assert.deepEqual(last.body.orders.map((o: { id: string }) => o.id), ['ord-1']);
    assert.equal(last.body.nextCursor, null);
    assert.deepEqual(seen.slice(-2), [
      { path: '/api/orders?limit=2', authorization: `Bearer ${token}` },
      { path: '/api/orders?cursor=4&limit=2', authorization: `Bearer ${token}` },
    ]);
  });

  test('when the query is bad or there is no token, then 400 names the field or 401, and checkout is not called', async () => {
    const calls = seen.length;
    const bad = await request(customers.app.callback()).get('/api/customers/me/orders?limit=0&cursor=%24gt').set('authorization', `Bearer ${token}`);
    assert.equal(bad.status, 400);
    assert.deepEqual(bad.body.errors.map((e: { field: string }) => e.field).sort(), ['query.cursor', 'query.limit']);
    assert.equal((await request(customers.app.callback()).get('/api/customers/me/orders')).status, 401);
    assert.equal(seen.length, calls);
  });

  test('when checkout is unreachable, then 503 with Retry-After', async () => {
    const res = await request(down.app.callback()).get('/api/customers/me/orders').set('authorization', `Bearer ${token}`);
    assert.equal(res.status, 503);
    assert.ok(Number(res.headers['retry-after']) > 0);
  });
});
