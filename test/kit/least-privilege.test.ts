import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import request from 'supertest';
import { ConfigError, loadConfig } from '../../services/kit/index.js';
import { cartConfigShape } from '../../services/cart/config.js';
import { inventoryConfigShape } from '../../services/inventory/config.js';
import { fulfillmentConfigShape } from '../../services/fulfillment/config.js';
import { startInventory, type InventoryUnderTest } from '../inventory/helpers.js';
import { TEST_ADMIN_TOKEN, TEST_INTERNAL_TOKEN, uniqueName } from '../helpers/env.js';
import { SERVICES, secretEnv } from '../../charts-ts/services.js';

const stores = { MONGODB_URI: 'mongodb://127.0.0.1:1/x', REDIS_URL: 'redis://127.0.0.1:1' };

describe('separate secrets per role (issue 9, item 9)', () => {
  let inv: InventoryUnderTest;
  before(async () => {
    inv = await startInventory({ dbName: uniqueName(import.meta.url) });
  });
  after(() => inv.close());

  test('when inventory has no INTERNAL_TOKEN, then it refuses to start instead of taking the admin token for services', () => {
    assert.throws(() => loadConfig(inventoryConfigShape, { ...stores, ADMIN_TOKEN: TEST_ADMIN_TOKEN }), (e: unknown) => e instanceof ConfigError && /INTERNAL_TOKEN is required/.test(e.message));
  });

  test('when the fulfillment worker has no INTERNAL_TOKEN, then it refuses to start instead of calling checkout with the admin token', () => {
    assert.throws(() => loadConfig(fulfillmentConfigShape, { ...stores, ADMIN_TOKEN: TEST_ADMIN_TOKEN }), (e: unknown) => e instanceof ConfigError && /INTERNAL_TOKEN is required/.test(e.message));
  });

  test('when cart has only an admin token, then it refuses to start naming INVENTORY_TOKEN and CUSTOMER_TOKEN_SECRET', () => {
    assert.throws(() => loadConfig(cartConfigShape, { ...stores, ADMIN_TOKEN: TEST_ADMIN_TOKEN }), (e: unknown) => e instanceof ConfigError && /INVENTORY_TOKEN is required/.test(e.message) && /CUSTOMER_TOKEN_SECRET is required/.test(e.message));
  });

  test('when a service token is used on inventory\'s admin routes, then 401; on its internal routes it works', async () => {
    const api = request(inv.app.callback());
    const service = { authorization: `Bearer ${TEST_INTERNAL_TOKEN}` };
    await api.put('/api/inventory/stock/LP-1').set(service).send({ onHand: 5, reason: 'x', actor: 'x' }).expect(401);
    await api.get('/api/inventory/check').set(service).expect(401);
    await api.put('/api/inventory/stock/LP-1').set({ authorization: `Bearer ${TEST_ADMIN_TOKEN}` }).send({ onHand: 5, reason: 'x', actor: 'x' }).expect(201);
    await api.get('/api/inventory/stock/LP-1').set(service).expect(200);
  });

  test('in the manifests, only services with admin routes (catalog, inventory, support) hold the admin token; cart gets the service token as INVENTORY_TOKEN', () => {
    const keysOf = (name: string) => Object.fromEntries((SERVICES.find((s) => s.name === name)?.secrets ?? []).map((ref) => [secretEnv(ref).env, secretEnv(ref).key]));
    assert.deepEqual(keysOf('cart'), { MONGODB_URI: 'MONGODB_URI', REDIS_URL: 'REDIS_URL', INVENTORY_TOKEN: 'INTERNAL_TOKEN', CUSTOMER_TOKEN_SECRET: 'CUSTOMER_TOKEN_SECRET' });
    assert.equal(keysOf('inventory').INTERNAL_TOKEN, 'INTERNAL_TOKEN');
    assert.equal(keysOf('catalog').INVENTORY_TOKEN, 'INTERNAL_TOKEN');
    assert.equal(keysOf('catalog').CUSTOMER_TOKEN_SECRET, undefined);
    const withAdmin = SERVICES.filter((s) => s.secrets.some((ref) => secretEnv(ref).key === 'ADMIN_TOKEN')).map((s) => s.name).sort();
    assert.deepEqual(withAdmin, ['catalog', 'checkout', 'fulfillment', 'inventory', 'support']);
    assert.deepEqual(keysOf('storefront'), {}, 'the page holds no secret');
    assert.equal(keysOf('customers').ADMIN_TOKEN, undefined);
  });
});
