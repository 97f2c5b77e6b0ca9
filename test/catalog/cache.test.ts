import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import request from 'supertest';
import { countFinds, startCatalog, type CatalogUnderTest } from '../helpers/catalog.js';
import { testLogger, testServers, uniqueName } from '../helpers/env.js';
import { connectRedis, createRedis, SharedCache, sleep } from '../../services/kit/index.js';
import { startOwnFerretdb } from '../helpers/ferretdb.js';

const product = (n: number) => ({ sku: `C-${n}`, slug: `cached-${n}`, name: `Cached ${n}`, price: { amount: 500 + n, currency: 'EUR' } });

describe('catalog cache across two replicas', () => {
  const dbName = uniqueName(import.meta.url);
  let a: CatalogUnderTest;
  let b: CatalogUnderTest;
  // These tests count the cache's loads from the database: the in-memory list index (test/catalog/index.test.ts) is off.
  before(async () => {
    a = await startCatalog({ dbName, env: { CATALOG_INDEX: 'off' } });
    b = await startCatalog({ dbName, env: { CATALOG_INDEX: 'off' } });
  });
  after(async () => {
    await b.close();
    await a.close();
  });

  test('when a product is read twice, then the second read is a cache hit and If-None-Match gets 304', async () => {
    const created = await a.createProduct(product(1));
    const finds = countFinds(a);
    const first = await request(a.app.callback()).get(`/api/catalog/products/${created.id}`).expect(200);
    const second = await request(a.app.callback()).get(`/api/catalog/products/${created.id}`).expect(200);
    assert.equal(first.headers['x-cache'], 'miss');
    assert.equal(second.headers['x-cache'], 'hit');
    assert.equal(finds.count(), 1);
    assert.equal(second.headers.etag, first.headers.etag);
    const revalidated = await request(a.app.callback()).get(`/api/catalog/products/${created.id}`).set('if-none-match', first.headers.etag).expect(304);
    assert.equal(revalidated.text, '');
  });

  test('when a product is fresh in cache, then the fast path answers with the same body and headers as the full path', async () => {
    const created = await a.createProduct(product(6));
    const full = await request(a.app.callback()).get(`/api/catalog/products/${created.id}`).expect(200);
    const fast = await request(a.app.callback()).get(`/api/catalog/products/${created.id}`).expect(200);
    assert.equal(full.headers['x-cache'], 'miss');
    assert.equal(fast.headers['x-cache'], 'hit');
    assert.equal(fast.text, full.text);
    const names = (r: request.Response) => Object.keys(r.headers).filter((h) => !['date', 'age', 'x-cache', 'x-request-id', 'connection', 'keep-alive'].includes(h)).sort();
    assert.deepEqual(names(fast), names(full));
    assert.equal(fast.headers['x-content-type-options'], 'nosniff');
    assert.notEqual(fast.headers['x-request-id'], full.headers['x-request-id']);
    const metrics = (await request(a.app.callback()).get('/metrics').expect(200)).text;
    assert.match(metrics, /http_request_duration_seconds_count\{[^}]*route="\/api\/catalog\/products\/:idOrSlug",status="200"\} [2-9]/);
  });

  test('when replica A loaded a product, then replica B finds it in the shared Redis tier', async () => {
    const created = await a.createProduct(product(2));
    await request(a.app.callback()).get(`/api/catalog/products/${created.id}`).expect(200);
    const finds = countFinds(b);
    const fromB = await request(b.app.callback()).get(`/api/catalog/products/${created.id}`).expect(200);
    assert.equal(fromB.headers['x-cache'], 'shared');
    assert.equal(finds.count(), 0);
  });

  test('when a product is changed through replica A, then replica B serves the new version', async () => {
    const created = await a.createProduct(product(3));
    const old = await request(b.app.callback()).get(`/api/catalog/products/${created.id}`).expect(200);
    assert.equal(old.body.name, 'Cached 3');
    await request(a.app.callback()).patch(`/api/catalog/products/${created.id}`).set('authorization', `Bearer ${a.adminToken}`).send({ name: 'Renamed 3' }).expect(200);
    // The invalidation reaches B over Redis pub/sub; allow it a moment (bounded).
    let name = old.body.name;
    for (let i = 0; i < 40 && name !== 'Renamed 3'; i += 1) {
      name = (await request(b.app.callback()).get(`/api/catalog/products/${created.id}`).expect(200)).body.name;
      if (name !== 'Renamed 3') await sleep(25);
    }
    assert.equal(name, 'Renamed 3');
  });

  test('when 50 requests miss the same product at once, then the database is asked once', async () => {
    const created = await a.createProduct(product(4));
    const finds = countFinds(a);
    const responses = await Promise.all(Array.from({ length: 50 }, () => request(a.app.callback()).get(`/api/catalog/products/${created.id}`)));
    assert.ok(responses.every((r) => r.status === 200 && r.body.id === created.id));
    assert.equal(finds.count(), 1);
  });
});

describe('SharedCache single flight', () => {
  test('when concurrent gets miss one key, then the loader runs once and all get its value', async () => {
    const { redisUrl } = testServers();
    const logger = testLogger();
    const redis = await connectRedis(createRedis(redisUrl, logger));
    const subscriber = await connectRedis(createRedis(redisUrl, logger, { enableOfflineQueue: true, commandTimeout: undefined }));
    const cache = new SharedCache<number>({ name: uniqueName(import.meta.url), redis, subscriber, logger });
    await cache.start();
    let loads = 0;
    const load = async () => {
      loads += 1;
      await sleep(50);
      return 42;
    };
    const results = await Promise.all(Array.from({ length: 100 }, () => cache.get('k', load)));
    assert.equal(loads, 1);
    assert.ok(results.every((r) => r.value === 42));
    await cache.stop();
    await Promise.all([redis.quit(), subscriber.quit()]);
  });
});

describe('catalog while its database is down', () => {
  test('when FerretDB stops, then cached products and lists are served stale, uncached ones get 503, and readiness stays up', async () => {
    const ferret = await startOwnFerretdb('stale');
    // Freshness 0 and no in-memory index: every read goes to the database, so what we see while it is down is stale-if-error.
    const catalog = await startCatalog({ dbName: 'stale', mongoUri: ferret.uri, env: { CATALOG_CACHE_FRESH_MS: '0', CATALOG_CACHE_REVALIDATE_MS: '0', CATALOG_INDEX: 'off' } });
    try {
      const created = await catalog.createProduct(product(5));
      const server = request(catalog.app.callback());
      await server.get(`/api/catalog/products/${created.id}`).expect(200);
      await server.get('/api/catalog/products?limit=5').expect(200);
      await ferret.stop();

      const stale = await server.get(`/api/catalog/products/${created.id}`).expect(200);
      assert.equal(stale.headers['x-cache'], 'stale-if-error');
      assert.equal(stale.body.name, 'Cached 5');
      const list = await server.get('/api/catalog/products?limit=5').expect(200);
      assert.equal(list.headers['x-cache'], 'stale-if-error');
      const missing = await server.get('/api/catalog/products/never-cached').expect(503);
      assert.equal(missing.headers['retry-after'], '5');
      const ready = await server.get('/readyz').expect(200);
      assert.match(ready.body.checks.mongo, /^degraded/);
    } finally {
      await ferret.dispose();
      await catalog.close();
    }
  });
});
