/**
 * The gameday verdict as a pure function of what was measured: the load
 * generator's view (acknowledged orders, success rate) checked against the
 * databases' (persisted orders, captured charges, stock). Defaults are the
 * issue's; thresholds can be made stricter or looser on the command line, but
 * the report always records which ones were used.
 */

export interface Thresholds {
  maxLost: number;
  maxDuplicateCharges: number;
  maxOversoldUnits: number;
  /** Success rate as the storefront's retry policy sees it, 0..1. */
  minSuccessRate: number;
  /** Every killed replica/pod ready again within this. */
  maxRecoveryS: number;
}

export const DEFAULT_THRESHOLDS: Thresholds = { maxLost: 0, maxDuplicateCharges: 0, maxOversoldUnits: 0, minSuccessRate: 0.999, maxRecoveryS: 30 };

export interface VerdictInput {
  /** Order ids the load generator was answered 2xx for. */
  acknowledged: string[];
  /** Of those, the ids found in the orders collection. */
  persisted: string[];
  /** Orders the payment provider captured more than once (its capture ledger). */
  duplicateCharges: number;
  oversoldUnits: number;
  /** The inventory's own invariant (undefined: could not be checked, which fails the verdict: a run that cannot show it holds does not pass). */
  stockInvariantOk: boolean | undefined;
  successRate: number;
  /** Recovery time of each action, seconds. */
  recoveries: number[];
  /** Actions whose target never came back within the watch timeout. */
  unrecovered: number;
  /** Load requests actually measured (a run with none proves nothing). */
  requests: number;
}

export interface Verdict {
  verdict: 'pass' | 'fail';
  lost: string[];
  reasons: string[];
  recoveryMaxS: number;
}

export function judge(input: VerdictInput, thresholds: Thresholds = DEFAULT_THRESHOLDS): Verdict {
  const persisted = new Set(input.persisted);
  const lost = input.acknowledged.filter((id) => !persisted.has(id));
  const recoveryMaxS = input.recoveries.length === 0 ? 0 : Math.max(...input.recoveries);
  const reasons: string[] = [];
  if (input.requests === 0) reasons.push('no load request was measured');
  if (lost.length > thresholds.maxLost) reasons.push(`${lost.length} acknowledged order(s) not in the database (allowed ${thresholds.maxLost})`);
  if (input.duplicateCharges > thresholds.maxDuplicateCharges) reasons.push(`${input.duplicateCharges} order(s) charged more than once (allowed ${thresholds.maxDuplicateCharges})`);
  if (input.oversoldUnits > thresholds.maxOversoldUnits) reasons.push(`${input.oversoldUnits} unit(s) oversold (allowed ${thresholds.maxOversoldUnits})`);
  if (input.stockInvariantOk === false) reasons.push('the inventory invariant does not hold');
  else if (input.stockInvariantOk !== true) reasons.push('the inventory invariant could not be checked');
  if (input.successRate < thresholds.minSuccessRate) reasons.push(`success rate ${(input.successRate * 100).toFixed(3)} % < ${(thresholds.minSuccessRate * 100).toFixed(3)} %`);
  if (input.unrecovered > 0) reasons.push(`${input.unrecovered} killed replica(s)/pod(s) never ready again`);
  if (recoveryMaxS > thresholds.maxRecoveryS) reasons.push(`slowest recovery ${recoveryMaxS.toFixed(1)} s > ${thresholds.maxRecoveryS} s`);
  return { verdict: reasons.length === 0 ? 'pass' : 'fail', lost, reasons, recoveryMaxS };
}

/** Oversold units of one stock document: units sold or held beyond what there ever was, and any negative availability. */
export function oversoldUnits(stock: { initial: number; adjustments: number; available: number; reserved: number; sold: number }): number {
  const beyond = Math.max(0, stock.sold + stock.reserved - (stock.initial + stock.adjustments));
  return Math.max(beyond, Math.max(0, -stock.available));
}
