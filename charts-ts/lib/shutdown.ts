/**
 * Grace-period arithmetic, in one place so the manifests and the kit's drain settings
 * cannot drift apart (services/kit shutdown; DESIGN.md "shutdown").
 *
 * HTTP service, from the moment the pod is marked Terminating:
 *   preStop sleep            P s   Endpoint removal propagates; the process still serves
 *   SIGTERM -> readiness 503 D ms  SHUTDOWN_DELAY_MS, still serving stragglers
 *   stop accepting, drain    T ms  SHUTDOWN_TIMEOUT_MS, in-flight requests finish
 *   close Mongo/Redis, exit  M s   margin
 *   terminationGracePeriodSeconds = P + ceil((D + T) / 1000) + M
 * (prod: 5 + ceil(25000 / 1000) + 5 = 35 s). The kubelet's grace countdown includes the
 * preStop hook, which is why P is added, not overlapped.
 *
 * Queue worker: no Endpoints, so no preStop and no delay; the current job gets
 * JOB_GRACE_MS, then connections close within SHUTDOWN_TIMEOUT_MS:
 *   terminationGracePeriodSeconds = ceil((JOB_GRACE_MS + SHUTDOWN_TIMEOUT_MS) / 1000) + M
 */
import type { ShutdownSettings } from '../settings.js';

/** The env vars and grace period of one workload kind. */
export interface ShutdownPlan {
  readonly preStopSleepSeconds: number;
  readonly env: Readonly<Record<string, string>>;
  readonly terminationGracePeriodSeconds: number;
}

/** Derives env vars and the grace period from the same numbers. */
export function shutdownPlan(s: ShutdownSettings, kind: 'http' | 'worker'): ShutdownPlan {
  for (const [key, value] of Object.entries(s)) {
    if (!Number.isInteger(value) || value < 0) throw new Error(`charts-ts: shutdown.${key} must be a non-negative integer`);
  }
  if (kind === 'worker') {
    return {
      preStopSleepSeconds: 0,
      env: {
        SHUTDOWN_DELAY_MS: '0',
        SHUTDOWN_TIMEOUT_MS: String(s.shutdownTimeoutMs),
        JOB_GRACE_MS: String(s.jobGraceMs),
      },
      terminationGracePeriodSeconds: Math.ceil((s.jobGraceMs + s.shutdownTimeoutMs) / 1000) + s.marginSeconds,
    };
  }
  return {
    preStopSleepSeconds: s.preStopSleepSeconds,
    env: { SHUTDOWN_DELAY_MS: String(s.shutdownDelayMs), SHUTDOWN_TIMEOUT_MS: String(s.shutdownTimeoutMs) },
    terminationGracePeriodSeconds:
      s.preStopSleepSeconds + Math.ceil((s.shutdownDelayMs + s.shutdownTimeoutMs) / 1000) + s.marginSeconds,
  };
}
