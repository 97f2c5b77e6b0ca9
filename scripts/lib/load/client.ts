/**
 * The storefront's HTTP client: one operation = up to `maxAttempts` attempts,
 * retried on a network error, 502/503/504 and 429 with exponential backoff and
 * full jitter (Retry-After honoured up to the cap), the same Idempotency-Key on
 * every attempt. Records the final outcome of each operation.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { Recorder } from './stats.js';

export interface RetryPolicy {
  maxAttempts: number;
  baseMs: number;
  capMs: number;
  /** Per-attempt timeout. */
  timeoutMs: number;
}

// Six attempts with capped full-jitter backoff: about 6 s of retrying on average, enough to ride out a replica kill or a few seconds of Redis restart.
export const STOREFRONT_RETRY: RetryPolicy = { maxAttempts: 6, baseMs: 250, capMs: 4_000, timeoutMs: 15_000 };

const RETRYABLE = new Set([429, 502, 503, 504]);

/** Full-jitter exponential backoff (AWS architecture blog), capped. */
export function backoffMs(attempt: number, policy: RetryPolicy, random: () => number = Math.random): number {
  return Math.round(random() * Math.min(policy.capMs, policy.baseMs * 2 ** attempt));
}

export interface CallResult {
  status: number | 'error';
  body: unknown;
  attempts: number;
}

export interface CallOptions {
  method?: string;
  body?: unknown;
  headers?: Record<string, string>;
  /** Statuses that are worth another attempt besides network errors/502/503/504/429 (checkout's 409 in_progress). */
  retryAlso?: (status: number, body: unknown) => boolean;
  /** A 404 from a route that may not exist yet is recorded as unavailable, not as a failure. */
  optional?: boolean;
}

export class Storefront {
  constructor(
    private readonly baseUrl: string,
    private readonly recorder: Recorder,
    private readonly policy: RetryPolicy = STOREFRONT_RETRY,
    private readonly budget: { left: number } = { left: Number.POSITIVE_INFINITY },
  ) {}

  /** True while the request budget (--max-requests) lasts. */
  get open(): boolean {
    return this.budget.left > 0;
  }

  async call(endpoint: string, path: string, options: CallOptions = {}): Promise<CallResult> {
    const started = performance.now();
    let status: number | 'error' = 'error';
    let body: unknown;
    let attempts = 0;
    for (; attempts < this.policy.maxAttempts && this.budget.left > 0; ) {
      attempts += 1;
      this.budget.left -= 1;
      let retryAfterMs = 0;
      try {
        const response = await fetch(`${this.baseUrl}${path}`, {
          method: options.method ?? 'GET',
          headers: { accept: 'application/json', ...(options.body === undefined ? {} : { 'content-type': 'application/json' }), ...options.headers },
          body: options.body === undefined ? undefined : JSON.stringify(options.body),
          signal: AbortSignal.timeout(this.policy.timeoutMs),
        });
        status = response.status;
        const text = await response.text();
        try {
          body = text ? JSON.parse(text) : undefined;
        } catch {
          body = text;
        }
        retryAfterMs = Number(response.headers.get('retry-after') ?? 0) * 1000;
      } catch {
        status = 'error';
        body = undefined;
      }
      const retry = status === 'error' || RETRYABLE.has(status) || (options.retryAlso?.(status, body) ?? false);
      if (!retry || attempts >= this.policy.maxAttempts) break;
      await sleep(Math.min(this.policy.capMs, Math.max(retryAfterMs, backoffMs(attempts, this.policy))));
    }
    const unavailable = options.optional === true && status === 404 && isMissingRoute(body);
    this.recorder.record(endpoint, status, performance.now() - started, Math.max(1, attempts), unavailable);
    return { status, body, attempts };
  }
}

/** The edge's (or an Ingress's) 404 for a path no service routes, as opposed to a service's own 404. */
export function isMissingRoute(body: unknown): boolean {
  if (typeof body === 'string') return true;
  const type = (body as { type?: unknown } | undefined)?.type;
  return type === 'urn:problem:edge_404' || body === undefined;
}
