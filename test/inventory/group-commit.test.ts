import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { uniqueName } from '../helpers/env.js';
import { inventoryCalls, startInventory, type InventoryUnderTest } from './helpers.js';
import { applyReserve, type EffectDeps } from '../../services/inventory/domain/effects.js';

const dbName = uniqueName(import.meta.url);
let inv: InventoryUnderTest;
const { setStock, stock, check } = inventoryCalls(() => inv);

before(async () => {
  inv = await startInventory({ dbName });
});
after(() => inv.close());

/** The test's domain deps with a lock that counts how often the SKU's lock was taken. */
function countingDeps(): { deps: EffectDeps; locks: () => number } {
  let taken = 0;
  const deps: EffectDeps = {
    ...inv.deps,
    lock: (key, fn) => inv.deps.lock(key, () => {
      taken += 1;
      return fn();
    }),
  };
  return { deps, locks: () => taken };
}

describe('reserves of one SKU applied together (group commit)', () => {
  test('when 40 reserves of one unit arrive at once for 25 units, then the first 25 are applied, 15 are insufficient, in far fewer lock rounds, and the invariant holds', async () => {
    await setStock('GROUP-A', 25);
    const { deps, locks } = countingDeps();
    const outcomes = await Promise.all(Array.from({ length: 40 }, (_, i) => applyReserve(deps, `group-a-${i}`, 'GROUP-A', 1)));
    assert.equal(outcomes.filter((o) => o.kind === 'applied').length, 25);
    assert.deepEqual(outcomes.slice(0, 25).map((o) => o.kind), Array(25).fill('applied'), 'arrival order decides who gets a unit');
    assert.deepEqual(outcomes.slice(25), Array(15).fill({ kind: 'insufficient', available: 0 }));
    assert.ok(locks() <= 4, `40 reserves took the SKU's lock ${locks()} times`);
    const s = await stock('GROUP-A');
    assert.deepEqual([s.available, s.reserved], [0, 25]);
    const entries = (await inv.models.Stock.findById('GROUP-A').lean<{ holds: Record<string, number> }>())?.holds ?? {};
    assert.deepEqual(Object.keys(entries).sort(), Array.from({ length: 25 }, (_, i) => `group-a-${i}`).sort());
  });

  test('when a batch mixes quantities and a replay of an applied hold, then each gets what it would have got alone, in arrival order', async () => {
    await setStock('GROUP-B', 10);
    const { deps } = countingDeps();
    assert.deepEqual(await applyReserve(deps, 'group-b-first', 'GROUP-B', 3), { kind: 'applied' });
    // The first call of a burst runs alone; the four behind it form one batch.
    const outcomes = await Promise.all([
      applyReserve(deps, 'group-b-0', 'GROUP-B', 1),
      applyReserve(deps, 'group-b-1', 'GROUP-B', 4),
      applyReserve(deps, 'group-b-first', 'GROUP-B', 3),
      applyReserve(deps, 'group-b-2', 'GROUP-B', 5),
      applyReserve(deps, 'group-b-3', 'GROUP-B', 2),
    ]);
    // 10 - 3 - 1 = 6 left: 4 fits (2 left), the replay keeps its 3, 5 does not fit, 2 fits (0 left).
    assert.deepEqual(outcomes, [
      { kind: 'applied' },
      { kind: 'applied' },
      { kind: 'already', units: 3 },
      { kind: 'insufficient', available: 2 },
      { kind: 'applied' },
    ]);
    const s = await stock('GROUP-B');
    assert.deepEqual([s.available, s.reserved], [0, 10]);
  });

  test('when one hold id arrives twice in a batch, then it is applied once and both calls see it', async () => {
    await setStock('GROUP-C', 5);
    const { deps } = countingDeps();
    const outcomes = await Promise.all([
      applyReserve(deps, 'group-c-0', 'GROUP-C', 1),
      applyReserve(deps, 'group-c-1', 'GROUP-C', 2),
      applyReserve(deps, 'group-c-1', 'GROUP-C', 2),
    ]);
    assert.deepEqual(outcomes, [{ kind: 'applied' }, { kind: 'applied' }, { kind: 'already', units: 2 }]);
    const s = await stock('GROUP-C');
    assert.deepEqual([s.available, s.reserved], [2, 3]);
  });

  test('when the SKU is unknown, then every reserve of the batch says so and nothing is written', async () => {
    const { deps } = countingDeps();
    const outcomes = await Promise.all(Array.from({ length: 5 }, (_, i) => applyReserve(deps, `group-x-${i}`, 'GROUP-NONE', 1)));
    assert.deepEqual(outcomes, Array(5).fill({ kind: 'unknown_sku' }));
    assert.equal(await inv.models.Stock.countDocuments({ _id: 'GROUP-NONE' }), 0);
    assert.equal((await check()).ok, true);
  });
});
