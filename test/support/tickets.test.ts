import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import Koa from 'koa';
import request from 'supertest';
import { bearerToken, customerTokenKey, signCustomerToken, verifyCustomerToken } from '../../services/kit/index.js';
import { eventually, TEST_ADMIN_TOKEN, TEST_CUSTOMER_TOKEN_SECRET, uniqueName } from '../helpers/env.js';
import { listen } from '../customers/helpers.js';
import { startSupport, type SupportUnderTest } from './helpers.js';

const dbName = uniqueName(import.meta.url);
const key = customerTokenKey(TEST_CUSTOMER_TOKEN_SECRET);
const admin = { authorization: `Bearer ${TEST_ADMIN_TOKEN}` };
const customerToken = (id: string) => signCustomerToken(key, id, Date.now() + 3_600_000);
const cartToken = () => randomBytes(32).toString('base64url');
const guestToken = cartToken();
/** Orders as checkout knows them: owner is a customer id or a guest cart token. */
const orders: Record<string, string> = { 'ord-ann-1': 'ann', 'ord-bob-1': 'bob', 'ord-guest-1': guestToken };
let checkout: Awaited<ReturnType<typeof listen>>;
let support: SupportUnderTest;
let ipCounter = 0;

/** Stand-in for checkout's `GET /api/orders/:id`: 200 for the order's owner (customer token or guest cart token), 404 for anyone else. */
function fakeCheckout(): Koa {
  const app = new Koa();
  app.use(async (ctx) => {
    const match = /^\/api\/orders\/([^/]+)$/.exec(ctx.path);
    const owner = match ? orders[decodeURIComponent(match[1] ?? '')] : undefined;
    const caller = verifyCustomerToken(key, bearerToken(ctx), Date.now()) ?? ctx.get('x-cart-token');
    if (owner && owner === caller) ctx.body = { id: match?.[1] };
    else ctx.status = 404;
  });
  return app;
}

// A fresh client address per call site keeps the creation limit out of tests that are not about it.
const api = (ip = `10.7.0.${++ipCounter}`) => ({
  post: (path: string) => request(support.app.callback()).post(path).set('x-forwarded-for', ip),
  get: (path: string) => request(support.app.callback()).get(path).set('x-forwarded-for', ip),
  patch: (path: string) => request(support.app.callback()).patch(path).set('x-forwarded-for', ip),
});
const ticket = { subject: 'Where is my parcel?', message: 'It has been a week.' };

before(async () => {
  checkout = await listen(fakeCheckout());
  support = await startSupport({ dbName, checkoutUrl: checkout.url, env: { SUPPORT_TICKETS_PER_CLIENT: '3', SUPPORT_OUTBOX_INTERVAL_MS: '100000' } });
});
after(async () => {
  await support.connection.dropDatabase().catch(() => undefined);
  await support.close();
  await checkout.close();
});

