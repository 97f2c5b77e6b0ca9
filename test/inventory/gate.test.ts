import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { uniqueName } from '../helpers/env.js';
import { admin, inventoryCalls, lockPrefixFor, startInventory, type InventoryUnderTest } from './helpers.js';

const dbName = uniqueName(import.meta.url);
let inv: InventoryUnderTest;
const { api, setStock, reserve, stock, holdState, check } = inventoryCalls(() => inv);
const gateKey = (sku: string) => `${lockPrefixFor(dbName)}:gate:${sku}`;

before(async () => {
  inv = await startInventory({ dbName });
});
after(() => inv.close());

describe('availability gate (Redis)', () => {
  test('when a SKU is sold out, then a reserve gets 409 while the SKU lock is held elsewhere, and no hold is written', async () => {
    await setStock('GATE-A', 1);
    assert.equal((await reserve({ id: 'gate-a-1', sku: 'GATE-A', qty: 1 })).status, 201);
    let lockFreed = false;
    const holder = inv.deps.lock('GATE-A', async () => {
      await sleep(3_000);
      lockFreed = true;
    });
    await sleep(100);
    const refused = await reserve({ id: 'gate-a-2', sku: 'GATE-A', qty: 1 });
    assert.equal(refused.status, 409);
    assert.deepEqual([refused.body.type, refused.body.available], ['urn:problem:insufficient_stock', 0]);
    assert.equal(lockFreed, false, 'the 409 came before the lock holder let go');
    await holder;
    assert.equal(await inv.models.Hold.countDocuments({ _id: 'gate-a-2' }), 0);
  });

  test('when Redis loses the gate (keys flushed), then it is rebuilt from the database: still sold out, and a released unit is reservable again', async () => {
    await setStock('GATE-B', 2);
    assert.equal((await reserve({ id: 'gate-b-1', sku: 'GATE-B', qty: 1 })).status, 201);
    assert.equal((await reserve({ id: 'gate-b-2', sku: 'GATE-B', qty: 1 })).status, 201);
    // What FLUSHALL or a Redis restart without its data does to this SKU (FLUSHALL itself would hit other test files).
    assert.equal(await inv.redis.del(gateKey('GATE-B')), 1);
    assert.equal((await reserve({ id: 'gate-b-3', sku: 'GATE-B', qty: 1 })).status, 409);
    assert.deepEqual(await inv.redis.hgetall(gateKey('GATE-B')), { a: '0', 'h:gate-b-1': '1', 'h:gate-b-2': '1' });
    await inv.redis.del(gateKey('GATE-B'));
    assert.equal((await api().post('/api/inventory/holds/gate-b-1/release').set(admin)).body.state, 'released');
    assert.equal((await reserve({ id: 'gate-b-4', sku: 'GATE-B', qty: 1 })).status, 201);
    assert.equal((await reserve({ id: 'gate-b-5', sku: 'GATE-B', qty: 1 })).status, 409);
    const s = await stock('GATE-B');
    assert.deepEqual([s.available, s.reserved], [0, 2]);
    assert.equal((await check()).ok, true);
  });

  test('when an admin adds stock to a sold-out SKU, then the gate follows and the new units can be reserved', async () => {
    await setStock('GATE-C', 1);
    assert.equal((await reserve({ id: 'gate-c-1', sku: 'GATE-C', qty: 1 })).status, 201);
    assert.equal((await reserve({ id: 'gate-c-2', sku: 'GATE-C', qty: 1 })).status, 409);
    assert.equal((await api().post('/api/inventory/stock/GATE-C/adjustments').set(admin).send({ delta: 2, reason: 'restock' })).status, 201);
    assert.equal((await reserve({ id: 'gate-c-3', sku: 'GATE-C', qty: 2 })).status, 201);
    assert.equal((await api().post('/api/inventory/holds/gate-c-3/commit').set(admin)).body.state, 'committed');
    assert.equal((await reserve({ id: 'gate-c-4', sku: 'GATE-C', qty: 1 })).status, 409);
    assert.deepEqual(await inv.redis.hgetall(gateKey('GATE-C')), { a: '0', 'h:gate-c-1': '1' });
  });

  test('when the release of a hold id arrives before its reserve, then the reserve is refused and reserves nothing', async () => {
    await setStock('GATE-D', 3);
    assert.equal((await api().post('/api/inventory/holds/gate-d-late/release').set(admin)).body.state, 'released');
    const late = await reserve({ id: 'gate-d-late', sku: 'GATE-D', qty: 1 });
    assert.equal(late.status, 409);
    assert.equal(late.body.type, 'urn:problem:hold_ended');
    assert.equal(await holdState('gate-d-late'), 'released');
    const s = await stock('GATE-D');
    assert.deepEqual([s.available, s.reserved], [3, 0]);
    assert.equal(await inv.redis.hget(gateKey('GATE-D'), 'a'), '3');
  });
});
