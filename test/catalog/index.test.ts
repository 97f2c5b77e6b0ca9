import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import request from 'supertest';
import { countFinds, startCatalog, type CatalogUnderTest } from '../helpers/catalog.js';
import { eventually, testLogger, testServers, uniqueName } from '../helpers/env.js';
import { startOwnFerretdb } from '../helpers/ferretdb.js';
import { connectRedis, createRedis } from '../../services/kit/index.js';
import { demoProducts } from '../../scripts/lib/demo-catalog.js';
import type { ProductInput } from '../../services/catalog/domain/schemas.js';

const admin = (c: CatalogUnderTest) => ({ authorization: `Bearer ${c.adminToken}` });

/** Bumps the index's change counter as if a change message had been sent and lost. */
async function loseAMessage(dbName: string): Promise<void> {
  const redis = await connectRedis(createRedis(testServers().redisUrl, testLogger()));
  try {
    await redis.incr(`${dbName}:index:counter`);
  } finally {
    await redis.quit();
  }
}

/** True when a list query on `c` has a product with `sku`. */
const lists = async (c: CatalogUnderTest, query: string, sku: string) =>
  (await request(c.app.callback()).get(`/api/catalog/products?${query}`).expect(200)).body.items.some((p: { sku: string }) => p.sku === sku);

/** Every page of a list, following nextCursor: the bodies as sent. */
async function walk(c: CatalogUnderTest, query: string): Promise<Array<{ items: Array<{ id: string }>; nextCursor: string | null; total?: number }>> {
  const pages = [];
  let cursor: string | null = null;
  for (let i = 0; i < 50; i += 1) {
    const res: request.Response = await request(c.app.callback())
      .get(`/api/catalog/products?${query}${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`)
      .expect(200);
    pages.push(res.body);
    cursor = res.body.nextCursor;
    if (!cursor) break;
  }
  return pages;
}

// Fresh 0: every read runs the loader (index or database), so the response cache cannot hide a difference.
const NO_CACHE = { CATALOG_CACHE_FRESH_MS: '0', CATALOG_CACHE_REVALIDATE_MS: '0', CATALOG_INDEX_CHECK_MS: '200' };

