/**
 * Stock-side effects of holds. Each one is a single atomic conditional update of
 * the SKU's stock document that tests and flips `holds.<holdId>` in the same
 * write as it moves units, so applying an effect twice is impossible:
 *
 * - reserve requires the entry to be absent (and `available >= qty`) and creates it;
 * - resize requires the entry to hold the value it read and changes it;
 * - release/commit require the entry with the value they read and remove it.
 *
 * Whoever runs an effect (request handler, sweeper on any replica, reconciler)
 * and however often, units for one hold move at most once per direction.
 * See docs/carts.md, "Why expiry happens exactly once". (FerretDB 1.24 rejects a
 * projection on findAndModify, so these return the whole, small, document.)
 */
import { updateByIdIf, type Clock, type WithLock } from '../../kit/index.js';
import type { InventoryModels, StockDoc } from '../models.js';
import type { Gate } from './gate.js';

export interface EffectDeps {
  models: InventoryModels;
  clock: Clock;
  /**
   * Serializes writes to one SKU's stock document across replicas. Needed on
   * FerretDB 1.24, whose conditional updates are not atomic under concurrency;
   * on MongoDB each conditional update below is atomic on its own.
   */
  lock: WithLock;
  /** Availability in Redis, kept in step with every effect below (gate.ts). */
  gate: Gate;
}

const entry = (holdId: string) => `holds.${holdId}`;
/** Guarded by the entry (and `available`), see kit/guarded-write.ts. Returns the document as it was. */
const updateStock = (models: InventoryModels, sku: string, guard: Record<string, unknown>, update: Record<string, unknown>) =>
  updateByIdIf(models.Stock, sku, guard, update, { returnNew: false });
/** Optimistic loops retry when another writer changed the entry between read and write. */
const MAX_ATTEMPTS = 20;

export type ReserveOutcome = { kind: 'applied' } | { kind: 'already'; units: number } | { kind: 'insufficient'; available: number } | { kind: 'unknown_sku' };

/**
 * Admission before a reserve touches the database: a ticket from the gate, or
 * sold out. Sold out never waits on the database or the SKU's lock, so in a rush
 * the requests after the last unit get their 409 at once. Without a gate (first
 * use, expired, Redis lost it) it is rebuilt from the stock document under the
 * lock. `unknown` (no stock document) lets the reserve find that out itself.
 */
export async function admit(deps: EffectDeps, holdId: string, sku: string, qty: number): Promise<{ kind: 'ticket' | 'unknown' } | { kind: 'sold_out'; available: number }> {
  const first = await deps.gate.take(sku, holdId, qty);
  if (first.kind !== 'no_gate') return first;
  const rebuilt = await deps.gate.rebuild(deps.models, sku, deps.lock);
  if (!rebuilt) return { kind: 'unknown' };
  const again = await deps.gate.take(sku, holdId, qty);
  return again.kind === 'no_gate' ? { kind: 'ticket' } : again;
}

/**
 * Reserves `qty` units for `holdId` on the SKU's stock document. Concurrent reserves of one SKU
 * in this process are applied together (group commit): while one batch holds the SKU's lock, the
 * ones arriving queue, and the next batch applies all of them with one conditional update. In a
 * doorbuster rush the winners then cost one database write per batch instead of one lock round
 * and write each, so they no longer queue past their callers' deadlines. Each outcome is the
 * one a reserve made alone, in arrival order, would have had.
 */
export function applyReserve(deps: EffectDeps, holdId: string, sku: string, qty: number): Promise<ReserveOutcome> {
  let perSku = reserveQueues.get(deps.gate);
  if (!perSku) reserveQueues.set(deps.gate, (perSku = new Map()));
  const queues = perSku;
  return new Promise<ReserveOutcome>((resolve, reject) => {
    const waiting = queues.get(sku);
    if (waiting) {
      waiting.push({ holdId, qty, resolve, reject });
      return;
    }
    queues.set(sku, [{ holdId, qty, resolve, reject }]);
    void drainReserves(deps, queues, sku);
  });
}

interface WaitingReserve {
  holdId: string;
  qty: number;
  resolve: (outcome: ReserveOutcome) => void;
  reject: (error: unknown) => void;
}

