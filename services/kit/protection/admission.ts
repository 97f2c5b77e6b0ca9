import { monitorEventLoopDelay } from 'node:perf_hooks';
import type { RouteClass } from './config.js';

/**
 * How far over its thresholds the process is: 0 idle, 1 at a threshold, 2 at
 * twice it. Tests and benches inject their own.
 */
export type LoadSignal = () => number;

/**
 * Pressure at which each class is shed: browse first, checkout (and the
 * service-to-service admin calls a checkout needs) last.
 */
export const SHED_AT: Readonly<Record<RouteClass, number>> = {
  browse: 1,
  ticket: 1.25,
  account: 1.5,
  cart: 1.5,
  admin: 2,
  checkout: 2,
};

let loopDelay: { histogram: ReturnType<typeof monitorEventLoopDelay>; p90Ms: number } | undefined;

/**
 * The event loop's p90 delay over the last second, from one process-wide
 * monitor (the delay is a property of the process, not of an app).
 */
export function eventLoopDelayMs(): number {
  if (!loopDelay) {
    const state = { histogram: monitorEventLoopDelay({ resolution: 10 }), p90Ms: 0 };
    state.histogram.enable();
    setInterval(() => {
      state.p90Ms = state.histogram.count > 0 ? state.histogram.percentile(90) / 1e6 : 0;
      state.histogram.reset();
    }, 1_000).unref();
    loopDelay = state;
  }
  return loopDelay.p90Ms;
}

export interface Admission {
  /** Counts a request in; returns false (and counts nothing) when its class is shed. */
  enter(routeClass: RouteClass): boolean;
  leave(): void;
  /** Current pressure (0 = idle, 1 = at a threshold). */
  pressure(): number;
  inFlight(): number;
}

export interface AdmissionOptions {
  loopDelayMs: number;
  maxInFlight: number;
  /** Replaces the measured pressure (tests, benches). */
  loadSignal?: LoadSignal;
}

/** Admission control from event-loop delay and in-flight requests (thresholds from config). */
export function createAdmission(options: AdmissionOptions): Admission {
  let inFlight = 0;
  const measured = () => Math.max(eventLoopDelayMs() / Math.max(1, options.loopDelayMs), inFlight / options.maxInFlight);
  const pressure = options.loadSignal ?? measured;
  return {
    enter(routeClass) {
      if (pressure() >= SHED_AT[routeClass]) return false;
      inFlight += 1;
      return true;
    },
    leave() {
      inFlight = Math.max(0, inFlight - 1);
    },
    pressure,
    inFlight: () => inFlight,
  };
}

/**
 * The share of a crawler's budget it keeps at a given pressure: all of it when
 * idle, half at 0.5, a tenth from 0.9 on (browse itself is shed at 1).
 */
export function goodBotShare(pressure: number): number {
  return Math.min(1, Math.max(0.1, 1 - pressure));
}
