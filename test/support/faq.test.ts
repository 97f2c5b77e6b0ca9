import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import request from 'supertest';
import { TEST_ADMIN_TOKEN, uniqueName } from '../helpers/env.js';
import { startOwnFerretdb } from '../helpers/ferretdb.js';
import { startSupport, type SupportUnderTest } from './helpers.js';

const dbName = uniqueName(import.meta.url);
const admin = { authorization: `Bearer ${TEST_ADMIN_TOKEN}` };
let one: SupportUnderTest;
let two: SupportUnderTest;
const a = () => request(one.app.callback());
const b = () => request(two.app.callback());

before(async () => {
  // Two replicas sharing MongoDB and Redis; long freshness so only invalidation can change what they serve.
  const env = { SUPPORT_FAQ_CACHE_FRESH_MS: '600000', SUPPORT_MAIL_WORKER: 'false' };
  one = await startSupport({ dbName, env });
  two = await startSupport({ dbName, env });
  const entries = [
    { question: 'How long does shipping take?', answer: 'Two to four working days in the EU.', tags: ['shipping'], order: 2 },
    { question: 'Can I return a limited sneaker?', answer: 'Yes, within 14 days, unworn.', tags: ['returns', 'limited'], order: 1 },
    { question: 'Which payment methods work?', answer: 'Cards and bank transfer.', tags: ['payment'], order: 3 },
  ];
  for (const entry of entries) assert.equal((await a().post('/api/support/faq').set(admin).send(entry)).status, 201);
});
after(async () => {
  await one.connection.dropDatabase().catch(() => undefined);
  await Promise.all([one.close(), two.close()]);
});

describe('FAQ reads', () => {
  test('when the FAQ is read, then entries come in order with an ETag, and a matching If-None-Match is a 304', async () => {
    const res = await a().get('/api/support/faq');
    assert.equal(res.status, 200);
    assert.deepEqual(res.body.items.map((e: { order: number }) => e.order), [1, 2, 3]);
    assert.match(String(res.headers['cache-control']), /public, max-age=30, stale-while-revalidate=60, stale-if-error=86400/);
    assert.ok(res.headers.etag);
    const again = await a().get('/api/support/faq').set('if-none-match', res.headers.etag);
    assert.equal(again.status, 304);
    assert.equal(again.headers['x-cache'], 'hit');
  });

  test('when searching with q and filtering by tag, then only matching entries come back', async () => {
    const found = await a().get('/api/support/faq').query({ q: 'SNEAKER return' });
    assert.deepEqual(found.body.items.map((e: { tags: string[] }) => e.tags[0]), ['returns']);
    const tagged = await a().get('/api/support/faq').query({ tag: 'shipping' });
    assert.deepEqual(tagged.body.items.map((e: { question: string }) => e.question), ['How long does shipping take?']);
    assert.equal((await a().get('/api/support/faq').query({ q: 'nothing like this' })).body.items.length, 0);
  });

  test('when the query is bad, then 400 names the field', async () => {
    const res = await a().get('/api/support/faq').query({ tag: 'Not A Tag!', sort: 'x' });
    assert.equal(res.status, 400);
    assert.deepEqual(res.body.errors.map((e: { field: string }) => e.field).sort(), ['query', 'query.tag']);
  });
});

