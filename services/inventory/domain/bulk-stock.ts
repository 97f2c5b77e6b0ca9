/**
 * Sets stock for many SKUs in a few round trips (seeding, a nightly feed).
 * New SKUs: stock documents, then their "initial" audit entries, each inserted
 * in bulk. SKUs that exist with the same on-hand are left alone; those that
 * differ go through `setStock` (audited, under their lock), one by one.
 */
import { randomUUID } from 'node:crypto';
import { findByIds } from '../../kit/index.js';
import type { StockDoc } from '../models.js';
import { setStock, type StockDeps, type Who } from './stock.js';

export interface BulkStockItem {
  sku: string;
  onHand: number;
}

export interface BulkStockResult {
  created: number;
  updated: number;
  unchanged: number;
}

export async function setStockBulk(deps: StockDeps, items: BulkStockItem[], who: Who): Promise<BulkStockResult> {
  const { models, clock } = deps;
  const existing = new Map(
    // By `_id`, not `$in` (a scan of the stock collection on FerretDB, kit/guarded-write.ts).
    (await findByIds<StockDoc, Pick<StockDoc, '_id' | 'available' | 'reserved'>>(models.Stock, items.map((i) => i.sku), { available: 1, reserved: 1 })).map((doc) => [
      doc._id,
      doc.available + doc.reserved,
    ]),
  );
  const fresh = items.filter((i) => !existing.has(i.sku));
  const changed = items.filter((i) => existing.has(i.sku) && existing.get(i.sku) !== i.onHand);
  let created = 0;
  if (fresh.length > 0) {
    const now = new Date(clock.now());
    const audits = fresh.map((i) => ({ _id: randomUUID(), sku: i.sku, kind: 'initial', delta: i.onHand, reason: who.reason, actor: who.actor, at: now, state: 'applied', onHandAfter: i.onHand }));
    const stocks = fresh.map((i, n) => ({
      _id: i.sku, initial: i.onHand, adjustments: 0, available: i.onHand, reserved: 0, sold: 0, holds: {}, appliedAdjustments: [audits[n]!._id], createdAt: now, updatedAt: now,
    }));
    const inserted = new Set<string>();
    try {
      (await models.Stock.insertMany(stocks, { ordered: false })).forEach((doc) => inserted.add(String(doc._id)));
    } catch (error) {
      // Someone created some of these SKUs meanwhile: theirs win and ours get no audit entry.
      const result = error as { code?: number; insertedDocs?: Array<{ _id: unknown }> };
      if (result.code !== 11000) throw error;
      (result.insertedDocs ?? []).forEach((doc) => inserted.add(String(doc._id)));
    }
    created = inserted.size;
    // Stock first, then its audit entries, already applied: updating entries one by one afterwards
    // costs a collection scan each on FerretDB (quadratic over a 10,000-SKU seed). A crash in between
    // leaves stock without its "initial" entry; the stock document's `initial` and `createdAt` say the same.
    const entries = audits.filter((a) => inserted.has(a.sku));
    if (entries.length > 0) await models.Adjustment.insertMany(entries, { ordered: false });
  }
  for (const item of changed) await setStock(deps, item.sku, item.onHand, who);
  return { created, updated: changed.length, unchanged: items.length - fresh.length - changed.length };
}