/** Reserves waiting per SKU, per inventory instance (keyed by its gate). */
const reserveQueues = new WeakMap<Gate, Map<string, WaitingReserve[]>>();
/** Most reserves applied by one update (keeps the guard and the update small). */
const MAX_RESERVE_BATCH = 64;

async function drainReserves(deps: EffectDeps, queues: Map<string, WaitingReserve[]>, sku: string): Promise<void> {
  for (;;) {
    const waiting = queues.get(sku);
    if (!waiting || waiting.length === 0) {
      queues.delete(sku);
      return;
    }
    const batch = waiting.splice(0, MAX_RESERVE_BATCH);
    try {
      const outcomes = await deps.lock(sku, async () => {
        const results = await reserveBatchLocked(deps, sku, batch);
        await Promise.all(batch.map(({ holdId, qty }, i) => {
          const outcome = results[i] as ReserveOutcome;
          const units = outcome.kind === 'applied' ? qty : outcome.kind === 'already' ? outcome.units : 0;
          return syncGate(deps, sku, () => deps.gate.set(sku, holdId, units));
        }));
        return results;
      });
      batch.forEach((waiter, i) => waiter.resolve(outcomes[i] as ReserveOutcome));
    } catch (error) {
      for (const waiter of batch) waiter.reject(error);
    }
  }
}

/**
 * Under the SKU's lock: one read, then one conditional update for every reserve of the batch
 * that fits (guarded, as alone, by `available` and by each entry's absence). A hold id seen
 * twice, or a guard that fails (another writer on MongoDB without the lock), falls back to one
 * update per reserve.
 */
async function reserveBatchLocked(deps: EffectDeps, sku: string, batch: WaitingReserve[]): Promise<ReserveOutcome[]> {
  const sequential = async () => {
    const outcomes: ReserveOutcome[] = [];
    for (const { holdId, qty } of batch) outcomes.push(await reserveLocked(deps, holdId, sku, qty));
    return outcomes;
  };
  if (batch.length === 1 || new Set(batch.map((w) => w.holdId)).size !== batch.length) return sequential();
  const projection: Record<string, 1> = { available: 1 };
  for (const { holdId } of batch) projection[entry(holdId)] = 1;
  const current = await deps.models.Stock.findById(sku, projection).lean<Pick<StockDoc, 'available' | 'holds'>>();
  if (!current) return batch.map(() => ({ kind: 'unknown_sku' }));
  let left = current.available;
  const guard: Record<string, unknown> = {};
  const entries: Record<string, number> = {};
  const outcomes: ReserveOutcome[] = batch.map(({ holdId, qty }) => {
    const units = current.holds?.[holdId];
    if (units !== undefined) return { kind: 'already', units };
    if (qty > left) return { kind: 'insufficient', available: left };
    left -= qty;
    guard[entry(holdId)] = { $exists: false };
    entries[entry(holdId)] = qty;
    return { kind: 'applied' };
  });
  const taken = current.available - left;
  if (taken === 0) return outcomes;
  const applied = await updateStock(deps.models, sku, { available: { $gte: taken }, ...guard }, { $inc: { available: -taken, reserved: taken }, $set: { ...entries, updatedAt: new Date(deps.clock.now()) } });
  return applied ? outcomes : sequential();
}

/** Sets a hold's ticket to the units the database holds for it (a replayed reserve that took a ticket it may not need). */
export function settleTicket(deps: EffectDeps, holdId: string, sku: string): Promise<void> {
  return deps.lock(sku, async () => {
    const units = (await readEntry(deps.models, sku, holdId))?.holds?.[holdId] ?? 0;
    await syncGate(deps, sku, () => deps.gate.set(sku, holdId, units));
  });
}

/**
 * A gate write after its database effect, under the same lock. If Redis fails
 * here the gate may be off, so it is dropped and rebuilt on the next reserve;
 * the database effect stands either way.
 */
async function syncGate(deps: EffectDeps, sku: string, write: () => Promise<void>): Promise<void> {
  await write().catch(() => deps.gate.forget(sku).catch(() => undefined));
}