describe('catalog list index', () => {
  const dbName = uniqueName(import.meta.url);
  let a: CatalogUnderTest;
  let b: CatalogUnderTest;
  let fromDb: CatalogUnderTest;
  before(async () => {
    a = await startCatalog({ dbName, env: NO_CACHE });
    b = await startCatalog({ dbName, env: NO_CACHE });
    fromDb = await startCatalog({ dbName, env: { ...NO_CACHE, CATALOG_INDEX: 'off' } });
    // 60 demo products, plus ties on name and price so the order falls back on the id.
    const products: ProductInput[] = [
      ...demoProducts(60, 7),
      ...[1, 2, 3].map((n) => ({ ...demoProducts(1, 7)[0]!, sku: `TIE-${n}`, slug: `tie-${n}`, name: 'Same Name', price: { amount: 1000, currency: 'EUR' } })),
    ];
    await request(a.app.callback()).post('/api/catalog/products/bulk').set(admin(a)).send({ products }).expect(200);
  });
  after(async () => {
    await fromDb.close();
    await b.close();
    await a.close();
  });

  const queries = ['limit=7', 'sort=-name&limit=7', 'sort=price&limit=9', 'sort=-price&limit=9', 'sort=newest&limit=8', 'category=kitchen&sort=price&limit=3', 'q=mug&limit=2', 'q=same+name&sort=-price&limit=1', 'minPrice=5000&maxPrice=30000&sort=name&limit=5&count=true', 'category=toys&q=robot&count=true'];
  for (const query of queries) {
    test(`when ${query} is paged through on index replicas, then every page is the database's page, byte for byte`, async () => {
      const finds = countFinds(b);
      const [viaIndex, viaDb] = [await walk(b, query), await walk(fromDb, query)];
      assert.deepEqual(viaIndex, viaDb);
      assert.ok(viaIndex.flatMap((p) => p.items).length > 0, 'the query matches something');
      assert.equal(finds.count(), 0, 'the index replica did not ask the database');
    });
  }

  test('when a cursor comes from an index replica, then the database path resumes it at the same place (and back)', async () => {
    const first = (await request(b.app.callback()).get('/api/catalog/products?sort=-price&limit=5').expect(200)).body;
    const onDb = (await request(fromDb.app.callback()).get(`/api/catalog/products?sort=-price&limit=5&cursor=${first.nextCursor}`).expect(200)).body;
    const onIndex = (await request(b.app.callback()).get(`/api/catalog/products?sort=-price&limit=5&cursor=${first.nextCursor}`).expect(200)).body;
    assert.deepEqual(onIndex, onDb);
    const third = (await request(b.app.callback()).get(`/api/catalog/products?sort=-price&limit=5&cursor=${onDb.nextCursor}`).expect(200)).body;
    assert.equal(third.items.length, 5);
    assert.ok(third.items[0].price.amount <= onDb.items[4].price.amount);
  });

  test('when products are written through replica A, then replica B lists and reads them without asking the database', async () => {
    const finds = countFinds(b);
    const created = (await request(a.app.callback()).post('/api/catalog/products').set(admin(a)).send({ sku: 'IDX-NEW', slug: 'idx-new', name: 'Aaaa First Kettle', price: { amount: 1, currency: 'EUR' }, categories: ['kitchen'] }).expect(201)).body;
    // Pub/sub reaches B in a moment (bounded wait).
    assert.ok(await eventually(() => lists(b, 'limit=1', 'IDX-NEW')), 'B lists the new product first');
    await request(a.app.callback()).patch(`/api/catalog/products/${created.id}`).set(admin(a)).send({ name: 'Zzzz Last Kettle', price: { amount: 99_999_999, currency: 'EUR' } }).expect(200);
    const renamed = async () => (await request(b.app.callback()).get('/api/catalog/products/idx-new').expect(200)).body.name === 'Zzzz Last Kettle';
    assert.ok(await eventually(renamed), 'B reads the new name');
    const top = (await request(b.app.callback()).get('/api/catalog/products?sort=-price&limit=1').expect(200)).body.items[0];
    assert.equal(top.id, created.id);
    assert.deepEqual(await walk(b, 'q=kettle&sort=-name'), await walk(fromDb, 'q=kettle&sort=-name'));

    await request(a.app.callback()).delete(`/api/catalog/products/${created.id}`).set(admin(a)).expect(204);
    assert.ok(await eventually(async () => !(await lists(b, 'sort=-price&limit=1', 'IDX-NEW'))), 'the deleted product left B\'s lists');
    assert.equal(finds.count(), 0);
    // A product B does not hold is looked up in the database (404 here), not refused from memory.
    await request(b.app.callback()).get('/api/catalog/products/idx-new').expect(404);
    assert.equal(finds.count(), 1);
  });

  test('when a bulk import is sent again, then the index says what exists: nothing is read or written, and changed products are updated', async () => {
    const finds = countFinds(a);
    const batch = demoProducts(60, 7);
    const again = await request(a.app.callback()).post('/api/catalog/products/bulk').set(admin(a)).send({ products: batch }).expect(200);
    assert.deepEqual(again.body, { inserted: 0, updated: 0, unchanged: 60 });
    assert.equal(finds.count(), 0);
    const changed = await request(a.app.callback()).post('/api/catalog/products/bulk').set(admin(a)).send({ products: [{ ...batch[0]!, name: 'Renamed By Bulk' }, ...batch.slice(1, 3)] }).expect(200);
    assert.deepEqual(changed.body, { inserted: 0, updated: 1, unchanged: 2 });
    assert.equal((await a.models.Product.findOne({ sku: batch[0]!.sku }).lean())?.name, 'Renamed By Bulk');
    await request(a.app.callback()).post('/api/catalog/products/bulk').set(admin(a)).send({ products: [batch[0]!] }).expect(200);
  });

  test('when a bulk import fails part way, then what it wrote still reaches every index', async () => {
    // One new product, and one whose slug belongs to another product: the unordered insert writes the first and refuses the second.
    const taken = demoProducts(1, 7)[0]!.slug;
    const products = [
      { ...demoProducts(1, 8)[0]!, sku: 'IDX-PART-OK', slug: 'idx-part-ok', name: 'Partial Kettle' },
      { ...demoProducts(1, 8)[0]!, sku: 'IDX-PART-BAD', slug: taken, name: 'Clashing Kettle' },
    ];
    await request(a.app.callback()).post('/api/catalog/products/bulk').set(admin(a)).send({ products }).expect(409);
    for (const c of [a, b]) assert.ok(await eventually(() => lists(c, 'q=partial+kettle', 'IDX-PART-OK')), 'the product that was written is listed');
    await request(a.app.callback()).delete(`/api/catalog/products/${(await a.models.Product.findOne({ sku: 'IDX-PART-OK' }).lean())?._id}`).set(admin(a)).expect(204);
  });

  test('when a change message is lost, then replicas notice the counter moved and load everything again', async () => {
    // A write that bypasses the API (no message), and a counter bumped as if its message had been sent and lost.
    await a.models.Product.create({ sku: 'IDX-LOST', slug: 'idx-lost', name: 'Lost Lamp', price: { amount: 3, currency: 'EUR' }, searchTerms: ['lost', 'lamp'] });
    await loseAMessage(dbName);
    assert.ok(await eventually(() => lists(b, 'q=lost+lamp', 'IDX-LOST')), 'B loaded the product written behind its back');
    const metrics = (await request(b.app.callback()).get('/metrics').expect(200)).text;
    assert.match(metrics, /catalog_index_loads_total\{[^}]*reason="lost_message"[^}]*\} [1-9]/);
    assert.match(metrics, /catalog_index_products\{[^}]*\} 64/);
    assert.equal((await request(b.app.callback()).get('/readyz').expect(200)).body.checks.index, 'ok');
  });
});

