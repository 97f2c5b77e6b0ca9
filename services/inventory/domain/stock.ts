/**
 * Stock levels and their audited changes. A change is written to the audit log
 * first (pending), then applied to the stock document by one conditional update
 * that also records the audit id in `appliedAdjustments` (so a replay applies
 * once), then the audit entry is marked applied. A crash in between leaves a
 * pending entry that the reconciler settles by looking at `appliedAdjustments`.
 */
import { randomUUID } from 'node:crypto';
import { conflict, notFound, type Clock, type WithLock } from '../../kit/index.js';
import type { Gate } from './gate.js';
import type { AdjustmentDoc, AdjustmentKind, InventoryModels, StockDoc } from '../models.js';

export interface StockDeps {
  models: InventoryModels;
  clock: Clock;
  /** Per-SKU mutual exclusion for stock writes (see effects.ts). */
  lock: WithLock;
  /** Availability gate in Redis (gate.ts). */
  gate: Gate;
}

export interface StockView {
  sku: string;
  onHand: number;
  available: number;
  reserved: number;
  sold: number;
  initial: number;
  adjustments: number;
  activeHolds: number;
  updatedAt: string;
}

export function toStockView(doc: StockDoc): StockView {
  return {
    sku: doc._id,
    onHand: doc.available + doc.reserved,
    available: doc.available,
    reserved: doc.reserved,
    sold: doc.sold,
    initial: doc.initial,
    adjustments: doc.adjustments,
    activeHolds: Object.keys(doc.holds ?? {}).length,
    updatedAt: doc.updatedAt.toISOString(),
  };
}

export interface AdjustmentView {
  id: string;
  sku: string;
  kind: AdjustmentKind;
  delta: number;
  reason: string;
  actor: string;
  at: string;
  state: AdjustmentDoc['state'];
  onHandAfter: number | null;
}

const toAdjustmentView = (doc: AdjustmentDoc): AdjustmentView => ({
  id: doc._id, sku: doc.sku, kind: doc.kind, delta: doc.delta, reason: doc.reason, actor: doc.actor, at: doc.at.toISOString(), state: doc.state, onHandAfter: doc.onHandAfter,
});

export async function getStock({ models }: StockDeps, sku: string): Promise<StockView> {
  const doc = await models.Stock.findById(sku).lean<StockDoc>();
  if (!doc) throw notFound(`no stock for ${sku}`);
  return toStockView(doc);
}

export interface Who {
  reason: string;
  actor: string;
}

/** Sets on-hand units (available + reserved) to `onHand`. Reserved units are untouched; below them is a 409. */
export async function setStock(deps: StockDeps, sku: string, onHand: number, who: Who): Promise<{ stock: StockView; created: boolean }> {
  const { models } = deps;
  for (let attempt = 0; attempt < 10; attempt++) {
    const current = await models.Stock.findById(sku).lean<StockDoc>();
    if (!current) {
      const audit = await openAudit(deps, randomUUID(), sku, 'initial', onHand, who);
      const now = new Date(deps.clock.now());
      try {
        const doc = await models.Stock.create({
          _id: sku, initial: onHand, adjustments: 0, available: onHand, reserved: 0, sold: 0, holds: {}, appliedAdjustments: [audit._id], createdAt: now, updatedAt: now,
        });
        await closeAudit(deps, audit._id, 'applied', onHand);
        return { stock: toStockView(doc.toObject()), created: true };
      } catch (error) {
        if ((error as { code?: number }).code !== 11000) throw error;
        await closeAudit(deps, audit._id, 'superseded', null);
        continue;
      }
    }
    const delta = onHand - (current.available + current.reserved);
    if (delta === 0) return { stock: toStockView(current), created: false };
    if (onHand < current.reserved) throw conflict('below_reserved', `${current.reserved} units of ${sku} are reserved; on-hand cannot go below that`, { sku, reserved: current.reserved });
    const audit = await openAudit(deps, randomUUID(), sku, 'set', delta, who);
    // sold and adjustments unchanged <=> on-hand unchanged since we read it (the invariant), while holds may come and go.
    const applied = await applyAdjustment(deps, sku, audit._id, delta, { sold: current.sold, adjustments: current.adjustments });
    if (applied) {
      await closeAudit(deps, audit._id, 'applied', applied.available + applied.reserved);
      return { stock: toStockView(applied), created: false };
    }
    await closeAudit(deps, audit._id, 'superseded', null);
  }
  throw conflict('stock_busy', `stock of ${sku} kept changing; try again`, { sku });
}