describe('opening tickets', () => {
  test('when a guest opens a ticket with an email and cart token, then 201 and the ticket and its notification are stored before the answer', async () => {
    const res = await api().post('/api/support/tickets').set('x-cart-token', guestToken).send({ ...ticket, email: ' Guest@Example.com ', orderId: 'ord-guest-1' });
    assert.equal(res.status, 201);
    assert.equal(res.body.status, 'open');
    assert.equal(res.body.email, 'guest@example.com');
    // Read right after the answer, before any relay pass: a replica killed now loses nothing.
    const stored = await support.models.tickets.findById(res.body.id).lean();
    assert.equal(stored?.messages[0]?.body, 'It has been a week.');
    assert.equal(stored?.ownerKey.startsWith('g:'), true);
    assert.notEqual(stored?.ownerKey.slice(2), guestToken, 'the cart token itself is not stored');
    assert.equal(await support.models.outbox.countDocuments({ ticketId: res.body.id, state: 'pending' }), 1);
  });

  test('when a customer names their own order, then 201; someone else\'s order is 422 naming body.orderId and nothing is written', async () => {
    const own = await api().post('/api/support/tickets').set('authorization', `Bearer ${customerToken('ann')}`).send({ ...ticket, orderId: 'ord-ann-1' });
    assert.equal(own.status, 201);
    assert.equal(own.body.orderId, 'ord-ann-1');
    const count = await support.models.tickets.countDocuments();
    const outbox = await support.models.outbox.countDocuments();
    const other = await api().post('/api/support/tickets').set('authorization', `Bearer ${customerToken('ann')}`).send({ ...ticket, orderId: 'ord-bob-1' });
    assert.equal(other.status, 422);
    assert.equal(other.body.errors[0].field, 'body.orderId');
    const guestOther = await api().post('/api/support/tickets').set('x-cart-token', cartToken()).send({ ...ticket, email: 'x@example.com', orderId: 'ord-guest-1' });
    assert.equal(guestOther.status, 422);
    assert.equal(await support.models.tickets.countDocuments(), count);
    assert.equal(await support.models.outbox.countDocuments(), outbox);
  });

  test('when input is bad, the guest gives no email or there are no credentials, then 400 naming the field or 401, and nothing is written', async () => {
    const count = await support.models.tickets.countDocuments();
    const bad = await api().post('/api/support/tickets').set('x-cart-token', guestToken).send({ subject: 'x', message: '', orderId: '../etc', priority: 'urgent' });
    assert.equal(bad.status, 400);
    assert.deepEqual(bad.body.errors.map((e: { field: string }) => e.field).sort(), ['body', 'body.message', 'body.orderId', 'body.subject']);
    const noEmail = await api().post('/api/support/tickets').set('x-cart-token', guestToken).send(ticket);
    assert.equal(noEmail.status, 400);
    assert.equal(noEmail.body.errors[0].field, 'body.email');
    const badToken = await api().post('/api/support/tickets').set('x-cart-token', 'short').send({ ...ticket, email: 'a@example.com' });
    assert.equal(badToken.status, 400);
    assert.equal(badToken.body.errors[0].field, 'header.x-cart-token');
    assert.equal((await api().post('/api/support/tickets').send({ ...ticket, email: 'a@example.com' })).status, 401);
    assert.equal((await api().post('/api/support/tickets').set('authorization', 'Bearer v1.forged.1.x').send(ticket)).status, 401);
    const injected = await api().post('/api/support/tickets').set('x-cart-token', guestToken).send({ ...ticket, email: { $gt: '' } });
    assert.equal(injected.status, 400);
    assert.equal(await support.models.tickets.countDocuments(), count);
  });

  test('when one client opens more tickets than allowed, then 429 with Retry-After and nothing written, while another client still can', async () => {
    const ip = '10.8.0.1';
    for (let i = 0; i < 3; i += 1) assert.equal((await api(ip).post('/api/support/tickets').set('authorization', `Bearer ${customerToken('cap')}`).send(ticket)).status, 201);
    const count = await support.models.tickets.countDocuments();
    const limited = await api(ip).post('/api/support/tickets').set('authorization', `Bearer ${customerToken('cap')}`).send(ticket);
    assert.equal(limited.status, 429);
    assert.ok(Number(limited.headers['retry-after']) > 0);
    assert.equal(await support.models.tickets.countDocuments(), count);
    assert.equal((await api('10.8.0.2').post('/api/support/tickets').set('authorization', `Bearer ${customerToken('cap')}`).send(ticket)).status, 201);
  });

  test('when a client forges a new leftmost X-Forwarded-For entry for each ticket, then the limit still counts the address the trusted proxy saw', async () => {
    // The peer (127.0.0.1) is a trusted proxy that appended 10.8.0.9; the entries left of it are the client's own.
    const open = (forged: string) => api(`${forged}, 10.8.0.9`).post('/api/support/tickets').set('x-cart-token', cartToken()).send({ ...ticket, email: 'g@example.com' });
    for (let i = 0; i < 3; i += 1) assert.equal((await open(`192.0.2.${i + 1}`)).status, 201);
    const count = await support.models.tickets.countDocuments();
    assert.equal((await open('192.0.2.99')).status, 429);
    assert.equal(await support.models.tickets.countDocuments(), count);
  });

  test('when an untrusted peer sends X-Forwarded-For, then it is ignored: the peer address is the client', async () => {
    // Loopback is not a trusted proxy for this replica, so every forged entry below is the same client (127.0.0.1).
    const untrusted = await startSupport({ dbName, checkoutUrl: checkout.url, namespace: `${dbName}-untrusted`, env: { SUPPORT_TICKETS_PER_CLIENT: '3', SUPPORT_OUTBOX_INTERVAL_MS: '100000', SUPPORT_MAIL_WORKER: 'false', EDGE_TRUSTED_PROXIES: '203.0.113.1' } });
    try {
      const open = (forged: string) => request(untrusted.app.callback()).post('/api/support/tickets').set('x-forwarded-for', forged).set('authorization', `Bearer ${customerToken('forger')}`).send(ticket);
      for (let i = 0; i < 3; i += 1) assert.equal((await open(`198.51.100.${i + 1}`)).status, 201);
      assert.equal((await open('198.51.100.77')).status, 429);
    } finally {
      await untrusted.close();
    }
  });
});

