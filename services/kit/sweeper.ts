import type { Logger } from './log.js';
import type { Metrics } from './metrics.js';

export interface SweeperOptions {
  /** Label in logs and metrics, e.g. 'holds'. */
  name: string;
  /** Pause between passes; each pause is jittered by ±20% so replicas drift apart. */
  intervalMs: number;
  logger: Logger;
  metrics?: Metrics;
  /** One pass. Returns how many items it handled (for logs and metrics). */
  run: () => Promise<number>;
}

export interface Sweeper {
  /** Schedules passes until stop(); the first one runs after one interval. */
  start(): void;
  /** Cancels the schedule and waits for a pass in progress to end. */
  stop(): Promise<void>;
  /** Runs one pass now (tests, admin endpoints); never overlaps a scheduled pass. */
  runOnce(): Promise<number>;
}

/**
 * A periodic background job for every replica. Passes never overlap within a
 * process; correctness across replicas is the job's own business (each item must
 * be claimed with one atomic conditional update). A failing pass is logged and
 * counted, and the next one runs as scheduled.
 */
export function createSweeper(options: SweeperOptions): Sweeper {
  const { name, logger, metrics } = options;
  const passes = metrics?.counter('sweeper_passes_total', 'Sweeper passes by sweeper and outcome', ['sweeper', 'outcome']);
  const items = metrics?.counter('sweeper_items_total', 'Items handled by sweepers', ['sweeper']);
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<number> | undefined;
  let stopped = true;

  async function pass(): Promise<number> {
    try {
      const handled = await options.run();
      passes?.inc({ sweeper: name, outcome: 'ok' });
      if (handled > 0) {
        items?.inc({ sweeper: name }, handled);
        logger.info({ sweeper: name, handled }, 'sweep pass handled items');
      }
      return handled;
    } catch (error) {
      passes?.inc({ sweeper: name, outcome: 'error' });
      logger.warn({ err: error, sweeper: name }, 'sweep pass failed; will retry next interval');
      return 0;
    }
  }

  function runOnce(): Promise<number> {
    running ??= pass().finally(() => {
      running = undefined;
    });
    return running;
  }

  function schedule(): void {
    if (stopped) return;
    const delay = Math.round(options.intervalMs * (0.8 + Math.random() * 0.4));
    timer = setTimeout(() => void runOnce().finally(schedule), delay);
    timer.unref();
  }

  return {
    start() {
      if (!stopped) return;
      stopped = false;
      schedule();
    },
    async stop() {
      stopped = true;
      clearTimeout(timer);
      await running;
    },
    runOnce,
  };
}
