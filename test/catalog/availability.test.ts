import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import request from 'supertest';
import { startCatalog, type CatalogUnderTest } from '../helpers/catalog.js';
import { startInventory, type InventoryUnderTest } from '../inventory/helpers.js';
import { TEST_ADMIN_TOKEN, TEST_INTERNAL_TOKEN, uniqueName } from '../helpers/env.js';
import { sleep } from '../../services/kit/index.js';

const admin = { authorization: `Bearer ${TEST_ADMIN_TOKEN}` };
const service = { authorization: `Bearer ${TEST_INTERNAL_TOKEN}` };
const doorbuster = { sku: 'AV-LTD', slug: 'av-doorbuster', name: 'Doorbuster lamp', price: { amount: 999, currency: 'EUR' }, limitedQuantity: true, maxPerOrder: 2 };
const plain = { sku: 'AV-PLAIN', slug: 'av-plain', name: 'Plain lamp', price: { amount: 1999, currency: 'EUR' } };

describe('availability of limited products on catalog reads (issue 9, item 11)', () => {
  const dbName = uniqueName(import.meta.url);
  let inv: InventoryUnderTest;
  let catalog: CatalogUnderTest;
  let orphan: CatalogUnderTest;
  let server: ReturnType<typeof request>;
  let invApi: ReturnType<typeof request>;

  before(async () => {
    inv = await startInventory({ dbName: `${dbName}_inv`, listen: true });
    invApi = request(inv.url);
    catalog = await startCatalog({ dbName, env: { INVENTORY_URL: inv.url, INVENTORY_TOKEN: TEST_INTERNAL_TOKEN, CATALOG_AVAILABILITY_TTL_MS: '200' } });
    // Inventory "down": nothing listens on port 1.
    orphan = await startCatalog({ dbName: `${dbName}_orphan`, env: { INVENTORY_URL: 'http://127.0.0.1:1', INVENTORY_TOKEN: TEST_INTERNAL_TOKEN, CATALOG_AVAILABILITY_TIMEOUT_MS: '200' } });
    server = request(catalog.app.callback());
    for (const c of [catalog, orphan]) {
      await c.createProduct(doorbuster);
      await c.createProduct(plain);
    }
    await invApi.put('/api/inventory/stock/AV-LTD').set(admin).send({ onHand: 7, reason: 'test', actor: 'test' }).expect(201);
  });
  after(async () => {
    await orphan.close();
    await catalog.close();
    await inv.close();
  });

  test('when a page lists a limited product, then it carries its availability and other products carry none', async () => {
    const page = await server.get('/api/catalog/products').query({ q: 'lamp' }).expect(200);
    const bySku = Object.fromEntries(page.body.items.map((p: { sku: string }) => [p.sku, p]));
    assert.deepEqual(bySku['AV-LTD'].availability, { available: 7, inStock: true });
    assert.equal(bySku['AV-PLAIN'].availability, undefined);
    const cacheControl = String(page.headers['cache-control']);
    assert.match(cacheControl, /^public, max-age=1,/);
    assert.match(cacheControl, /s-maxage=1(,|$)/, `shared caches keep live availability no longer than browsers: ${cacheControl}`);
  });

  test('when units are reserved, then the product read shows the new availability within the short cache time, also on repeated (cached) reads', async () => {
    await server.get('/api/catalog/products/av-doorbuster').expect(200);
    await invApi.post('/api/inventory/holds').set(service).send({ id: 'av-hold-0001', sku: 'AV-LTD', qty: 3 }).expect(201);
    await sleep(300);
    for (let i = 0; i < 2; i++) {
      const read = await server.get('/api/catalog/products/av-doorbuster').expect(200);
      assert.deepEqual(read.body.availability, { available: 4, inStock: true });
    }
  });

  test('when inventory is unreachable, then pages and product reads still answer 200, without availability', async () => {
    const orphanApi = request(orphan.app.callback());
    const page = await orphanApi.get('/api/catalog/products').query({ q: 'lamp', count: 'true' }).expect(200);
    assert.equal(page.body.total, 2);
    assert.ok(page.body.items.every((p: { availability?: unknown }) => p.availability === undefined));
    const read = await orphanApi.get('/api/catalog/products/av-doorbuster').expect(200);
    assert.equal(read.body.availability, undefined);
    assert.equal(read.body.limitedQuantity, true);
  });

  test('inventory\'s batch availability read takes the service or admin token, refuses anonymous callers and names bad SKUs', async () => {
    await invApi.get('/api/inventory/availability').query({ skus: 'AV-LTD,NOPE' }).expect(401);
    const read = await invApi.get('/api/inventory/availability').query({ skus: 'AV-LTD,NOPE' }).set(service).expect(200);
    assert.deepEqual(read.body.items, [{ sku: 'AV-LTD', available: 4, inStock: true }]);
    await invApi.get('/api/inventory/availability').query({ skus: 'AV-LTD' }).set(admin).expect(200);
    const bad = await invApi.get('/api/inventory/availability').query({ skus: 'a b' }).set(service).expect(400);
    assert.ok(bad.body.errors.every((e: { field: string }) => e.field.startsWith('query.skus')));
  });
});
