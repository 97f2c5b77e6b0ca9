/**
 * The chaos loop, for any backend: every interval (± jitter) pick targets with
 * the pure rules of plan.ts, act on them (or only say so in a dry run), time
 * each target's recovery, inject scheduled data-tier faults, and stop at the
 * deadline or when the probe's success rate falls below the abort threshold.
 */
import { nextDelay, ProbeWindow, selectTargets, shouldAbort, type AbortRule, type SelectOptions, type Target } from './plan.js';

export const POD_ACTIONS = ['delete', 'kill', 'evict', 'exec-kill'] as const;
export type PodAction = (typeof POD_ACTIONS)[number];

export interface ChaosBackend {
  mode: 'local' | 'kubernetes';
  list(): Promise<Target[]>;
  /** Acts on one target; throws `RefusedError` when the platform refused (a PDB). */
  act(target: Target, action: PodAction): Promise<string>;
  /** Stops a data-tier component and starts it again after downMs (local mode only). */
  fault?(component: string, downMs: number): Promise<void>;
}

/** The platform said no (an eviction blocked by a PodDisruptionBudget). */
export class RefusedError extends Error {}

export interface ChaosEvent {
  at: string;
  /** Seconds since the run started. */
  t: number;
  kind: 'action' | 'dry-run' | 'refused' | 'error' | 'fault' | 'abort';
  action?: string;
  target?: string;
  workload?: string;
  detail: string;
  /** Seconds until the workload was ready again (replaced and ready). */
  recoveryS?: number;
}

export interface FaultPlan {
  component: string;
  /** When, in ms after the start. */
  atMs: number;
  downMs: number;
}

export interface ChaosOptions extends SelectOptions {
  actions: PodAction[];
  intervalMs: number;
  /** Fraction of the interval, 0..1. */
  jitter: number;
  durationMs: number;
  dryRun: boolean;
  faults?: FaultPlan[];
  /** GETs this URL every 500 ms and aborts on the rule. */
  probe?: { url: string; rule: AbortRule };
  /** How long to wait for a recovery before recording it as not recovered. */
  recoveryTimeoutMs?: number;
  log: (line: string) => void;
  random?: () => number;
  signal?: AbortSignal;
}

export interface ChaosResult {
  events: ChaosEvent[];
  kills: number;
  refusals: number;
  aborted?: string;
  /** Recovery times in seconds; a target not ready again within the timeout counts as the timeout. */
  recoveries: number[];
  unrecovered: number;
}

