/**
 * Background passes every replica runs (see docs/carts.md for the argument):
 *
 * - sweepHolds: finishes holds stuck in a transitional state (their worker died
 *   between claim and effect), then claims expired holds one at a time with an
 *   atomic conditional update and returns their units.
 * - reconcile: releases stock entries whose hold can no longer use them (a
 *   reserve that landed after its hold ended), aligns a live hold's qty with its
 *   entry after a half-done resize, settles audit entries left pending by a
 *   crash, and deletes long-ended holds.
 *
 * FerretDB 1.24 pushes only equality filters down, so the hold sweep asks only
 * equality questions: due holds by expiry bucket (kit/time-buckets.ts), stuck
 * ones by state. A range query over live holds fetched every one of them each
 * pass (over a minute of FerretDB's CPU with 100,000 live holds, every 5 s).
 * The reconcile pass (STOCK_RECONCILE_INTERVAL_MS, 60 s) reads stock with
 * `reserved > 0` (one scan of the stock collection) and checks at most 2,000 stock
 * entries per pass against their holds by `_id`, going on where the last pass
 * stopped; it finds long-ended holds by state and end time. Every write either
 * makes is by `_id`.
 */
import { deleteByIds, findByIds, updateOneByIdIf } from '../../kit/index.js';
import type { HoldDoc, StockDoc } from '../models.js';
import { applyRemove, reservedFor } from './effects.js';
import { claimDue, finish, type HoldDeps } from './holds.js';

export interface SweepOptions {
  batch: number;
  stuckAfterMs: number;
  pendingGraceMs: number;
}

export interface SweepResult {
  expired: number;
  recovered: number;
}

export async function sweepHolds(deps: HoldDeps, options: SweepOptions): Promise<SweepResult> {
  const now = deps.clock.now();
  // One equality query per transitional state (few holds each; FerretDB pushes no `$in` down), age checked here.
  const stuck: HoldDoc[] = [];
  for (const state of ['releasing', 'committing', 'expiring'] as const) {
    const inState = await deps.models.Hold.find({ state }).lean<HoldDoc[]>();
    stuck.push(...inState.filter((hold) => hold.updatedAt.getTime() <= now - options.stuckAfterMs));
  }
  for (const hold of stuck.slice(0, options.batch)) await finish(deps, hold);
  const expired = await claimDue(deps, { pendingGraceMs: options.pendingGraceMs, batch: options.batch }, (hold) => finish(deps, hold));
  return { expired, recovered: Math.min(stuck.length, options.batch) };
}

export interface ReconcileResult {
  orphansReleased: number;
  unitsReturned: number;
  holdsRealigned: number;
  adjustmentsSettled: number;
  holdsDeleted: number;
}

/** Old holds deleted per pass; the next pass takes the rest. */
const RETENTION_BATCH = 5_000;
const DEAD: HoldDoc['state'][] = ['released', 'expired', 'rejected', 'committed'];

/** Where each database's reconcile pass left off (the last SKU it checked); the next pass goes on after it. */
const resumeAfter = new WeakMap<object, string>();
/**
 * The SKUs with reserved units, as each database's last read found them. Reading them takes a scan
 * of the stock collection (FerretDB does not push `$gt` down, and reads each document whole with its
 * holds map): 2.0-2.5 s of FerretDB's time per pass with 1,000 SKUs and 100,000 holds. The list is
 * read again once a pass has walked to its end, or when it is older than `SKU_LIST_MAX_AGE_MS`, so a
 * SKU that newly has reserved units is checked within a cycle or those minutes, whichever comes later.
 */
const skuLists = new WeakMap<object, { skus: string[]; readAt: number }>();
const SKU_LIST_MAX_AGE_MS = 600_000;

