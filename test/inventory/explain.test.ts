import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { holdExpiry } from '../../services/inventory/models.js';
import { uniqueName } from '../helpers/env.js';
import { startInventory, type InventoryUnderTest } from './helpers.js';
import { plan, usesIndex } from '../helpers/explain.js';

let inv: InventoryUnderTest;
before(async () => {
  inv = await startInventory({ dbName: uniqueName(import.meta.url) });
  const now = new Date();
  const holds = Array.from({ length: 5_000 }, (_, i) => ({
    _id: `plan-${i}`, sku: `PLAN-${i % 50}`, qty: 1, requestedQty: 1, owner: `cart:${i}`, state: i % 10 ? 'released' : 'active', ...holdExpiry(now), createdAt: now, updatedAt: now, endedAt: null, claimedBy: null,
  }));
  await inv.models.Hold.insertMany(holds, { ordered: false });
});
after(() => inv.close());


test('when a hold, a stock document or a guarded hold write is looked up by _id, then the server answers from an index, not a scan', async () => {
  const cases = [
    { filter: { _id: 'plan-42' }, query: inv.models.Hold.find({ _id: 'plan-42' }).limit(10) },
    { filter: { _id: 'plan-42', state: 'active' }, query: inv.models.Hold.find({ _id: 'plan-42', state: 'active' }).limit(10) },
    { filter: { _id: 'PLAN-1' }, query: inv.models.Stock.find({ _id: 'PLAN-1' }).limit(10) },
  ];
  for (const { filter, query } of cases) {
    const p = await plan(query);
    if (p.ferret) assert.equal(p.pushdown, true, `pushdown for ${JSON.stringify(filter)}`);
    assert.ok(usesIndex(p), `index for ${JSON.stringify(filter)}: ${p.text.slice(0, 300)}`);
  }
});

test('when the sweeper looks for live holds by state, then the state equality is served by an index', async () => {
  const p = await plan(inv.models.Hold.find({ state: 'active' }).limit(10));
  assert.ok(usesIndex(p), p.text.slice(0, 300));
});

test('when the sweeper looks for due holds, then it asks by state and expiry bucket, pushed down and served by an index', async () => {
  const p = await plan(inv.models.Hold.find({ state: 'active', expiryBucket: holdExpiry(new Date()).expiryBucket }, { expiresAt: 1 }));
  if (p.ferret) assert.equal(p.pushdown, true, 'pushdown');
  assert.ok(usesIndex(p), p.text.slice(0, 300));
});

test('when usage is read for an owner and SKU, then both equalities are pushed down and served by an index, not a scan', async () => {
  const p = await plan(inv.models.Hold.find({ owner: 'cart:42', sku: 'PLAN-42' }));
  if (p.ferret) assert.equal(p.pushdown, true, 'pushdown');
  assert.ok(usesIndex(p), p.text.slice(0, 300));
});
