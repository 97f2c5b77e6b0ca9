import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import request from 'supertest';
import type { z } from 'zod';
import { ConfigError, loadConfig, sha256Hex } from '../../services/kit/index.js';
import { cartConfigShape } from '../../services/cart/config.js';
import { catalogConfigShape } from '../../services/catalog/config.js';
import { checkoutConfigShape } from '../../services/checkout/config.js';
import { customersConfigShape } from '../../services/customers/config.js';
import { fulfillmentConfigShape } from '../../services/fulfillment/config.js';
import { inventoryConfigShape } from '../../services/inventory/config.js';
import { storefrontConfigShape } from '../../services/storefront/config.js';
import { supportConfigShape } from '../../services/support/config.js';
import { startInventory, type InventoryUnderTest } from '../inventory/helpers.js';
import { TEST_ADMIN_TOKEN, TEST_ADMIN_TOKEN_SHA256, TEST_INTERNAL_TOKEN, uniqueName } from '../helpers/env.js';
import { SERVICES, secretEnv, type SecretKey, type ServiceName } from '../../charts-ts/services.js';

const stores = { MONGODB_URI: 'mongodb://127.0.0.1:1/x', REDIS_URL: 'redis://127.0.0.1:1' };

const SHAPES: Record<ServiceName, z.ZodRawShape> = {
  catalog: catalogConfigShape, inventory: inventoryConfigShape, cart: cartConfigShape, checkout: checkoutConfigShape,
  customers: customersConfigShape, support: supportConfigShape, fulfillment: fulfillmentConfigShape, storefront: storefrontConfigShape,
};

/** The env var -> Secret key pairs a service's pod gets. */
const mountsOf = (name: string) => Object.fromEntries((SERVICES.find((s) => s.name === name)?.secrets ?? []).map((ref) => [secretEnv(ref).env, secretEnv(ref).key]));

/** A consistent Secret: each token a fixed value, each `*_SHA256` the digest of its token. */
function secretValue(key: SecretKey): string {
  if (key === 'MONGODB_URI') return stores.MONGODB_URI;
  if (key === 'REDIS_URL') return stores.REDIS_URL;
  const token = (name: string) => `secret-${name.toLowerCase()}-0123456789`;
  return key.endsWith('_SHA256') ? sha256Hex(token(key.slice(0, -'_SHA256'.length))) : token(key);
}

