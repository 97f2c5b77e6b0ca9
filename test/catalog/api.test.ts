import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import request from 'supertest';
import { startCatalog, type CatalogUnderTest } from '../helpers/catalog.js';
import { uniqueName } from '../helpers/env.js';

const shirt = { sku: 'TS-001', slug: 'red-shirt', name: 'Red Shirt', price: { amount: 1999, currency: 'EUR' }, categories: ['shirts'] };

describe('catalog API', () => {
  let catalog: CatalogUnderTest;
  let server: ReturnType<typeof request>;
  const auth = () => ({ authorization: `Bearer ${catalog.adminToken}` });

  before(async () => {
    catalog = await startCatalog({ dbName: uniqueName(import.meta.url) });
    server = request(catalog.app.callback());
  });
  after(() => catalog.close());

  test('when an admin creates a product, then it can be read by id and by slug', async () => {
    const created = await server.post('/api/catalog/products').set(auth()).send(shirt).expect(201);
    assert.match(created.body.id, /^[0-9a-f]{24}$/);
    assert.equal(created.headers.location, `/api/catalog/products/${created.body.id}`);
    const byId = await server.get(`/api/catalog/products/${created.body.id}`).expect(200);
    const bySlug = await server.get('/api/catalog/products/red-shirt').expect(200);
    assert.equal(byId.body.sku, 'TS-001');
    assert.equal(bySlug.body.id, created.body.id);
    assert.deepEqual(byId.body.price, { amount: 1999, currency: 'EUR' });
    assert.equal(byId.body.limitedQuantity, false);
    assert.match(byId.headers['cache-control'], /stale-while-revalidate=\d+, stale-if-error=\d+/);
  });

  test('when a product does not exist, then reading it is a 404 problem', async () => {
    const response = await server.get('/api/catalog/products/no-such-thing').expect(404);
    assert.equal(response.headers['content-type'], 'application/problem+json');
    assert.equal(response.body.type, 'urn:problem:not_found');
    assert.ok(response.body.requestId);
  });

  test('when the SKU is taken, then creating gets 409 naming the field', async () => {
    const response = await server.post('/api/catalog/products').set(auth()).send({ ...shirt, slug: 'other-slug' }).expect(409);
    assert.equal(response.body.field, 'body.sku');
  });

  test('when the body is invalid, then 400 names each field and nothing is written', async () => {
    const before = await catalog.models.Product.countDocuments();
    const response = await server
      .post('/api/catalog/products')
      .set(auth())
      .send({ sku: 'BAD 1', slug: 'Bad Slug', name: '', price: { amount: 19.99, currency: 'euro' }, color: 'red' })
      .expect(400);
    const fields = response.body.errors.map((e: { field: string }) => e.field);
    for (const field of ['body.sku', 'body.slug', 'body.name', 'body.price.amount', 'body.price.currency', 'body']) assert.ok(fields.includes(field), `${field} missing from ${fields}`);
    assert.equal(await catalog.models.Product.countDocuments(), before);
  });

  test('when the JSON is malformed or too large, then 400 or 413', async () => {
    await server.post('/api/catalog/products').set(auth()).set('content-type', 'application/json').send('{"sku":').expect(400);
    const huge = { ...shirt, sku: 'HUGE', slug: 'huge', description: 'x'.repeat(300_000) };
    await server.post('/api/catalog/products').set(auth()).send(huge).expect(413);
  });

  test('when a body carries a Mongo operator, then it is refused before any query', async () => {
    const before = await catalog.models.Product.countDocuments();
    const response = await server.post('/api/catalog/products').set(auth()).send({ ...shirt, sku: { $gt: '' } }).expect(400);
    assert.deepEqual(response.body.errors, [{ field: 'body.sku.$gt', message: 'operator-like keys are not allowed' }]);
    await server.put('/api/catalog/products/000000000000000000000000').set(auth()).send({ ...shirt, attributes: { 'a.b': 1 } }).expect(400);
    assert.equal(await catalog.models.Product.countDocuments(), before);
  });

  test('when a query string carries an operator, then it is refused', async () => {
    const response = await server.get('/api/catalog/products?price[$gt]=').expect(400);
    assert.equal(response.body.errors[0].field, 'query.price[$gt]');
    await server.get('/api/catalog/products?minPrice[$ne]=1').expect(400);
    const unknown = await server.get('/api/catalog/products?color=red').expect(400);
    assert.equal(unknown.body.errors[0].field, 'query');
  });

  test('when the admin token is missing or wrong, then writes get 401 and nothing changes', async () => {
    await server.post('/api/catalog/products').send({ ...shirt, sku: 'X1', slug: 'x1' }).expect(401);
    await server.post('/api/catalog/products').set({ authorization: 'Bearer wrong-token-wrong-token' }).send({ ...shirt, sku: 'X2', slug: 'x2' }).expect(401);
    const id = (await server.get('/api/catalog/products/red-shirt').expect(200)).body.id;
    await server.delete(`/api/catalog/products/${id}`).expect(401);
    await server.post('/api/catalog/products/bulk').send({ products: [shirt] }).expect(401);
    assert.equal(await catalog.models.Product.countDocuments({ sku: { $in: ['X1', 'X2'] } }), 0);
  });

  test('when products are listed, then filters, sort and cursor pages are consistent', async () => {
    const products = Array.from({ length: 25 }, (_, i) => ({
      sku: `LIST-${String(i).padStart(2, '0')}`,
      slug: `list-item-${i}`,
      name: `Item ${String(i).padStart(2, '0')} ${i % 2 ? 'blue' : 'green'} mug`,
      price: { amount: 100 * (i + 1), currency: 'EUR' },
      categories: [i % 2 ? 'mugs' : 'cups'],
    }));
    const bulk = await server.post('/api/catalog/products/bulk').set(auth()).send({ products }).expect(200);
    assert.deepEqual(bulk.body, { inserted: 25, updated: 0, unchanged: 0 });

    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const page: request.Response = await server.get('/api/catalog/products').query({ category: 'mugs', sort: 'price', limit: 5, ...(cursor ? { cursor } : {}) }).expect(200);
      assert.ok(page.body.items.length <= 5);
      seen.push(...page.body.items.map((p: { sku: string }) => p.sku));
      cursor = page.body.nextCursor;
    } while (cursor);
    assert.equal(seen.length, 12);
    assert.equal(new Set(seen).size, 12);
    assert.deepEqual(seen, [...seen].sort());

    const cheap = await server.get('/api/catalog/products').query({ maxPrice: 300, sort: '-price' }).expect(200);
    assert.deepEqual(cheap.body.items.map((p: { price: { amount: number } }) => p.price.amount), [300, 200, 100]);
    const search = await server.get('/api/catalog/products').query({ q: 'Blue MUG', limit: 100 }).expect(200);
    assert.equal(search.body.items.length, 12);
    await server.get('/api/catalog/products').query({ limit: 1000 }).expect(400);
    await server.get('/api/catalog/products').query({ cursor: 'garbage' }).expect(400);
  });

  test('when a bulk import repeats SKUs, then existing products are updated in place', async () => {
    const again = await server
      .post('/api/catalog/products/bulk')
      .set(auth())
      .send({ products: [{ ...shirt, name: 'Red Shirt v2' }, { ...shirt, sku: 'TS-NEW', slug: 'new-shirt' }] })
      .expect(200);
    assert.deepEqual(again.body, { inserted: 1, updated: 1, unchanged: 0 });
    const same = await server.post('/api/catalog/products/bulk').set(auth()).send({ products: [{ ...shirt, name: 'Red Shirt v2' }] }).expect(200);
    assert.deepEqual(same.body, { inserted: 0, updated: 0, unchanged: 1 });
    const read = await server.get('/api/catalog/products/red-shirt').expect(200);
    assert.equal(read.body.name, 'Red Shirt v2');
  });

  test('when categories are written, then they are listed in order', async () => {
    await server.put('/api/catalog/categories/mugs').set(auth()).send({ name: 'Mugs', sortOrder: 2 }).expect(200);
    await server.post('/api/catalog/categories').set(auth()).send({ slug: 'cups', name: 'Cups', sortOrder: 1 }).expect(201);
    await server.post('/api/catalog/categories').set(auth()).send({ slug: 'cups', name: 'Cups' }).expect(409);
    const list = await server.get('/api/catalog/categories').expect(200);
    assert.deepEqual(list.body.items.map((c: { slug: string }) => c.slug), ['cups', 'mugs']);
  });
});
