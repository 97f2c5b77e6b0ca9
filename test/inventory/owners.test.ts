import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { ManualClock } from '../../services/kit/index.js';
import { uniqueName } from '../helpers/env.js';
import { admin, inventoryCalls, startInventory, type InventoryUnderTest } from './helpers.js';

const clock = new ManualClock(Date.parse('2026-11-27T08:00:00Z'));
let inv: InventoryUnderTest;
const { api, setStock, reserve, stock, usage } = inventoryCalls(() => inv);

before(async () => {
  inv = await startInventory({ dbName: uniqueName(import.meta.url), clock });
});
after(async () => {
  await inv.close();
});

describe('usage per owner and SKU (holds by { owner, sku })', () => {
  test('when an owner has released, expired, rejected, committed and live holds, then usage counts only live and committed ones', async () => {
    const owner = 'customer:own-1';
    await setStock('OWN-A', 10);
    assert.equal((await reserve({ id: 'own-a-live', sku: 'OWN-A', qty: 2, owner })).status, 201);
    assert.equal((await reserve({ id: 'own-a-released', sku: 'OWN-A', qty: 3, owner })).status, 201);
    assert.equal((await reserve({ id: 'own-a-expired', sku: 'OWN-A', qty: 1, owner, ttlS: 60 })).status, 201);
    assert.equal((await reserve({ id: 'own-a-sold', sku: 'OWN-A', qty: 1, owner })).status, 201);
    assert.equal((await reserve({ id: 'own-a-rejected', sku: 'OWN-A', qty: 50, owner })).status, 409);
    assert.equal((await api().post('/api/inventory/holds/own-a-released/release').set(admin)).body.state, 'released');
    assert.equal((await api().post('/api/inventory/holds/own-a-sold/commit').set(admin)).body.state, 'committed');
    clock.advance(61_000);
    assert.equal((await inv.sweeps.sweepOnce()).expired, 1);
    // The sold-out one was refused by the gate before anything was written.
    assert.equal(await inv.models.Hold.countDocuments({ _id: 'own-a-rejected' }), 0);
    assert.deepEqual(await usage(owner, 'OWN-A'), { owner, sku: 'OWN-A', held: 2, committed: 1 });
    assert.deepEqual(await usage('customer:someone-else', 'OWN-A'), { owner: 'customer:someone-else', sku: 'OWN-A', held: 0, committed: 0 });
    const s = await stock('OWN-A');
    assert.deepEqual([s.available, s.reserved, s.sold], [7, 2, 1]);
  });

  test('when a live hold is past its expiry but not swept yet, then usage stops counting it at once', async () => {
    const owner = 'customer:own-2';
    await setStock('OWN-B', 5);
    await reserve({ id: 'own-b-short', sku: 'OWN-B', qty: 2, owner, ttlS: 30 });
    await reserve({ id: 'own-b-long', sku: 'OWN-B', qty: 1, owner, ttlS: 600 });
    clock.advance(31_000);
    assert.deepEqual(await usage(owner, 'OWN-B'), { owner, sku: 'OWN-B', held: 1, committed: 0 });
    // Still 'active' in storage until a sweep ends it.
    assert.equal((await inv.models.Hold.findById('own-b-short').lean())?.state, 'active');
    await inv.sweeps.sweepOnce();
    assert.deepEqual(await usage(owner, 'OWN-B'), { owner, sku: 'OWN-B', held: 1, committed: 0 });
    assert.deepEqual([(await stock('OWN-B')).available, (await stock('OWN-B')).reserved], [4, 1]);
  });

  test('when every hold of an owner ended, then usage is zero', async () => {
    const owner = 'customer:own-3';
    await setStock('OWN-C', 3);
    await reserve({ id: 'own-c-0001', sku: 'OWN-C', qty: 3, owner });
    await api().post('/api/inventory/holds/own-c-0001/release').set(admin);
    assert.deepEqual(await usage(owner, 'OWN-C'), { owner, sku: 'OWN-C', held: 0, committed: 0 });
    assert.equal((await stock('OWN-C')).available, 3);
  });

  test('when a hold moves to another owner, then it counts for the new owner only, and for nobody once released', async () => {
    const guest = 'cart:a-own4guest';
    const customer = 'customer:own-4';
    await setStock('OWN-D', 4);
    await reserve({ id: 'own-d-0001', sku: 'OWN-D', qty: 2, owner: guest });
    const moved = await api().patch('/api/inventory/holds/own-d-0001').set(admin).send({ owner: customer });
    assert.equal(moved.status, 200);
    assert.equal(moved.body.owner, customer);
    assert.deepEqual(await usage(guest, 'OWN-D'), { owner: guest, sku: 'OWN-D', held: 0, committed: 0 });
    assert.deepEqual(await usage(customer, 'OWN-D'), { owner: customer, sku: 'OWN-D', held: 2, committed: 0 });
    await api().post('/api/inventory/holds/own-d-0001/release').set(admin);
    assert.deepEqual(await usage(customer, 'OWN-D'), { owner: customer, sku: 'OWN-D', held: 0, committed: 0 });
    assert.deepEqual(await usage(guest, 'OWN-D'), { owner: guest, sku: 'OWN-D', held: 0, committed: 0 });
  });

  test('when ended holds pass the retention period, then the reconcile pass deletes them, keeping committed and live ones', async () => {
    const owner = 'customer:own-5';
    const gone = 'customer:own-6';
    await setStock('OWN-E', 10);
    await reserve({ id: 'own-e-released', sku: 'OWN-E', qty: 2, owner });
    await reserve({ id: 'own-e-sold', sku: 'OWN-E', qty: 1, owner });
    await reserve({ id: 'own-e-rejected', sku: 'OWN-E', qty: 99, owner });
    await reserve({ id: 'own-e-other', sku: 'OWN-E', qty: 1, owner: gone });
    await api().post('/api/inventory/holds/own-e-released/release').set(admin);
    await api().post('/api/inventory/holds/own-e-other/release').set(admin);
    await api().post('/api/inventory/holds/own-e-sold/commit').set(admin);
    assert.deepEqual(await usage(owner, 'OWN-E'), { owner, sku: 'OWN-E', held: 0, committed: 1 });

    clock.advance(inv.config.HOLD_RETENTION_S * 1_000 + 1_000);
    await reserve({ id: 'own-e-live', sku: 'OWN-E', qty: 3, owner, ttlS: 600 });
    const result = await inv.sweeps.reconcileOnce();
    assert.ok(result.holdsDeleted >= 3, JSON.stringify(result));
    assert.equal(await inv.models.Hold.countDocuments({ _id: { $in: ['own-e-released', 'own-e-rejected', 'own-e-other'] } }), 0);
    assert.deepEqual((await inv.models.Hold.find({ sku: 'OWN-E' }, { _id: 1 }).lean()).map((hold) => hold._id).sort(), ['own-e-live', 'own-e-sold']);
    assert.deepEqual(await usage(gone, 'OWN-E'), { owner: gone, sku: 'OWN-E', held: 0, committed: 0 });
    assert.deepEqual(await usage(owner, 'OWN-E'), { owner, sku: 'OWN-E', held: 3, committed: 1 });
    const report = (await api().get('/api/inventory/check').set(admin)).body;
    assert.equal(report.ok, true, JSON.stringify(report.violations));
    assert.deepEqual([(await stock('OWN-E')).available, (await stock('OWN-E')).reserved, (await stock('OWN-E')).sold], [6, 3, 1]);
  });
});
