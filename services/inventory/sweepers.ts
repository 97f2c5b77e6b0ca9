import { createSweeper, type Logger, type Metrics, type Sweeper } from '../kit/index.js';
import type { InventoryConfig } from './config.js';
import type { HoldDeps } from './domain/holds.js';
import { reconcile, sweepHolds, type ReconcileResult, type SweepResult } from './domain/sweep.js';

type SweepConfig = Pick<
  InventoryConfig,
  'HOLD_SWEEP_INTERVAL_MS' | 'HOLD_SWEEP_BATCH' | 'HOLD_STUCK_AFTER_MS' | 'HOLD_PENDING_GRACE_MS' | 'STOCK_RECONCILE_INTERVAL_MS' | 'HOLD_RETENTION_S'
>;

export interface InventorySweeps {
  sweepOnce(): Promise<SweepResult>;
  reconcileOnce(): Promise<ReconcileResult>;
  start(): void;
  stop(): Promise<void>;
}

/** The two background jobs of every inventory replica: expiring holds, and reconciling. */
export function createInventorySweeps(deps: HoldDeps & { config: SweepConfig; logger: Logger; metrics?: Metrics }): InventorySweeps {
  const { config } = deps;
  const logger = deps.logger.child({ module: 'sweeper' });
  const sweepOnce = () => sweepHolds(deps, { batch: config.HOLD_SWEEP_BATCH, stuckAfterMs: config.HOLD_STUCK_AFTER_MS, pendingGraceMs: config.HOLD_PENDING_GRACE_MS });
  // Audit entries are settled once their writer has surely timed out.
  const reconcileOnce = () => reconcile(deps, { retentionMs: config.HOLD_RETENTION_S * 1_000, settleAfterMs: config.HOLD_STUCK_AFTER_MS });
  const sweepers: Sweeper[] = [
    createSweeper({ name: 'holds', intervalMs: config.HOLD_SWEEP_INTERVAL_MS, logger, metrics: deps.metrics, run: async () => {
      const result = await sweepOnce();
      return result.expired + result.recovered;
    } }),
    createSweeper({ name: 'reconcile', intervalMs: config.STOCK_RECONCILE_INTERVAL_MS, logger, metrics: deps.metrics, run: async () => {
      const result = await reconcileOnce();
      if (result.orphansReleased > 0 || result.holdsRealigned > 0) logger.warn({ ...result }, 'reconcile repaired stock');
      return result.orphansReleased + result.holdsRealigned + result.adjustmentsSettled + result.holdsDeleted;
    } }),
  ];
  return {
    sweepOnce,
    reconcileOnce,
    start: () => sweepers.forEach((sweeper) => sweeper.start()),
    stop: async () => {
      await Promise.all(sweepers.map((sweeper) => sweeper.stop()));
    },
  };
}
