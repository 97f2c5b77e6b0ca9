/**
 * Open-model load: sessions arrive as a Poisson process at a fixed rate, so the
 * offered load does not drop when the server slows (closed-loop generators hide
 * overload). Bounded by duration, a request budget and a cap on live sessions.
 */
import { Recorder, type LoadSummary } from './stats.js';
import { Storefront, STOREFRONT_RETRY } from './client.js';
import { pickKind, requestsPerSession, runSession, type Acknowledged, type Mix, type ProductRef, type ShopContext } from './shopper.js';

export interface LoadOptions {
  baseUrl: string;
  /** Target operations per second. */
  rps: number;
  durationMs: number;
  maxRequests: number;
  maxSessions: number;
  thinkMs: number;
  mix: Mix;
  products: ProductRef[];
  categories: string[];
  /** Live progress (one line a second); none when undefined. */
  progress?: (line: string) => void;
  log: (line: string) => void;
  random?: () => number;
  signal?: AbortSignal;
}

export interface LoadResult extends LoadSummary {
  mix: Mix;
  checkout: { available: boolean; acknowledged: Acknowledged[]; failures: ShopContext['checkoutFailures']; declined: number };
  supportAvailable: boolean;
  notices: string[];
}

export async function runLoad(options: LoadOptions): Promise<LoadResult> {
  const random = options.random ?? Math.random;
  const recorder = new Recorder();
  const budget = { left: options.maxRequests };
  const notices: string[] = [];
  const ctx: ShopContext = {
    storefront: new Storefront(options.baseUrl, recorder, STOREFRONT_RETRY, budget),
    products: options.products,
    limited: options.products.filter((p) => p.limited),
    categories: options.categories,
    thinkMs: options.thinkMs,
    acknowledged: [],
    checkoutFailures: [],
    declined: 0,
    checkoutAvailable: true,
    supportAvailable: true,
    notice: (line) => {
      notices.push(line);
      options.log(`NOTICE: ${line}`);
    },
    random,
  };
  const sessionRate = options.rps / requestsPerSession(options.mix);
  const live = new Set<Promise<void>>();
  const started = Date.now();
  const deadline = started + options.durationMs;
  let nextArrival = started;
  let lastProgress = started;
  while (Date.now() < deadline && budget.left > 0 && !options.signal?.aborted) {
    const now = Date.now();
    // Start every session whose arrival time has passed, even when behind: that is the open model.
    while (nextArrival <= now) {
      nextArrival += (-Math.log(1 - random()) / sessionRate) * 1000;
      if (live.size >= options.maxSessions) {
        recorder.sessions.dropped += 1;
        continue;
      }
      recorder.sessions.started += 1;
      const session: Promise<void> = runSession(pickKind(options.mix, random), ctx)
        .catch((error: Error) => options.log(`session error: ${error.message}`))
        .finally(() => {
          recorder.sessions.completed += 1;
          live.delete(session);
        });
      live.add(session);
    }
    if (options.progress && now - lastProgress >= 1000) {
      lastProgress = now;
      const last = recorder.lastSecond();
      options.progress(`${Math.round((now - started) / 1000)}/${Math.round(options.durationMs / 1000)} s  ${last.requests} req/s (target ${options.rps})  total ${recorder.total}  failed ${recorder.failed}  live sessions ${live.size}  acked orders ${ctx.acknowledged.length}`);
    }
    await new Promise((r) => setTimeout(r, Math.max(1, Math.min(50, nextArrival - Date.now()))));
  }
  // Sessions in flight finish (bounded by the per-attempt timeouts and retry caps).
  await Promise.all(live);
  return {
    ...recorder.summary(options.rps),
    mix: options.mix,
    checkout: { available: ctx.checkoutAvailable, acknowledged: ctx.acknowledged, failures: ctx.checkoutFailures, declined: ctx.declined },
    supportAvailable: ctx.supportAvailable,
    notices,
  };
}

/** A human summary of a load result. */
export function formatLoad(result: LoadSummary): string {
  const rows = Object.entries(result.endpoints).map(([name, e]) => `  ${name.padEnd(24)} ${String(e.total).padStart(7)} ${String(e.failed).padStart(6)} ${String(e.retries).padStart(7)} ${String(e.latencyMs.p50).padStart(6)} ${String(e.latencyMs.p95).padStart(6)} ${String(e.latencyMs.p99).padStart(6)} ${String(e.latencyMs.max).padStart(7)}  ${Object.entries(e.byStatus).map(([s, n]) => `${s}:${n}`).join(' ')}`);
  const l = result.latencyMs;
  return [
    `  ${'endpoint'.padEnd(24)} ${'ops'.padStart(7)} ${'failed'.padStart(6)} ${'retries'.padStart(7)} ${'p50'.padStart(6)} ${'p95'.padStart(6)} ${'p99'.padStart(6)} ${'max ms'.padStart(7)}  statuses`,
    ...rows,
    `  ${'overall'.padEnd(24)} ${String(result.requests.total).padStart(7)} ${String(result.requests.failed).padStart(6)} ${String(result.requests.retries).padStart(7)} ${String(l.p50).padStart(6)} ${String(l.p95).padStart(6)} ${String(l.p99).padStart(6)} ${String(l.max).padStart(7)}`,
    `  ${(result.requests.total / Math.max(1, result.durationS)).toFixed(1)} ops/s over ${result.durationS} s (target ${result.targetRps}); success ${(result.successRate * 100).toFixed(3)} % as the storefront's retry policy sees it; sessions ${result.sessions.started} started, ${result.sessions.dropped} dropped`,
  ].join('\n');
}
