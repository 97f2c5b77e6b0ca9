import type { InventoryModels, StockDoc } from '../models.js';

export interface Violation {
  sku: string;
  problem: 'balance' | 'negative' | 'reserved_mismatch';
  detail: string;
}

export interface InvariantReport {
  ok: boolean;
  skus: number;
  totals: { initial: number; adjustments: number; available: number; reserved: number; sold: number };
  violations: Violation[];
}

/**
 * The inventory invariant, for every SKU: available + reserved + sold ==
 * initial + adjustments, no counter negative, and reserved equal to the sum of
 * the per-hold entries (so every reserved unit belongs to a known hold).
 */
export async function checkInvariant(models: InventoryModels): Promise<InvariantReport> {
  const report: InvariantReport = { ok: true, skus: 0, totals: { initial: 0, adjustments: 0, available: 0, reserved: 0, sold: 0 }, violations: [] };
  const cursor = models.Stock.find({}, { appliedAdjustments: 0 }).lean<StockDoc[]>().cursor();
  for await (const stock of cursor) {
    report.skus++;
    for (const key of Object.keys(report.totals) as (keyof InvariantReport['totals'])[]) report.totals[key] += stock[key];
    const { _id: sku, available, reserved, sold, initial, adjustments } = stock;
    if (available + reserved + sold !== initial + adjustments) {
      report.violations.push({ sku, problem: 'balance', detail: `available ${available} + reserved ${reserved} + sold ${sold} != initial ${initial} + adjustments ${adjustments}` });
    }
    if (available < 0 || reserved < 0 || sold < 0) report.violations.push({ sku, problem: 'negative', detail: `available ${available}, reserved ${reserved}, sold ${sold}` });
    const held = Object.values(stock.holds ?? {}).reduce((sum, units) => sum + units, 0);
    if (held !== reserved) report.violations.push({ sku, problem: 'reserved_mismatch', detail: `reserved ${reserved} but holds sum to ${held}` });
  }
  report.ok = report.violations.length === 0;
  return report;
}
