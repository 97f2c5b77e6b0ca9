import { withTimeout } from './timeout.js';

export type Check = () => Promise<unknown>;

export interface HealthOptions {
  /** Per-check deadline for /readyz. */
  checkTimeoutMs?: number;
  /** Liveness fails when the event loop has not ticked for this long. */
  stallMs?: number;
}

export interface ReadinessReport {
  ready: boolean;
  draining: boolean;
  checks: Record<string, 'ok' | string>;
}

/**
 * Liveness and readiness, different on purpose: liveness only asks whether this
 * process still makes progress (a dependency outage must not restart every pod),
 * readiness asks whether it should get traffic (dependencies reachable, not draining).
 */
export class Health {
  private readonly checks = new Map<string, { check: Check; critical: boolean; cacheMs: number; last?: { at: number; result: Promise<string> } }>();
  private draining = false;
  private lastTick = Date.now();
  private readonly ticker: NodeJS.Timeout;
  private readonly checkTimeoutMs: number;
  private readonly stallMs: number;

  constructor(options: HealthOptions = {}) {
    this.checkTimeoutMs = options.checkTimeoutMs ?? 1_000;
    this.stallMs = options.stallMs ?? 10_000;
    this.ticker = setInterval(() => {
      this.lastTick = Date.now();
    }, 500);
    this.ticker.unref();
  }

  /**
   * Registers a readiness check (e.g. Mongo ping); it passes unless it throws or
   * times out. A non-critical check is reported in /readyz but does not turn it
   * red: for a dependency the service can do without (catalog serves stale).
   */
  addCheck(name: string, check: Check, options: { critical?: boolean; cacheMs?: number } = {}): this {
    this.checks.set(name, { check, critical: options.critical ?? true, cacheMs: options.cacheMs ?? 0 });
    return this;
  }

  /** Readiness goes red for good: the process is shutting down. */
  startDraining(): void {
    this.draining = true;
  }

  get isDraining(): boolean {
    return this.draining;
  }

  live(): boolean {
    return Date.now() - this.lastTick < this.stallMs;
  }

  async ready(): Promise<ReadinessReport> {
    const now = Date.now();
    const entries = await Promise.all(
      [...this.checks].map(async ([name, entry]) => {
        // With cacheMs, probes at any rate cost one check per period (shared while in flight), still time-bounded.
        if (!entry.last || now - entry.last.at >= entry.cacheMs) entry.last = { at: now, result: this.run(name, entry.check) };
        const result = await entry.last.result;
        return [name, result === 'ok' || entry.critical ? result : `degraded: ${result}`, entry.critical] as const;
      }),
    );
    const checks = Object.fromEntries(entries.map(([name, result]) => [name, result]));
    const ready = !this.draining && entries.every(([, result, critical]) => result === 'ok' || !critical);
    return { ready, draining: this.draining, checks };
  }

  private async run(name: string, check: Check): Promise<string> {
    try {
      await withTimeout(check(), this.checkTimeoutMs, `${name} check`);
      return 'ok';
    } catch (error) {
      return error instanceof Error ? error.message : String(error);
    }
  }

  close(): void {
    clearInterval(this.ticker);
  }
}
