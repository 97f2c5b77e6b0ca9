/** inventory_holds_total: what became of holds, counted once per hold whatever the retries (the dashboard's Holds panel). */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { ManualClock } from '../../services/kit/index.js';
import { uniqueName } from '../helpers/env.js';
import { admin, inventoryCalls, startInventory, type InventoryUnderTest } from './helpers.js';

const clock = new ManualClock(Date.parse('2026-11-27T08:00:00Z'));
let inv: InventoryUnderTest;
const { api, setStock, reserve } = inventoryCalls(() => inv);

before(async () => {
  inv = await startInventory({ dbName: uniqueName(import.meta.url), clock });
});
after(async () => {
  await inv.close();
});

/** `inventory_holds_total` by outcome, as /metrics shows it. */
async function holdOutcomes(): Promise<Record<string, number>> {
  const text = (await api().get('/metrics').expect(200)).text;
  const counts: Record<string, number> = {};
  for (const [, labels, value] of text.matchAll(/^inventory_holds_total\{([^}]*)\} (\S+)$/gm)) {
    const outcome = /outcome="([^"]+)"/.exec(labels!)?.[1];
    if (outcome) counts[outcome] = Number(value);
  }
  return counts;
}

test('when the inventory app starts, then every hold outcome is a series at 0', async () => {
  assert.deepEqual(await holdOutcomes(), { created: 0, rejected: 0, released: 0, expired: 0, committed: 0 });
});

test('when holds are created, refused, released, committed and expired (retries included), then each outcome is counted once per hold', async () => {
  await setStock('SKU-M', 5);
  assert.equal((await reserve({ id: 'hold-m-0001', sku: 'SKU-M', qty: 2 })).status, 201);
  assert.equal((await reserve({ id: 'hold-m-0001', sku: 'SKU-M', qty: 2 })).status, 200); // a retry: the same hold
  assert.equal((await reserve({ id: 'hold-m-0002', sku: 'SKU-M', qty: 10 })).status, 409);
  assert.equal((await reserve({ id: 'hold-m-0003', sku: 'SKU-M', qty: 1 })).status, 201);
  for (let i = 0; i < 2; i += 1) assert.equal((await api().post('/api/inventory/holds/hold-m-0003/release').set(admin)).status, 200);
  for (let i = 0; i < 2; i += 1) assert.equal((await api().post('/api/inventory/holds/hold-m-0001/commit').set(admin)).status, 200);
  assert.equal((await reserve({ id: 'hold-m-0004', sku: 'SKU-M', qty: 1, ttlS: 60 })).status, 201);
  clock.advance(61_000);
  assert.equal((await inv.sweeps.sweepOnce()).expired, 1);
  await inv.sweeps.sweepOnce();
  assert.deepEqual(await holdOutcomes(), { created: 3, rejected: 1, released: 1, expired: 1, committed: 1 });
});