describe('separate secrets per role (issue 9, item 9)', () => {
  let inv: InventoryUnderTest;
  before(async () => {
    // As in the manifests: inventory holds only the digests of the tokens it verifies.
    inv = await startInventory({ dbName: uniqueName(import.meta.url), digestsOnly: true });
  });
  after(() => inv.close());

  test('when inventory has neither INTERNAL_TOKEN nor its digest, then it refuses to start instead of taking the admin token for services', () => {
    assert.throws(() => loadConfig(inventoryConfigShape, { ...stores, ADMIN_TOKEN: TEST_ADMIN_TOKEN }), (e: unknown) => e instanceof ConfigError && /INTERNAL_TOKEN or INTERNAL_TOKEN_SHA256 is required/.test(e.message));
  });

  test('when the fulfillment worker has no INTERNAL_TOKEN, then it refuses to start instead of calling checkout with the admin token', () => {
    assert.throws(() => loadConfig(fulfillmentConfigShape, { ...stores, ADMIN_TOKEN_SHA256: TEST_ADMIN_TOKEN_SHA256 }), (e: unknown) => e instanceof ConfigError && /INTERNAL_TOKEN is required/.test(e.message));
  });

  test('when cart has only an admin token, then it refuses to start naming INVENTORY_TOKEN and CUSTOMER_TOKEN_SECRET', () => {
    assert.throws(() => loadConfig(cartConfigShape, { ...stores, ADMIN_TOKEN: TEST_ADMIN_TOKEN }), (e: unknown) => e instanceof ConfigError && /INVENTORY_TOKEN is required/.test(e.message) && /CUSTOMER_TOKEN_SECRET is required/.test(e.message));
  });

  test('when a service with admin routes has no admin credential, or a digest that is not the token\'s, then it refuses to start naming them', () => {
    const env = { ...stores, CUSTOMER_TOKEN_SECRET: 'customer-secret-0123456789' };
    assert.throws(() => loadConfig(supportConfigShape, env), (e: unknown) => e instanceof ConfigError && /ADMIN_TOKEN or ADMIN_TOKEN_SHA256 is required/.test(e.message));
    assert.throws(() => loadConfig(supportConfigShape, { ...env, ADMIN_TOKEN: TEST_ADMIN_TOKEN, ADMIN_TOKEN_SHA256: sha256Hex('another-admin-token-0123') }), (e: unknown) => e instanceof ConfigError && /ADMIN_TOKEN_SHA256 is not the SHA-256 of ADMIN_TOKEN/.test(e.message));
    assert.throws(() => loadConfig(supportConfigShape, { ...env, ADMIN_TOKEN_SHA256: 'not-hex' }), (e: unknown) => e instanceof ConfigError && /ADMIN_TOKEN_SHA256 must be the SHA-256/.test(e.message));
    assert.equal(loadConfig(supportConfigShape, { ...env, ADMIN_TOKEN_SHA256: TEST_ADMIN_TOKEN_SHA256 }).ADMIN_TOKEN, undefined);
  });

  test('when inventory holds only the digests, then the admin token works on admin routes, the service token only on internal ones, and the digest itself is no credential', async () => {
    const api = request(inv.app.callback());
    const service = { authorization: `Bearer ${TEST_INTERNAL_TOKEN}` };
    await api.put('/api/inventory/stock/LP-1').set(service).send({ onHand: 5, reason: 'x', actor: 'x' }).expect(401);
    await api.get('/api/inventory/check').set(service).expect(401);
    await api.put('/api/inventory/stock/LP-1').set({ authorization: `Bearer ${TEST_ADMIN_TOKEN_SHA256}` }).send({ onHand: 5, reason: 'x', actor: 'x' }).expect(401);
    await api.put('/api/inventory/stock/LP-1').set({ authorization: `Bearer ${TEST_ADMIN_TOKEN}` }).send({ onHand: 5, reason: 'x', actor: 'x' }).expect(201);
    await api.get('/api/inventory/stock/LP-1').set(service).expect(200);
  });

  test('in the manifests, each service gets exactly the credentials it uses: digests of what it only verifies, tokens only where it sends them', () => {
    const STORES = { MONGODB_URI: 'MONGODB_URI', REDIS_URL: 'REDIS_URL' } as const;
    const expected: Record<ServiceName, Record<string, SecretKey>> = {
      catalog: { ...STORES, ADMIN_TOKEN_SHA256: 'ADMIN_TOKEN_SHA256', INVENTORY_TOKEN: 'INTERNAL_TOKEN' },
      inventory: { ...STORES, ADMIN_TOKEN_SHA256: 'ADMIN_TOKEN_SHA256', INTERNAL_TOKEN_SHA256: 'INTERNAL_TOKEN_SHA256' },
      cart: { ...STORES, INVENTORY_TOKEN: 'INTERNAL_TOKEN', CUSTOMER_TOKEN_SECRET: 'CUSTOMER_TOKEN_SECRET' },
      customers: { ...STORES, CUSTOMER_TOKEN_SECRET: 'CUSTOMER_TOKEN_SECRET' },
      support: { ...STORES, ADMIN_TOKEN_SHA256: 'ADMIN_TOKEN_SHA256', CUSTOMER_TOKEN_SECRET: 'CUSTOMER_TOKEN_SECRET' },
      checkout: { ...STORES, ADMIN_TOKEN_SHA256: 'ADMIN_TOKEN_SHA256', INTERNAL_TOKEN: 'INTERNAL_TOKEN', CUSTOMER_TOKEN_SECRET: 'CUSTOMER_TOKEN_SECRET' },
      fulfillment: { ...STORES, ADMIN_TOKEN_SHA256: 'ADMIN_TOKEN_SHA256', INTERNAL_TOKEN: 'INTERNAL_TOKEN' },
      storefront: {},
    };
    assert.deepEqual(Object.fromEntries(SERVICES.map((s) => [s.name, mountsOf(s.name)])), expected);
    // No service sends the admin token, so no pod holds it: a compromised pod cannot act as admin.
    assert.deepEqual(SERVICES.filter((s) => Object.keys(mountsOf(s.name)).includes('ADMIN_TOKEN')).map((s) => s.name), []);
  });

  test('in the manifests, every mounted credential is read by the service, and the service starts with exactly what is mounted', () => {
    for (const service of SERVICES) {
      const shape = SHAPES[service.name];
      const mounts = mountsOf(service.name);
      assert.deepEqual(Object.keys(mounts).filter((env) => !(env in shape)), [], `${service.name} gets env vars its config does not read`);
      const env = Object.fromEntries(Object.entries(mounts).map(([name, key]) => [name, secretValue(key)]));
      assert.doesNotThrow(() => loadConfig(shape, env), `${service.name} does not start with only its mounted secrets`);
    }
  });
});
