import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import request from 'supertest';
import { startCatalog, type CatalogUnderTest } from '../helpers/catalog.js';
import { uniqueName } from '../helpers/env.js';

const cursorOf = (value: unknown, id = '0123456789abcdef01234567') => Buffer.from(JSON.stringify([value, id])).toString('base64url');

describe('catalog: bad list input is the caller\'s problem (issue 9, items 1, 2, 12)', () => {
  let catalog: CatalogUnderTest;
  let server: ReturnType<typeof request>;

  before(async () => {
    catalog = await startCatalog({ dbName: uniqueName(import.meta.url) });
    server = request(catalog.app.callback());
    const products = Array.from({ length: 5 }, (_, i) => ({ sku: `BI-${i}`, slug: `bad-input-${i}`, name: `Thing ${i} lamp`, price: { amount: 100 + i, currency: 'EUR' } }));
    await server.post('/api/catalog/products/bulk').set({ authorization: `Bearer ${catalog.adminToken}` }).send({ products }).expect(200);
  });
  after(() => catalog.close());

  test('when a cursor does not fit its sort (a bad date, a string price, a bad id, not JSON), then 400 names query.cursor', async () => {
    const bad: Array<[string, string]> = [
      ['newest', cursorOf('not-a-date')],
      ['newest', cursorOf('2026-13-45T99:99:99.000Z')],
      ['newest', cursorOf(12)],
      ['price', cursorOf('cheap')],
      ['price', cursorOf(1.5)],
      ['name', cursorOf(7)],
      ['name', cursorOf('Thing', 'not-an-id')],
      ['name', Buffer.from('{"a":1}').toString('base64url')],
      ['name', 'garbage!'],
    ];
    for (const [sort, cursor] of bad) {
      const response = await server.get('/api/catalog/products').query({ sort, cursor }).expect(400);
      assert.deepEqual(response.body.errors.map((e: { field: string }) => e.field), ['query.cursor'], `${sort} ${cursor}`);
    }
  });

  test('when a client sends several undecodable cursors, then ordinary uncached reads still answer 200 (the breaker stays closed)', async () => {
    for (let i = 0; i < 6; i++) await server.get('/api/catalog/products').query({ sort: 'newest', cursor: cursorOf('not-a-date'), limit: i + 1 }).expect(400);
    for (let i = 0; i < 5; i++) {
      // Each a different key: a miss that must reach the database through the breaker.
      const page = await server.get('/api/catalog/products').query({ sort: 'newest', limit: 10 + i }).expect(200);
      assert.equal(page.headers['x-cache'], 'miss');
      await server.get(`/api/catalog/products/bad-input-${i}`).expect(200);
    }
  });

  test('when the cursor of a newest page is used, then the next page follows (issued cursors stay valid)', async () => {
    const first = await server.get('/api/catalog/products').query({ sort: 'newest', limit: 2 }).expect(200);
    assert.ok(first.body.nextCursor);
    const second = await server.get('/api/catalog/products').query({ sort: 'newest', limit: 2, cursor: first.body.nextCursor }).expect(200);
    assert.equal(second.body.items.length, 2);
    assert.ok(!second.body.items.some((p: { id: string }) => first.body.items.some((q: { id: string }) => q.id === p.id)));
  });

  test('when q has no letters or digits, then 400 names query.q instead of the unfiltered list', async () => {
    for (const q of ['.*(', '!!!', '-']) {
      const response = await server.get('/api/catalog/products').query({ q }).expect(400);
      assert.deepEqual(response.body.errors.map((e: { field: string }) => e.field), ['query.q'], q);
    }
    const found = await server.get('/api/catalog/products').query({ q: 'lamp!' }).expect(200);
    assert.equal(found.body.items.length, 5);
  });

  test('when count=true, then the page carries the total of all matching products; without it, no total', async () => {
    const counted = await server.get('/api/catalog/products').query({ q: 'lamp', limit: 2, count: 'true' }).expect(200);
    assert.equal(counted.body.items.length, 2);
    assert.equal(counted.body.total, 5);
    const plain = await server.get('/api/catalog/products').query({ q: 'lamp', limit: 2 }).expect(200);
    assert.equal(plain.body.total, undefined);
    await server.get('/api/catalog/products').query({ count: 'yes' }).expect(400);
  });
});
