import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { ManualClock } from '../../services/kit/index.js';
import { TEST_INTERNAL_TOKEN, uniqueName } from '../helpers/env.js';
import { admin, inventoryCalls, startInventory, type InventoryUnderTest } from './helpers.js';

const clock = new ManualClock(Date.parse('2026-11-27T08:00:00Z'));
let inv: InventoryUnderTest;
const { api, setStock, stock, reserve, check } = inventoryCalls(() => inv);

before(async () => {
  inv = await startInventory({ dbName: uniqueName(import.meta.url), clock });
});
after(async () => {
  await inv.close();
});

describe('stock administration', () => {
  test('when stock is set for a new SKU, then it is created with that many available units and audited', async () => {
    const res = await api().put('/api/inventory/stock/SKU-A').set(admin).send({ onHand: 30, reason: 'delivery', actor: 'alice' });
    assert.equal(res.status, 201);
    assert.deepEqual({ onHand: res.body.onHand, available: res.body.available, reserved: res.body.reserved, sold: res.body.sold }, { onHand: 30, available: 30, reserved: 0, sold: 0 });
    const audit = await api().get('/api/inventory/stock/SKU-A/adjustments').set(admin);
    assert.equal(audit.body.items[0].actor, 'alice');
    assert.equal(audit.body.items[0].delta, 30);
    assert.equal(audit.body.items[0].reason, 'delivery');
    assert.equal(audit.body.items[0].state, 'applied');
    assert.equal(audit.body.items[0].at, new Date(clock.now()).toISOString());
  });

  test('when an adjustment is retried with the same id, then it applies once', async () => {
    const body = { delta: -5, reason: 'damaged', actor: 'bob', adjustmentId: 'adj-000001' };
    const first = await api().post('/api/inventory/stock/SKU-A/adjustments').set(admin).send(body);
    const second = await api().post('/api/inventory/stock/SKU-A/adjustments').set(admin).send(body);
    assert.equal(first.status, 201);
    assert.equal(second.status, 200);
    assert.equal((await stock('SKU-A')).available, 25);
    const conflicting = await api().post('/api/inventory/stock/SKU-A/adjustments').set(admin).send({ ...body, delta: -6 });
    assert.equal(conflicting.status, 409);
    assert.equal(conflicting.body.type, 'urn:problem:adjustment_id_conflict');
  });

  test('when an adjustment would remove more than is available, then 409 and nothing changes', async () => {
    const res = await api().post('/api/inventory/stock/SKU-A/adjustments').set(admin).send({ delta: -1000, reason: 'oops' });
    assert.equal(res.status, 409);
    assert.equal(res.body.type, 'urn:problem:insufficient_available');
    assert.equal((await stock('SKU-A')).available, 25);
  });

  test('when stock is set while units are reserved, then only available changes and on-hand equals the target', async () => {
    await setStock('SKU-B', 10);
    assert.equal((await reserve({ id: 'hold-b-0001', sku: 'SKU-B', qty: 4 })).status, 201);
    const res = await api().put('/api/inventory/stock/SKU-B').set(admin).send({ onHand: 20, reason: 'recount' });
    assert.equal(res.status, 200);
    assert.deepEqual({ onHand: res.body.onHand, available: res.body.available, reserved: res.body.reserved }, { onHand: 20, available: 16, reserved: 4 });
    const below = await api().put('/api/inventory/stock/SKU-B').set(admin).send({ onHand: 3, reason: 'recount' });
    assert.equal(below.status, 409);
    assert.equal(below.body.type, 'urn:problem:below_reserved');
  });

  test('when input is bad, then 400 names the field and nothing is written', async () => {
    const res = await api().put('/api/inventory/stock/SKU-C').set(admin).send({ onHand: -1, extra: true });
    assert.equal(res.status, 400);
    const fields = res.body.errors.map((e: { field: string }) => e.field).sort();
    assert.deepEqual(fields, ['body', 'body.onHand']);
    assert.equal((await api().get('/api/inventory/stock/SKU-C').set(admin)).status, 404);
    const badHold = await reserve({ id: 'bad.id', sku: 'SKU-A', qty: 0 });
    assert.equal(badHold.status, 400);
    assert.deepEqual(badHold.body.errors.map((e: { field: string }) => e.field).sort(), ['body.id', 'body.qty']);
  });

  test('when the admin token is missing or wrong, then 401', async () => {
    assert.equal((await api().put('/api/inventory/stock/SKU-Z').send({ onHand: 1 })).status, 401);
    assert.equal((await api().post('/api/inventory/holds').set('authorization', 'Bearer nope').send({ id: 'hold-z-0001', sku: 'SKU-Z', qty: 1 })).status, 401);
  });
});

