import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { TEST_ADMIN_TOKEN, testServers, uniqueName } from '../helpers/env.js';
import { mongoUriFor, spawnService, startInventory, type ChildService, type InventoryUnderTest } from './helpers.js';

const dbName = uniqueName(import.meta.url);
const auth = { authorization: `Bearer ${TEST_ADMIN_TOKEN}`, 'content-type': 'application/json' };
let replicas: ChildService[] = [];
let inv: InventoryUnderTest;
let granted: string[] = [];

before(async () => {
  inv = await startInventory({ dbName });
  // Correctness under contention is the point here, not latency: on a loaded 2-core CI machine one SKU's
  // lock queue can exceed the 5 s production wait, which would (correctly) answer 503 instead of 409.
  const env = { MONGODB_URI: mongoUriFor(dbName), REDIS_URL: testServers().redisUrl, ADMIN_TOKEN: TEST_ADMIN_TOKEN, STOCK_LOCK_WAIT_MS: '30000', REQUEST_TIMEOUT_MS: '60000' };
  replicas = await Promise.all([spawnService('inventory', env), spawnService('inventory', env)]);
});
after(async () => {
  await Promise.all(replicas.map((replica) => replica.stop()));
  await inv.close();
});

describe('two inventory replicas (real processes)', () => {
  test('when 200 concurrent requests reserve 1 unit of a SKU with 50 available, then exactly 50 succeed, 150 get 409 and the invariant holds', async () => {
    const put = await fetch(`${replicas[0].url}/api/inventory/stock/RUSH-1`, { method: 'PUT', headers: auth, body: JSON.stringify({ onHand: 50, reason: 'launch' }) });
    assert.equal(put.status, 201);
    const results = await Promise.all(
      Array.from({ length: 200 }, async (_, i) => {
        const replica = replicas[i % 2];
        const response = await fetch(`${replica.url}/api/inventory/holds`, { method: 'POST', headers: auth, body: JSON.stringify({ id: `rush-hold-${String(i).padStart(4, '0')}`, sku: 'RUSH-1', qty: 1 }) });
        return { status: response.status, body: (await response.json()) as { type?: string; id?: string } };
      }),
    );
    granted = results.flatMap((r) => (r.status === 201 && r.body.id ? [r.body.id] : []));
    const byStatus = results.reduce<Record<number, number>>((acc, r) => ({ ...acc, [r.status]: (acc[r.status] ?? 0) + 1 }), {});
    assert.deepEqual(byStatus, { 201: 50, 409: 150 });
    assert.ok(results.filter((r) => r.status === 409).every((r) => r.body.type === 'urn:problem:insufficient_stock'));
    const stock = (await (await fetch(`${replicas[1].url}/api/inventory/stock/RUSH-1`, { headers: auth })).json()) as Record<string, number>;
    assert.deepEqual([stock.available, stock.reserved, stock.activeHolds], [0, 50, 50]);
    const check = (await (await fetch(`${replicas[0].url}/api/inventory/check`, { headers: auth })).json()) as { ok: boolean; violations: unknown[] };
    assert.equal(check.ok, true, JSON.stringify(check.violations));
  });

  test('when a replica is killed with SIGKILL, then the other keeps serving and its replacement sees the same stock', async () => {
    await replicas[0].stop('SIGKILL');
    const res = await fetch(`${replicas[1].url}/api/inventory/holds/${granted[0]}/release`, { method: 'POST', headers: auth });
    assert.equal(res.status, 200);
    replicas[0] = await spawnService('inventory', { MONGODB_URI: mongoUriFor(dbName), REDIS_URL: testServers().redisUrl, ADMIN_TOKEN: TEST_ADMIN_TOKEN });
    const stock = (await (await fetch(`${replicas[0].url}/api/inventory/stock/RUSH-1`, { headers: auth })).json()) as Record<string, number>;
    assert.deepEqual([stock.available, stock.reserved], [1, 49]);
  });
});
