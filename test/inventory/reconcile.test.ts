/**
 * The reconcile pass (services/inventory/domain/sweep.ts): stock entries whose
 * hold does not exist (a reserve that landed after its hold was deleted, a
 * crash) give their units back; a pass checks at most `maxHoldChecks` entries and
 * the next one goes on where it stopped; the list of SKUs with reserved units,
 * a scan on FerretDB, is read again once a pass has walked to its end, so a SKU
 * reserved after the read is still reached.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { reconcile } from '../../services/inventory/domain/sweep.js';
import { setStock } from '../../services/inventory/domain/stock.js';
import { checkInvariant } from '../../services/inventory/domain/check.js';
import { uniqueName } from '../helpers/env.js';
import { startInventory, type InventoryUnderTest } from './helpers.js';

let inv: InventoryUnderTest;
before(async () => {
  inv = await startInventory({ dbName: uniqueName(import.meta.url) });
});
after(() => inv.close());

/** A stock entry of `units` for a hold that was never written: what a lost reserve leaves behind. */
async function orphan(sku: string, units: number): Promise<void> {
  const updated = await inv.models.Stock.updateOne({ _id: sku }, { $inc: { available: -units, reserved: units }, $set: { [`holds.ghost-${sku}`]: units } });
  assert.equal(updated.modifiedCount, 1);
}

async function units(sku: string) {
  const stock = await inv.models.Stock.findById(sku).lean();
  assert.ok(stock);
  return { available: stock.available, reserved: stock.reserved, entries: Object.keys(stock.holds ?? {}) };
}

const pass = () => reconcile(inv.deps, { retentionMs: 86_400_000, settleAfterMs: 60_000, maxHoldChecks: 1 });

test('when entries have no hold, then passes of one check each give the units back SKU by SKU, and a SKU reserved meanwhile is reached too', async () => {
  for (const sku of ['REC-A', 'REC-B']) {
    await setStock(inv.deps, sku, 10, { reason: 'test', actor: 'test' });
    await orphan(sku, 3);
  }
  const first = await pass();
  assert.deepEqual([first.orphansReleased, first.unitsReturned], [1, 3]);
  assert.deepEqual(await units('REC-A'), { available: 10, reserved: 0, entries: [] });
  assert.deepEqual((await units('REC-B')).reserved, 3, 'one check per pass: REC-B waits for the next');

  // Reserved after the first pass read which SKUs have reserved units.
  await setStock(inv.deps, 'REC-C', 5, { reason: 'test', actor: 'test' });
  await orphan('REC-C', 2);
  const second = await pass();
  assert.equal(second.unitsReturned, 3);
  assert.deepEqual(await units('REC-B'), { available: 10, reserved: 0, entries: [] });

  const third = await pass();
  assert.equal(third.unitsReturned, 2, 'the list was read again after the pass walked to its end');
  assert.deepEqual(await units('REC-C'), { available: 5, reserved: 0, entries: [] });
  assert.equal((await pass()).orphansReleased, 0);
  const report = await checkInvariant(inv.models);
  assert.equal(report.ok, true, JSON.stringify(report.violations));
});