async function reserveLocked({ models, clock }: EffectDeps, holdId: string, sku: string, qty: number): Promise<ReserveOutcome> {
  const applied = await updateStock(
    models,
    sku,
    { available: { $gte: qty }, [entry(holdId)]: { $exists: false } },
    { $inc: { available: -qty, reserved: qty }, $set: { [entry(holdId)]: qty, updatedAt: new Date(clock.now()) } },
  );
  if (applied) return { kind: 'applied' };
  const current = await readEntry(models, sku, holdId);
  if (!current) return { kind: 'unknown_sku' };
  const units = current.holds?.[holdId];
  if (units !== undefined) return { kind: 'already', units };
  return { kind: 'insufficient', available: current.available };
}

export type ResizeOutcome = { kind: 'applied'; from: number } | { kind: 'insufficient'; available: number; from: number } | { kind: 'missing' };

/** Changes the units reserved for a hold to `to`, taking the difference from (or giving it to) `available`. */
export function applyResize(deps: EffectDeps, holdId: string, sku: string, to: number): Promise<ResizeOutcome> {
  return deps.lock(sku, async () => {
    const outcome = await resizeLocked(deps, holdId, sku, to);
    if (outcome.kind === 'applied') await syncGate(deps, sku, () => deps.gate.set(sku, holdId, to));
    return outcome;
  });
}

async function resizeLocked({ models, clock }: EffectDeps, holdId: string, sku: string, to: number): Promise<ResizeOutcome> {
  for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
    const current = await readEntry(models, sku, holdId);
    const from = current?.holds?.[holdId];
    if (!current || from === undefined) return { kind: 'missing' };
    if (from === to) return { kind: 'applied', from };
    const delta = to - from;
    const guard: Record<string, unknown> = { [entry(holdId)]: from };
    if (delta > 0) guard.available = { $gte: delta };
    const applied = await updateStock(models, sku, guard, { $inc: { available: -delta, reserved: delta }, $set: { [entry(holdId)]: to, updatedAt: new Date(clock.now()) } });
    if (applied) return { kind: 'applied', from };
    if (delta > 0 && current.available < delta) {
      const again = await readEntry(models, sku, holdId);
      if (again?.holds?.[holdId] === from && again.available < delta) return { kind: 'insufficient', available: again.available, from };
    }
  }
  throw new Error(`resize of hold ${holdId} kept racing`);
}

/**
 * Removes a hold's entry and moves its units to `available` (release, expiry) or
 * to `sold` (commit). Returns the units moved: 0 when the entry was already gone,
 * which is how a replayed or concurrent second run becomes a no-op.
 */
export function applyRemove(deps: EffectDeps, holdId: string, sku: string, to: 'available' | 'sold'): Promise<number> {
  return deps.lock(sku, async () => {
    const moved = await removeLocked(deps, holdId, sku, to);
    // Also when nothing moved: a ticket whose reserve never reached the database gives its units back here.
    await syncGate(deps, sku, () => (to === 'sold' ? deps.gate.sell(sku, holdId) : deps.gate.set(sku, holdId, 0)));
    return moved;
  });
}

async function removeLocked({ models, clock }: EffectDeps, holdId: string, sku: string, to: 'available' | 'sold'): Promise<number> {
  for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
    const current = await readEntry(models, sku, holdId);
    const units = current?.holds?.[holdId];
    if (units === undefined) return 0;
    const applied = await updateStock(
      models,
      sku,
      { [entry(holdId)]: units },
      { $inc: { [to]: units, reserved: -units }, $unset: { [entry(holdId)]: '' }, $set: { updatedAt: new Date(clock.now()) } },
    );
    if (applied) return units;
  }
  throw new Error(`removal of hold ${holdId} kept racing`);
}

/** The units reserved for a hold on its stock document, if any. */
export async function reservedFor(models: InventoryModels, sku: string, holdId: string): Promise<number | undefined> {
  return (await readEntry(models, sku, holdId))?.holds?.[holdId];
}

function readEntry(models: InventoryModels, sku: string, holdId: string): Promise<Pick<StockDoc, 'available' | 'holds'> | null> {
  return models.Stock.findById(sku, { available: 1, [entry(holdId)]: 1 }).lean<Pick<StockDoc, 'available' | 'holds'>>();
}
