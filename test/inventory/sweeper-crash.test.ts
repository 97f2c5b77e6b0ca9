import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { ManualClock } from '../../services/kit/index.js';
import { reserve } from '../../services/inventory/domain/holds.js';
import { setStock } from '../../services/inventory/domain/stock.js';
import { checkInvariant } from '../../services/inventory/domain/check.js';
import { uniqueName } from '../helpers/env.js';
import { killAll, killHard, startTsChild, type TsChild } from '../helpers/child.js';
import { lockPrefixFor, mongoUriFor, startInventory, type InventoryUnderTest } from './helpers.js';

const dbName = uniqueName(import.meta.url);
// Holds are created "an hour ago" so they are already expired for the workers, which use the system clock.
const clock = new ManualClock(Date.now() - 3_600_000);
let inv: InventoryUnderTest;

function startWorker(mode: string): TsChild {
  return startTsChild('test/inventory/sweep-worker.ts', { MONGODB_URI: mongoUriFor(dbName), LOCK_PREFIX: lockPrefixFor(dbName), MODE: mode });
}

async function stockOf(sku: string) {
  const doc = await inv.models.Stock.findById(sku).lean();
  assert.ok(doc);
  return doc;
}

/**
 * Each test moves the clock back an hour to make holds that are already expired. The expiry
 * sweep tolerates clocks 10 minutes apart (kit/time-buckets.ts, rewind), not an hour, so a
 * test that goes back in time starts from a fresh sweep mark, as a new database would.
 */
async function rewindClock() {
  clock.set(Date.now() - 3_600_000);
  await inv.models.Hold.db.collection('sweep_marks').deleteMany({});
}

async function expiredHolds(sku: string, count: number, onHand: number) {
  await setStock(inv.deps, sku, onHand, { reason: 'test', actor: 'test' });
  for (let i = 0; i < count; i++) await reserve(inv.deps, { id: `${sku}-hold-${String(i).padStart(3, '0')}`, sku, qty: 1, ttlS: 60, owner: null });
}

before(async () => {
  inv = await startInventory({ dbName, clock });
});
after(async () => {
  await killAll();
  await inv.close();
});

describe('a sweeper killed mid-run', () => {
  test('when it dies after claiming a hold but before returning its units, then recovery returns them exactly once', async () => {
    await expiredHolds('CRASH-A', 1, 10);
    const worker = startWorker('claim-then-hang');
    const line = await worker.waitFor(/claimed \S+/);
    await killHard(worker.child);
    assert.equal(line, 'claimed CRASH-A-hold-000');
    assert.equal((await inv.models.Hold.findById('CRASH-A-hold-000').lean())?.state, 'expiring');
    assert.equal((await stockOf('CRASH-A')).available, 9, 'the claim alone moves no units');

    clock.set(Date.now() + 3_600_000); // past HOLD_STUCK_AFTER_MS
    const first = await inv.sweeps.sweepOnce();
    const second = await inv.sweeps.sweepOnce();
    assert.deepEqual([first.recovered, second.recovered], [1, 0]);
    const stock = await stockOf('CRASH-A');
    assert.deepEqual([stock.available, stock.reserved], [10, 0]);
    assert.equal((await inv.models.Hold.findById('CRASH-A-hold-000').lean())?.state, 'expired');
  });

  test('when it dies after returning the units but before recording the end, then recovery does not return them again', async () => {
    await rewindClock();
    await expiredHolds('CRASH-B', 1, 10);
    const worker = startWorker('effect-then-hang');
    await worker.waitFor(/returned CRASH-B-hold-000/);
    await killHard(worker.child);
    assert.equal((await stockOf('CRASH-B')).available, 10);
    clock.set(Date.now() + 3_600_000);
    await inv.sweeps.sweepOnce();
    await inv.sweeps.reconcileOnce();
    const stock = await stockOf('CRASH-B');
    assert.deepEqual([stock.available, stock.reserved], [10, 0]);
    assert.equal((await inv.models.Hold.findById('CRASH-B-hold-000').lean())?.state, 'expired');
  });

  test('when two sweepers run at once and one is SIGKILLed mid-sweep, then every unit returns exactly once and the invariant holds', async () => {
    await rewindClock();
    await expiredHolds('CRASH-C', 60, 80);
    const a = startWorker('sweep');
    const b = startWorker('sweep');
    // Both boot first, then start at once: a worker that booted seconds later (a slow runner) found
    // every hold already swept by the other and exited at "progress 0", before it could be killed.
    await Promise.all([a.waitFor(/ready/), b.waitFor(/ready/)]);
    a.send('go');
    b.send('go');
    await a.waitFor(/progress [1-9]/);
    await killHard(a.child);
    await new Promise<void>((resolve) => (b.child.exitCode !== null ? resolve() : b.child.once('exit', () => resolve())));
    clock.set(Date.now() + 3_600_000);
    await inv.sweeps.sweepOnce();
    await inv.sweeps.reconcileOnce();
    const stock = await stockOf('CRASH-C');
    assert.deepEqual([stock.available, stock.reserved, stock.sold], [80, 0, 0]);
    assert.equal(await inv.models.Hold.countDocuments({ sku: 'CRASH-C', state: 'expired' }), 60);
    const report = await checkInvariant(inv.models);
    assert.equal(report.ok, true, JSON.stringify(report.violations));
  });
});
