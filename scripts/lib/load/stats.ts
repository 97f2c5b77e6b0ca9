/**
 * Load results: per endpoint and overall counts, status codes, latency
 * percentiles (HdrHistogram, as autocannon uses), and a per-second timeline.
 * Two views: every HTTP attempt, and every operation as the storefront's retry
 * policy sees it (its final outcome); the SLO is computed on the second.
 */
import * as hdr from 'hdr-histogram-js';

export interface LatencySummary {
  p50: number;
  p95: number;
  p99: number;
  max: number;
}

export interface EndpointSummary {
  /** Operations (after retries). */
  total: number;
  ok: number;
  failed: number;
  /** Answered 404 by a route that does not exist yet (checkout, support): not counted in the SLO. */
  unavailable: number;
  /** HTTP attempts, including retries. */
  attempts: number;
  retries: number;
  /** Final status per operation ("error" for a network failure). */
  byStatus: Record<string, number>;
  latencyMs: LatencySummary;
}

export interface SecondPoint {
  /** Seconds since the start. */
  t: number;
  requests: number;
  failed: number;
  p99: number;
}

export interface LoadSummary {
  startedAt: string;
  durationS: number;
  targetRps: number;
  requests: { total: number; ok: number; failed: number; unavailable: number; attempts: number; retries: number; byStatus: Record<string, number> };
  latencyMs: LatencySummary;
  successRate: number;
  endpoints: Record<string, EndpointSummary>;
  timeline: SecondPoint[];
  sessions: { started: number; completed: number; dropped: number };
}

/** An operation fails when its final answer is a network error, a 5xx or a 429 (after the retries). */
export function isFailure(status: number | 'error'): boolean {
  return status === 'error' || status >= 500 || status === 429;
}

function histogram() {
  return hdr.build({ lowestDiscernibleValue: 1, highestTrackableValue: 600_000, numberOfSignificantValueDigits: 3 });
}

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

class Bucket {
  total = 0;
  ok = 0;
  failed = 0;
  unavailable = 0;
  attempts = 0;
  byStatus: Record<string, number> = {};
  readonly latency = histogram();

  summary(): EndpointSummary {
    return {
      total: this.total,
      ok: this.ok,
      failed: this.failed,
      unavailable: this.unavailable,
      attempts: this.attempts,
      retries: this.attempts - this.total,
      byStatus: this.byStatus,
      latencyMs: { p50: this.latency.getValueAtPercentile(50), p95: this.latency.getValueAtPercentile(95), p99: this.latency.getValueAtPercentile(99), max: this.latency.maxValue },
    };
  }
}

export class Recorder {
  readonly startedAt = Date.now();
  private readonly overall = new Bucket();
  private readonly endpoints = new Map<string, Bucket>();
  private readonly seconds: Array<{ requests: number; failed: number; latencies: number[] }> = [];
  sessions = { started: 0, completed: 0, dropped: 0 };

  /** One operation's final outcome; `latencyMs` spans all its attempts and backoffs. */
  record(endpoint: string, status: number | 'error', latencyMs: number, attempts: number, unavailable = false): void {
    const bucket = this.endpoints.get(endpoint) ?? new Bucket();
    this.endpoints.set(endpoint, bucket);
    const failed = !unavailable && isFailure(status);
    for (const b of [bucket, this.overall]) {
      b.total += 1;
      b.attempts += attempts;
      b.byStatus[String(status)] = (b.byStatus[String(status)] ?? 0) + 1;
      if (unavailable) b.unavailable += 1;
      else if (failed) b.failed += 1;
      else b.ok += 1;
      b.latency.recordValue(Math.max(1, Math.round(latencyMs)));
    }
    const second = Math.floor((Date.now() - this.startedAt) / 1000);
    while (this.seconds.length <= second) this.seconds.push({ requests: 0, failed: 0, latencies: [] });
    const point = this.seconds[second]!;
    point.requests += 1;
    if (failed) point.failed += 1;
    point.latencies.push(latencyMs);
  }

  get total(): number {
    return this.overall.total;
  }

  get failed(): number {
    return this.overall.failed;
  }

  /** Operations in the last full second, for the progress line. */
  lastSecond(): { requests: number; failed: number } {
    const second = Math.floor((Date.now() - this.startedAt) / 1000) - 1;
    return this.seconds[second] ?? { requests: 0, failed: 0 };
  }

  summary(targetRps: number): LoadSummary {
    const overall = this.overall.summary();
    const counted = overall.total - overall.unavailable;
    return {
      startedAt: new Date(this.startedAt).toISOString(),
      durationS: Math.round((Date.now() - this.startedAt) / 100) / 10,
      targetRps,
      requests: { total: overall.total, ok: overall.ok, failed: overall.failed, unavailable: overall.unavailable, attempts: overall.attempts, retries: overall.retries, byStatus: overall.byStatus },
      latencyMs: overall.latencyMs,
      successRate: counted === 0 ? 1 : overall.ok / counted,
      endpoints: Object.fromEntries([...this.endpoints].sort(([a], [b]) => a.localeCompare(b)).map(([name, b]) => [name, b.summary()])),
      timeline: this.seconds.map((s, t) => ({ t, requests: s.requests, failed: s.failed, p99: Math.round(percentile([...s.latencies].sort((a, b) => a - b), 99)) })),
      sessions: { ...this.sessions },
    };
  }
}