export async function reconcile(deps: HoldDeps, options: { retentionMs: number; settleAfterMs: number; maxHoldChecks?: number }): Promise<ReconcileResult> {
  const { models, clock } = deps;
  const result: ReconcileResult = { orphansReleased: 0, unitsReturned: 0, holdsRealigned: 0, adjustmentsSettled: 0, holdsDeleted: 0 };
  // Bounded per pass: every entry costs a hold lookup, and with 100,000 live holds checking them all
  // each minute kept FerretDB saturated (npm run bench). The pass checks up to `maxHoldChecks`
  // entries, SKU by SKU from where the last pass stopped, and wraps around.
  const budget = options.maxHoldChecks ?? 2_000;
  // Ids only here; a SKU's holds map is read when the pass gets to it. FerretDB still reads each stock
  // document whole for this query, hence the kept list (`skuLists`).
  const db = models.Stock.db;
  const listed = skuLists.get(db);
  const all = listed && Math.abs(clock.now() - listed.readAt) < SKU_LIST_MAX_AGE_MS
    ? listed.skus
    : (await models.Stock.find({ reserved: { $gt: 0 } }, { _id: 1 }).sort({ _id: 1 }).lean<Pick<StockDoc, '_id'>[]>()).map((stock) => stock._id);
  if (all !== listed?.skus) skuLists.set(db, { skus: all, readAt: clock.now() });
  const after = resumeAfter.get(db);
  const next = after === undefined ? 0 : all.findIndex((sku) => sku > after);
  const start = Math.max(0, next);
  const ordered = [...all.slice(start), ...all.slice(0, start)];
  let checked = 0;
  let walked = 0;
  resumeAfter.delete(db);
  for (const sku of ordered) {
    if (checked >= budget) break;
    walked += 1;
    const stock = await models.Stock.findById(sku, { holds: 1 }).lean<Pick<StockDoc, '_id' | 'holds'>>();
    if (!stock) continue;
    const entries = Object.entries(stock.holds ?? {});
    checked += entries.length;
    resumeAfter.set(db, stock._id);
    // By `_id` (FerretDB pushes `_id` equality down, not `$in`).
    const read = await findByIds<HoldDoc, Pick<HoldDoc, '_id' | 'state' | 'qty'>>(models.Hold, entries.map(([id]) => id), { state: 1, qty: 1 });
    const holds = new Map(read.map((h) => [h._id, h]));
    for (const [id, units] of entries) {
      const hold = holds.get(id);
      // The hold document is written before its effect, so a missing one was deleted after it ended.
      if (!hold || DEAD.includes(hold.state)) {
        const moved = await applyRemove(deps, id, stock._id, 'available');
        if (moved > 0) {
          result.orphansReleased++;
          result.unitsReturned += moved;
        }
      } else if (hold.state === 'active' && hold.qty !== units && (await realign(deps, stock._id, id))) {
        result.holdsRealigned++;
      }
    }
  }
  // Walked to the end of the list (or past it): the next pass reads it again.
  if (next === -1 || start + walked >= all.length) skuLists.delete(db);
  result.adjustmentsSettled = await settleAdjustments(deps, options.settleAfterMs);
  // One query per ended state (FerretDB pushes the state equality down, not `$in`).
  const old: Array<Pick<HoldDoc, '_id'>> = [];
  for (const state of ['released', 'expired', 'rejected'] as const) {
    if (old.length >= RETENTION_BATCH) break;
    const ended = await models.Hold.find({ state, endedAt: { $lte: new Date(clock.now() - options.retentionMs) } }, { _id: 1 })
      .limit(RETENTION_BATCH - old.length)
      .lean<Pick<HoldDoc, '_id'>[]>();
    old.push(...ended);
  }
  result.holdsDeleted = await deleteByIds(models.Hold, old.map((hold) => hold._id));
  return result;
}

/**
 * Sets a live hold's qty to the units its stock entry holds (a resize that died
 * between the stock write and the hold write). Entry and hold are read again
 * under the SKU's lock, the one every resize takes: the snapshot the pass began
 * with may predate a resize that finished since, and writing it back would make
 * the hold claim fewer units than it has (so per-customer usage under-counts).
 */
async function realign(deps: HoldDeps, sku: string, holdId: string): Promise<boolean> {
  const { models, clock } = deps;
  return deps.lock(sku, async () => {
    const units = await reservedFor(models, sku, holdId);
    const hold = await models.Hold.findById(holdId, { state: 1, qty: 1 }).lean<Pick<HoldDoc, 'state' | 'qty'>>();
    if (units === undefined || !hold || hold.state !== 'active' || hold.qty === units) return false;
    return updateOneByIdIf(models.Hold, holdId, { state: 'active', qty: hold.qty }, { $set: { qty: units, updatedAt: new Date(clock.now()) } });
  });
}

/** Audit entries still pending after `settleAfterMs`: their writer died; record whether the change landed. */
async function settleAdjustments({ models, clock }: HoldDeps, settleAfterMs: number): Promise<number> {
  const stale = await models.Adjustment.find({ state: 'pending', at: { $lte: new Date(clock.now() - settleAfterMs) } }).limit(500).lean();
  for (const adjustment of stale) {
    const landed = await models.Stock.exists({ _id: adjustment.sku, appliedAdjustments: adjustment._id });
    await models.Adjustment.updateOne({ _id: adjustment._id, state: 'pending' }, { $set: { state: landed ? 'applied' : 'abandoned' } });
  }
  return stale.length;
}