const sleep = (ms: number, signal?: AbortSignal) =>
  new Promise<void>((resolve) => {
    const onAbort = () => {
      clearTimeout(timer);
      resolve();
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });

/**
 * Waits until the killed target's old incarnation is gone or not ready and its
 * workload has as many ready targets as before; resolves with seconds, or undefined on timeout.
 */
async function recovery(backend: ChaosBackend, victim: Target, readyBefore: number, startedAt: number, timeoutMs: number): Promise<number | undefined> {
  const deadline = startedAt + timeoutMs;
  let seenDown = false;
  while (Date.now() < deadline) {
    await sleep(200);
    let targets: Target[];
    try {
      targets = await backend.list();
    } catch {
      continue;
    }
    const old = targets.find((t) => t.uid === victim.uid);
    if (!old || !old.ready || old.terminating) seenDown = true;
    const ready = targets.filter((t) => t.workload === victim.workload && t.ready && !t.terminating && t.uid !== victim.uid).length;
    if (seenDown && ready >= readyBefore) return (Date.now() - startedAt) / 1000;
  }
  return undefined;
}

/** Runs chaos until `durationMs` passes, the signal aborts, or the probe rule trips. */
export async function runChaos(backend: ChaosBackend, options: ChaosOptions): Promise<ChaosResult> {
  const random = options.random ?? Math.random;
  const started = Date.now();
  const deadline = started + options.durationMs;
  const result: ChaosResult = { events: [], kills: 0, refusals: 0, recoveries: [], unrecovered: 0 };
  const pending: Promise<void>[] = [];
  const stopper = new AbortController();
  options.signal?.addEventListener('abort', () => stopper.abort(), { once: true });
  const emit = (event: Omit<ChaosEvent, 'at' | 't'>): ChaosEvent => {
    const now = Date.now();
    const full: ChaosEvent = { at: new Date(now).toISOString(), t: Math.round((now - started) / 100) / 10, ...event };
    result.events.push(full);
    options.log(`${full.at} chaos ${full.kind.padEnd(7)} ${[full.action, full.target].filter(Boolean).join(' ')} ${full.detail}`);
    return full;
  };

  if (options.probe) {
    const { url, rule } = options.probe;
    const window = new ProbeWindow();
    pending.push((async () => {
      while (!stopper.signal.aborted && Date.now() < deadline) {
        let ok = false;
        try {
          ok = (await fetch(url, { signal: AbortSignal.timeout(2_000) })).status < 500;
        } catch {
          ok = false;
        }
        window.record(Date.now(), ok);
        const reason = shouldAbort(window.rate(Date.now(), rule.windowMs), rule);
        if (reason) {
          result.aborted = reason;
          emit({ kind: 'abort', detail: reason });
          stopper.abort();
          return;
        }
        await sleep(500, stopper.signal);
      }
    })());
  }

  for (const fault of options.faults ?? []) {
    pending.push((async () => {
      await sleep(fault.atMs, stopper.signal);
      if (stopper.signal.aborted || Date.now() >= deadline) return;
      if (options.dryRun || !backend.fault) {
        emit({ kind: options.dryRun ? 'dry-run' : 'error', action: 'fault', target: fault.component, detail: options.dryRun ? `would stop ${fault.component} for ${fault.downMs} ms` : `no data-tier faults in ${backend.mode} mode` });
        return;
      }
      const t0 = Date.now();
      emit({ kind: 'fault', action: 'stop', target: fault.component, detail: `down for ${fault.downMs} ms` });
      try {
        await backend.fault(fault.component, fault.downMs);
        emit({ kind: 'fault', action: 'start', target: fault.component, detail: `listening again after ${((Date.now() - t0) / 1000).toFixed(1)} s` });
      } catch (error) {
        emit({ kind: 'error', action: 'fault', target: fault.component, detail: (error as Error).message });
      }
    })());
  }

  await sleep(nextDelay(options.intervalMs, options.jitter, random), stopper.signal);
  while (!stopper.signal.aborted && Date.now() < deadline) {
    let targets: Target[] = [];
    try {
      targets = await backend.list();
    } catch (error) {
      emit({ kind: 'error', detail: `listing targets failed: ${(error as Error).message}` });
    }
    const { chosen } = selectTargets(targets, options, random);
    if (chosen.length === 0 && targets.length > 0) options.log(`${new Date().toISOString()} chaos skip    no eligible target within the blast radius`);
    for (const victim of chosen) {
      const action = options.actions[Math.floor(random() * options.actions.length)]!;
      if (options.dryRun) {
        emit({ kind: 'dry-run', action, target: victim.name, workload: victim.workload, detail: `would ${action} ${victim.namespace}/${victim.name}` });
        continue;
      }
      const readyBefore = targets.filter((t) => t.workload === victim.workload && t.ready && !t.terminating).length;
      const t0 = Date.now();
      try {
        const detail = await backend.act(victim, action);
        result.kills += 1;
        const event = emit({ kind: 'action', action, target: victim.name, workload: victim.workload, detail });
        pending.push(recovery(backend, victim, readyBefore, t0, options.recoveryTimeoutMs ?? 60_000).then((seconds) => {
          if (seconds === undefined) {
            result.unrecovered += 1;
            options.log(`${new Date().toISOString()} chaos NOT recovered: ${victim.name} within ${(options.recoveryTimeoutMs ?? 60_000) / 1000} s`);
          } else {
            event.recoveryS = Math.round(seconds * 10) / 10;
            result.recoveries.push(seconds);
            options.log(`${new Date().toISOString()} chaos ready   ${victim.workload} back to ${readyBefore} ready ${seconds.toFixed(1)} s after ${action} ${victim.name}`);
          }
        }));
      } catch (error) {
        if (error instanceof RefusedError) {
          result.refusals += 1;
          emit({ kind: 'refused', action, target: victim.name, workload: victim.workload, detail: error.message });
        } else emit({ kind: 'error', action, target: victim.name, workload: victim.workload, detail: (error as Error).message });
      }
    }
    await sleep(Math.min(nextDelay(options.intervalMs, options.jitter, random), Math.max(0, deadline - Date.now())), stopper.signal);
  }
  stopper.abort();
  await Promise.all(pending);
  return result;
}