describe('holds', () => {
  test('when a reserve is retried with the same hold id, then units are reserved once', async () => {
    await setStock('SKU-H', 10);
    const first = await reserve({ id: 'hold-h-0001', sku: 'SKU-H', qty: 3, owner: 'cart:abc' });
    const again = await reserve({ id: 'hold-h-0001', sku: 'SKU-H', qty: 3, owner: 'cart:abc' });
    assert.equal(first.status, 201);
    assert.equal(again.status, 200);
    assert.equal(again.body.state, 'active');
    assert.deepEqual([(await stock('SKU-H')).available, (await stock('SKU-H')).reserved], [7, 3]);
    const other = await reserve({ id: 'hold-h-0001', sku: 'SKU-H', qty: 4 });
    assert.equal(other.status, 409);
    assert.equal(other.body.type, 'urn:problem:hold_id_conflict');
  });

  test('when more is asked than available, then 409 names what is available and nothing is reserved', async () => {
    const res = await reserve({ id: 'hold-h-0002', sku: 'SKU-H', qty: 8 });
    assert.equal(res.status, 409);
    assert.equal(res.body.type, 'urn:problem:insufficient_stock');
    assert.equal(res.body.available, 7);
    assert.equal((await stock('SKU-H')).reserved, 3);
    const unknown = await reserve({ id: 'hold-h-0003', sku: 'NO-SUCH', qty: 1 });
    assert.equal(unknown.status, 409);
    assert.equal(unknown.body.available, 0);
  });

  test('when a hold is resized, then the difference moves between available and reserved', async () => {
    const grown = await api().patch('/api/inventory/holds/hold-h-0001').set(admin).send({ qty: 5 });
    assert.equal(grown.status, 200);
    assert.equal(grown.body.qty, 5);
    assert.deepEqual([(await stock('SKU-H')).available, (await stock('SKU-H')).reserved], [5, 5]);
    const tooMuch = await api().patch('/api/inventory/holds/hold-h-0001').set(admin).send({ qty: 11 });
    assert.equal(tooMuch.status, 409);
    assert.equal(tooMuch.body.type, 'urn:problem:insufficient_stock');
    await api().patch('/api/inventory/holds/hold-h-0001').set(admin).send({ qty: 2 });
    assert.deepEqual([(await stock('SKU-H')).available, (await stock('SKU-H')).reserved], [8, 2]);
  });

  test('when a hold is committed twice, then its units are sold once and it can no longer be released', async () => {
    const first = await api().post('/api/inventory/holds/hold-h-0001/commit').set(admin);
    const second = await api().post('/api/inventory/holds/hold-h-0001/commit').set(admin);
    assert.equal(first.status, 200);
    assert.equal(second.body.state, 'committed');
    const s = await stock('SKU-H');
    assert.deepEqual([s.available, s.reserved, s.sold], [8, 0, 2]);
    const release = await api().post('/api/inventory/holds/hold-h-0001/release').set(admin);
    assert.equal(release.status, 409);
    const usage = await api().get('/api/inventory/usage').query({ owner: 'cart:abc', sku: 'SKU-H' }).set(admin);
    assert.deepEqual(usage.body, { owner: 'cart:abc', sku: 'SKU-H', held: 0, committed: 2 });
  });

  test('when a service restocks a committed hold, then exactly the units it sold return, once, without the admin token; a live hold is 409', async () => {
    const service = { authorization: `Bearer ${TEST_INTERNAL_TOKEN}` };
    await setStock('SKU-R', 10);
    assert.equal((await reserve({ id: 'hold-r-0001', sku: 'SKU-R', qty: 3 })).status, 201);
    const live = await api().post('/api/inventory/holds/hold-r-0001/restock').set(service);
    assert.equal(live.status, 409);
    assert.equal(live.body.type, 'urn:problem:hold_not_committed');
    assert.equal((await api().post('/api/inventory/holds/hold-r-0001/commit').set(service)).status, 200);
    assert.deepEqual([(await stock('SKU-R')).available, (await stock('SKU-R')).sold], [7, 3]);
    const first = await api().post('/api/inventory/holds/hold-r-0001/restock').set(service);
    assert.equal(first.status, 201, JSON.stringify(first.body));
    assert.equal(first.body.adjustment.delta, 3);
    const again = await api().post('/api/inventory/holds/hold-r-0001/restock').set(service);
    assert.equal(again.status, 200);
    assert.equal((await stock('SKU-R')).available, 10);
    assert.equal((await api().post('/api/inventory/holds/hold-r-unknown/restock').set(service)).status, 404);
    assert.equal((await api().post('/api/inventory/holds/hold-r-0001/restock')).status, 401);
    // The admin's free-form adjustments stay admin-only.
    assert.equal((await api().post('/api/inventory/stock/SKU-R/adjustments').set(service).send({ delta: 5, reason: 'x' })).status, 401);
  });

  test('when a hold is released twice, then its units return once', async () => {
    await reserve({ id: 'hold-h-0004', sku: 'SKU-H', qty: 4 });
    assert.equal((await stock('SKU-H')).available, 4);
    const first = await api().post('/api/inventory/holds/hold-h-0004/release').set(admin);
    const second = await api().post('/api/inventory/holds/hold-h-0004/release').set(admin);
    assert.equal(first.body.state, 'released');
    assert.equal(second.status, 200);
    assert.equal((await stock('SKU-H')).available, 8);
  });
});