describe('catalog list index snapshot', () => {
  const dbName = uniqueName(import.meta.url).concat('_snap');
  test('when a replica starts and no write was counted since the last full read, then it loads the Redis snapshot; after a write, the database', async () => {
    const a = await startCatalog({ dbName, env: NO_CACHE });
    const fromDb = await startCatalog({ dbName, env: { ...NO_CACHE, CATALOG_INDEX: 'off' } });
    const started: CatalogUnderTest[] = [];
    try {
      await request(a.app.callback()).post('/api/catalog/products/bulk').set(admin(a)).send({ products: demoProducts(40, 11) }).expect(200);
      // A lost-message reload (the counter bumped by hand) is a full read after the writes: it stores a snapshot at the current counter.
      const loadsOf = async (c: CatalogUnderTest) => (await request(c.app.callback()).get('/metrics').expect(200)).text;
      const lostReloads = async () => Number(/catalog_index_loads_total\{[^}]*reason="lost_message"[^}]*\} (\d+)/.exec(await loadsOf(a))?.[1] ?? 0);
      const before = await lostReloads();
      await loseAMessage(dbName);
      assert.ok(await eventually(async () => (await lostReloads()) > before), 'A read everything again');
      await a.index?.ready();

      const fromSnapshot = await startCatalog({ dbName, env: NO_CACHE });
      started.push(fromSnapshot);
      assert.match(await loadsOf(fromSnapshot), /catalog_index_loads_total\{[^}]*reason="snapshot"[^}]*\} 1/);
      assert.deepEqual(await walk(fromSnapshot, 'sort=-price&limit=7'), await walk(fromDb, 'sort=-price&limit=7'));

      await a.createProduct({ sku: 'SNAP-NEW', slug: 'snap-new', name: 'Snapshot Lamp', price: { amount: 5, currency: 'EUR' } });
      const afterWrite = await startCatalog({ dbName, env: NO_CACHE });
      started.push(afterWrite);
      const loads = await loadsOf(afterWrite);
      assert.match(loads, /catalog_index_loads_total\{[^}]*reason="start"[^}]*\} 1/);
      assert.doesNotMatch(loads, /reason="snapshot"/);
      assert.equal((await request(afterWrite.app.callback()).get('/api/catalog/products?sort=price&limit=1').expect(200)).body.items[0].sku, 'SNAP-NEW');
    } finally {
      for (const c of started) await c.close();
      await fromDb.close();
      await a.close();
    }
  });
});

describe('catalog list index while the database is down', () => {
  test('when FerretDB stops, then lists and known products are still answered from memory, and an unknown product is a 503', async () => {
    const ferret = await startOwnFerretdb('index_down');
    // A name of its own per run: the index's Redis keys (counter, snapshot) are named after it.
    const catalog = await startCatalog({ dbName: uniqueName(import.meta.url), mongoUri: ferret.uri, env: NO_CACHE });
    try {
      const created = await catalog.createProduct({ sku: 'DOWN-1', slug: 'down-1', name: 'Down Kettle', price: { amount: 700, currency: 'EUR' } });
      await ferret.stop();
      const server = request(catalog.app.callback());
      const list = await server.get('/api/catalog/products?q=kettle').expect(200);
      assert.deepEqual(list.body.items.map((p: { id: string }) => p.id), [created.id]);
      assert.equal((await server.get('/api/catalog/products/down-1').expect(200)).body.id, created.id);
      await server.get('/api/catalog/products/never-seen').expect(503);
    } finally {
      await ferret.dispose();
      await catalog.close();
    }
  });
});