/**
 * Adds `delta` (negative to remove) to available units. `adjustmentId` makes a
 * retried request apply once. Removing more than is available is a 409.
 */
export async function adjustStock(deps: StockDeps, sku: string, delta: number, who: Who, adjustmentId: string = randomUUID()): Promise<{ adjustment: AdjustmentView; stock: StockView; replayed: boolean }> {
  const { models } = deps;
  let audit: AdjustmentDoc;
  let replayed = false;
  try {
    audit = await openAudit(deps, adjustmentId, sku, 'adjust', delta, who);
  } catch (error) {
    if ((error as { code?: number }).code !== 11000) throw error;
    const existing = await models.Adjustment.findById(adjustmentId).lean<AdjustmentDoc>();
    if (!existing) throw error;
    if (existing.sku !== sku || existing.delta !== delta || existing.kind !== 'adjust') throw conflict('adjustment_id_conflict', `adjustment ${adjustmentId} exists with other values`, { adjustmentId });
    audit = existing;
    replayed = true;
  }
  if (audit.state === 'applied') return { adjustment: toAdjustmentView(audit), stock: await getStock(deps, sku), replayed };
  if (audit.state !== 'pending') throw conflict('adjustment_rejected', `adjustment ${adjustmentId} was ${audit.state}`, { adjustmentId });

  const applied = await applyAdjustment(deps, sku, adjustmentId, delta, {});
  const current = applied ?? (await models.Stock.findById(sku).lean<StockDoc>());
  if (!current) {
    await closeAudit(deps, adjustmentId, 'rejected', null);
    throw notFound(`no stock for ${sku}; set it first`);
  }
  if (applied || current.appliedAdjustments.includes(adjustmentId)) {
    const done = await closeAudit(deps, adjustmentId, 'applied', current.available + current.reserved);
    return { adjustment: toAdjustmentView(done), stock: toStockView(current), replayed };
  }
  await closeAudit(deps, adjustmentId, 'rejected', null);
  throw conflict('insufficient_available', `cannot remove ${-delta} of ${sku}: ${current.available} available`, { sku, available: current.available });
}

export async function listAdjustments({ models }: StockDeps, sku: string, limit: number): Promise<AdjustmentView[]> {
  const docs = await models.Adjustment.find({ sku }).sort({ at: -1 }).limit(limit).lean<AdjustmentDoc[]>();
  return docs.map(toAdjustmentView);
}

function applyAdjustment(deps: StockDeps, sku: string, auditId: string, delta: number, guard: Record<string, number>): Promise<StockDoc | null> {
  return deps.lock(sku, async () => {
    const applied = await adjustLocked(deps, sku, auditId, delta, guard);
    // Available units changed outside any hold: the gate is rebuilt from this document on the next reserve.
    if (applied) await deps.gate.forget(sku);
    return applied;
  });
}

function adjustLocked(deps: StockDeps, sku: string, auditId: string, delta: number, guard: Record<string, number>): Promise<StockDoc | null> {
  const filter: Record<string, unknown> = { _id: sku, appliedAdjustments: { $ne: auditId }, ...guard };
  if (delta < 0) filter.available = { $gte: -delta };
  return deps.models.Stock.findOneAndUpdate(
    filter,
    { $inc: { available: delta, adjustments: delta }, $push: { appliedAdjustments: auditId }, $set: { updatedAt: new Date(deps.clock.now()) } },
    { new: true, lean: true },
  );
}

async function openAudit(deps: StockDeps, id: string, sku: string, kind: AdjustmentKind, delta: number, who: Who): Promise<AdjustmentDoc> {
  const doc = await deps.models.Adjustment.create({ _id: id, sku, kind, delta, reason: who.reason, actor: who.actor, at: new Date(deps.clock.now()), state: 'pending', onHandAfter: null });
  return doc.toObject();
}

async function closeAudit(deps: StockDeps, id: string, state: AdjustmentDoc['state'], onHandAfter: number | null): Promise<AdjustmentDoc> {
  const doc = await deps.models.Adjustment.findOneAndUpdate({ _id: id }, { $set: { state, onHandAfter } }, { new: true, lean: true });
  if (!doc) throw notFound(`no adjustment ${id}`);
  return doc;
}