describe('reading own tickets', () => {
  test('when a shopper lists and reads tickets, then only their own show and someone else\'s ticket is 404', async () => {
    const mine = await api().post('/api/support/tickets').set('authorization', `Bearer ${customerToken('dora')}`).send(ticket);
    const list = await api().get('/api/support/tickets').set('authorization', `Bearer ${customerToken('dora')}`);
    assert.deepEqual(list.body.items.map((t: { id: string }) => t.id), [mine.body.id]);
    assert.equal((await api().get(`/api/support/tickets/${mine.body.id}`).set('authorization', `Bearer ${customerToken('dora')}`)).status, 200);
    assert.equal((await api().get(`/api/support/tickets/${mine.body.id}`).set('authorization', `Bearer ${customerToken('eve')}`)).status, 404);
    assert.equal((await api().get(`/api/support/tickets/${mine.body.id}`).set('x-cart-token', guestToken)).status, 404);
    const guestList = await api().get('/api/support/tickets').set('x-cart-token', guestToken);
    assert.ok(guestList.body.items.length >= 1);
    assert.ok(guestList.body.items.every((t: { id: string }) => t.id !== mine.body.id));
    assert.equal((await api().get('/api/support/tickets/t_AAAAAAAAAAAAAAAA').set('x-cart-token', guestToken)).status, 404);
  });
});

describe('support handling tickets', () => {
  test('when support replies and moves the status along, then the lifecycle is enforced (invalid moves 409) and the shopper gets mail via the outbox', async () => {
    const opened = await api().post('/api/support/tickets').set('authorization', `Bearer ${customerToken('fred')}`).send({ ...ticket, email: 'fred@example.com' });
    const id = opened.body.id as string;
    assert.equal((await api().patch(`/api/support/admin/tickets/${id}`).set(admin).send({ status: 'closed' })).status, 409);
    const reply = await api().post(`/api/support/admin/tickets/${id}/replies`).set(admin).send({ message: 'It left our warehouse today.' });
    assert.equal(reply.status, 201);
    assert.equal(reply.body.status, 'pending');
    const filtered = await api().get('/api/support/admin/tickets').query({ status: 'pending' }).set(admin);
    assert.ok(filtered.body.items.some((t: { id: string }) => t.id === id));
    assert.ok(filtered.body.items.every((t: { status: string }) => t.status === 'pending'));
    const byEmail = await api().get('/api/support/admin/tickets').query({ email: 'fred@example.com' }).set(admin);
    assert.deepEqual(byEmail.body.items.map((t: { id: string }) => t.id), [id]);
    assert.equal((await api().patch(`/api/support/admin/tickets/${id}`).set(admin).send({ status: 'solved' })).body.status, 'solved');
    assert.equal((await api().patch(`/api/support/admin/tickets/${id}`).set(admin).send({ status: 'closed' })).body.status, 'closed');
    const reopen = await api().patch(`/api/support/admin/tickets/${id}`).set(admin).send({ status: 'open' });
    assert.equal(reopen.status, 409);
    assert.equal(reopen.body.type, 'urn:problem:invalid_transition');
    assert.equal((await api().post(`/api/support/tickets/${id}/messages`).set('authorization', `Bearer ${customerToken('fred')}`).send({ message: 'Thanks' })).status, 409);
    assert.equal((await api().patch(`/api/support/admin/tickets/${id}`).set(admin).send({ status: 'archived' })).status, 400);
    assert.equal((await api().get('/api/support/admin/tickets')).status, 401);

    // The relay moves the outbox to the queue; the worker mails without the request having waited for it.
    assert.ok((await support.relay.runOnce()) >= 2);
    const delivered = await eventually(() => support.sent.filter((m) => m.ticketId === id).length === 2);
    assert.ok(delivered, `mails for ${id}: ${JSON.stringify(support.sent.filter((m) => m.ticketId === id))}`);
    assert.deepEqual(support.sent.filter((m) => m.ticketId === id).map((m) => [m.kind, m.to]), [['ticket_opened', 'fred@example.com'], ['support_replied', 'fred@example.com']]);
    assert.equal(await support.models.outbox.countDocuments({ ticketId: id, state: 'pending' }), 0);
  });

  test('when a shopper replies to a pending ticket, then it is open again', async () => {
    const opened = await api().post('/api/support/tickets').set('authorization', `Bearer ${customerToken('gina')}`).send(ticket);
    await api().post(`/api/support/admin/tickets/${opened.body.id}/replies`).set(admin).send({ message: 'Which order?' });
    const answer = await api().post(`/api/support/tickets/${opened.body.id}/messages`).set('authorization', `Bearer ${customerToken('gina')}`).send({ message: 'ord-1' });
    assert.equal(answer.status, 201);
    assert.equal(answer.body.status, 'open');
    assert.deepEqual(answer.body.messages.map((m: { from: string }) => m.from), ['shopper', 'support', 'shopper']);
  });

  test('when an outbox entry has no ticket message (the ticket write never happened), then it is not mailed and is dropped once old', async () => {
    await support.models.outbox.create({ _id: 'm_orphan', ticketId: 't_AAAAAAAAAAAAAAAA', messageId: 'msg_x', kind: 'ticket_opened', to: 'x@example.com', subject: 's', state: 'pending', createdAt: new Date(Date.now() - 10 * 60_000) });
    await support.relay.runOnce();
    assert.equal((await support.models.outbox.findById('m_orphan').lean())?.state, 'dropped');
    assert.ok(support.sent.every((m) => m.outboxId !== 'm_orphan'));
  });
});