describe('expiry with an injectable clock', () => {
  test('when a hold outlives its ttl, then it reads expired, cannot be committed, and a sweep returns its units exactly once', async () => {
    await setStock('SKU-E', 5);
    await reserve({ id: 'hold-e-0001', sku: 'SKU-E', qty: 2, ttlS: 60 });
    await reserve({ id: 'hold-e-0002', sku: 'SKU-E', qty: 1, ttlS: 600 });
    const extended = await api().post('/api/inventory/holds/hold-e-0002/extend').set(admin).send({ ttlS: 900 });
    assert.equal(extended.body.expiresAt, new Date(clock.now() + 900_000).toISOString());
    clock.advance(61_000);
    assert.equal((await api().get('/api/inventory/holds/hold-e-0001').set(admin)).body.state, 'expired');
    const first = await inv.sweeps.sweepOnce();
    const second = await inv.sweeps.sweepOnce();
    assert.equal(first.expired, 1);
    assert.equal(second.expired, 0);
    const s = await stock('SKU-E');
    assert.deepEqual([s.available, s.reserved], [4, 1]);
    const commit = await api().post('/api/inventory/holds/hold-e-0001/commit').set(admin);
    assert.equal(commit.status, 409);
    assert.equal(commit.body.type, 'urn:problem:hold_expired');
  });

  test('when an expired hold is touched before any sweep, then it expires on the spot and its units return once', async () => {
    clock.advance(900_001);
    const extend = await api().post('/api/inventory/holds/hold-e-0002/extend').set(admin).send({});
    assert.equal(extend.status, 409);
    assert.equal(extend.body.type, 'urn:problem:hold_expired');
    assert.equal((await stock('SKU-E')).available, 5);
    await inv.sweeps.sweepOnce(); // expires holds of other SKUs that also ran out; none of SKU-E is left
    assert.deepEqual([(await stock('SKU-E')).available, (await stock('SKU-E')).reserved], [5, 0]);
  });

  test('when everything above has happened, then the invariant holds for every SKU', async () => {
    const report = await check();
    assert.equal(report.ok, true, JSON.stringify(report.violations));
    assert.ok(report.skus >= 4);
  });
});