describe('FAQ cache and invalidation', () => {
  test('when the database changes behind the API, then the cache keeps serving; when an admin edits, then every replica serves the edit', async () => {
    const before = await b().get('/api/support/faq').query({ tag: 'payment' });
    const entry = before.body.items[0];
    await one.models.faq.updateOne({ _id: entry.id }, { $set: { answer: 'changed behind the cache' } });
    const cached = await b().get('/api/support/faq').query({ tag: 'payment' });
    assert.equal(cached.body.items[0].answer, 'Cards and bank transfer.');
    assert.equal(cached.headers['x-cache'], 'hit');

    const put = await a().put(`/api/support/faq/${entry.id}`).set(admin).send({ question: entry.question, answer: 'Cards, bank transfer and vouchers.', tags: ['payment'], order: 3 });
    assert.equal(put.status, 200);
    let seen = '';
    for (let i = 0; i < 40 && seen !== 'Cards, bank transfer and vouchers.'; i += 1) {
      seen = (await b().get('/api/support/faq').query({ tag: 'payment' })).body.items[0].answer;
      if (seen !== 'Cards, bank transfer and vouchers.') await new Promise((resolve) => setTimeout(resolve, 50));
    }
    assert.equal(seen, 'Cards, bank transfer and vouchers.');
    assert.notEqual((await b().get('/api/support/faq').query({ tag: 'payment' })).headers.etag, before.headers.etag);
  });

  test('when an admin deletes an entry, then reads on the other replica stop showing it', async () => {
    const created = await a().post('/api/support/faq').set(admin).send({ question: 'Temporary question?', answer: 'Soon gone.', tags: ['temp'] });
    assert.equal((await b().get(`/api/support/faq/${created.body.id}`)).status, 200);
    assert.equal((await a().delete(`/api/support/faq/${created.body.id}`).set(admin)).status, 204);
    let status = 200;
    for (let i = 0; i < 40 && status === 200; i += 1) {
      status = (await b().get(`/api/support/faq/${created.body.id}`)).status;
      if (status === 200) await new Promise((resolve) => setTimeout(resolve, 50));
    }
    assert.equal(status, 404);
  });
});

describe('FAQ writes', () => {
  test('when input is bad or the caller is no admin, then 400 naming the fields or 401, and nothing is written', async () => {
    const count = await one.models.faq.countDocuments();
    const bad = await a().post('/api/support/faq').set(admin).send({ question: 'x', answer: '', tags: ['Bad Tag'], order: -1, extra: 1 });
    assert.equal(bad.status, 400);
    assert.deepEqual(bad.body.errors.map((e: { field: string }) => e.field).sort(), ['body', 'body.answer', 'body.order', 'body.question', 'body.tags.0']);
    const injected = await a().post('/api/support/faq').set(admin).send({ question: { $ne: 1 }, answer: 'a' });
    assert.equal(injected.status, 400);
    assert.equal((await a().post('/api/support/faq').send({ question: 'Who are you?', answer: 'Nobody.' })).status, 401);
    assert.equal((await a().post('/api/support/faq').set({ authorization: 'Bearer not-the-admin-token-at-all' }).send({ question: 'Who are you?', answer: 'Nobody.' })).status, 401);
    assert.equal(await one.models.faq.countDocuments(), count);
  });
});

describe('FAQ while its database is down', () => {
  test('when FerretDB stops, then the cached FAQ is served stale-if-error and an uncached entry is 503 with Retry-After', async () => {
    const ferret = await startOwnFerretdb('faqstale');
    // Freshness 0: every read goes to the database, so what is served while it is down is stale-if-error.
    const support = await startSupport({ dbName: 'faqstale', namespace: `${dbName}_stale`, mongoUri: ferret.uri, env: { SUPPORT_FAQ_CACHE_FRESH_MS: '0', SUPPORT_FAQ_CACHE_REVALIDATE_MS: '0', SUPPORT_MAIL_WORKER: 'false' } });
    try {
      const api = () => request(support.app.callback());
      assert.equal((await api().post('/api/support/faq').set(admin).send({ question: 'Is it cached?', answer: 'Yes.' })).status, 201);
      assert.equal((await api().get('/api/support/faq')).status, 200);
      await ferret.stop();
      const stale = await api().get('/api/support/faq');
      assert.equal(stale.status, 200);
      assert.equal(stale.headers['x-cache'], 'stale-if-error');
      assert.equal(stale.body.items[0].answer, 'Yes.');
      const missing = await api().get('/api/support/faq').query({ tag: 'never-cached' });
      assert.equal(missing.status, 503);
      assert.equal(missing.headers['retry-after'], '5');
    } finally {
      await ferret.dispose();
      await support.close();
    }
  });
});
