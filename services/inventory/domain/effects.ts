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

export interface EffectDeps {
  models: InventoryModels;
  clock: Clock;
  /**
   * Serializes writes to one SKU's stock document across replicas. Needed on
   * FerretDB 1.24, whose conditional updates are not atomic under concurrency;
   * on MongoDB each conditional update below is atomic on its own.
   */
  lock: WithLock;
}

const entry = (holdId: string) => `holds.${holdId}`;
/** Guarded by the entry (and `available`); filtered by `_id` alone on FerretDB (see kit/guarded-write.ts). Returns the document as it was. */
const updateStock = (models: InventoryModels, sku: string, guard: Record<string, unknown>, update: Record<string, unknown>) =>
  updateByIdIf({ model: models.Stock, byIdOnly: models.byIdOnly }, sku, guard, update, { returnNew: false });
/** Optimistic loops retry when another writer changed the entry between read and write. */
const MAX_ATTEMPTS = 20;

export type ReserveOutcome = { kind: 'applied' | 'already' } | { kind: 'insufficient'; available: number } | { kind: 'unknown_sku' };

export async function applyReserve(deps: EffectDeps, holdId: string, sku: string, qty: number): Promise<ReserveOutcome> {
  // Sold-out fast path without the lock: in a rush most requests arrive after the last unit went, and
  // they should get their 409 at once instead of queueing. A stale read can only refuse early (a unit
  // released a moment ago), never reserve what is not there.
  const seen = await readEntry(deps.models, sku, holdId);
  if (!seen) return { kind: 'unknown_sku' };
  if (seen.holds?.[holdId] === undefined && seen.available < qty) return { kind: 'insufficient', available: seen.available };
  return deps.lock(sku, () => reserveLocked(deps, holdId, sku, qty));
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
  if (current.holds?.[holdId] !== undefined) return { kind: 'already' };
  return { kind: 'insufficient', available: current.available };
}

export type ResizeOutcome = { kind: 'applied'; from: number } | { kind: 'insufficient'; available: number; from: number } | { kind: 'missing' };

/** Changes the units reserved for a hold to `to`, taking the difference from (or giving it to) `available`. */
export function applyResize(deps: EffectDeps, holdId: string, sku: string, to: number): Promise<ResizeOutcome> {
  return deps.lock(sku, () => resizeLocked(deps, holdId, sku, to));
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
  return deps.lock(sku, () => removeLocked(deps, holdId, sku, to));
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
