import { Agent, request } from 'undici';
import { LRUCache } from 'lru-cache';
import {
  BrokenCircuitError,
  ConsecutiveBreaker,
  ExponentialBackoff,
  circuitBreaker,
  handleWhen,
  retry,
  type CircuitBreakerPolicy,
} from 'cockatiel';
import { AppError } from './errors.js';
import { currentRequestId, type Logger } from './log.js';
import type { Metrics } from './metrics.js';

export interface HttpClientOptions {
  /** Name of the called service, used in errors and metrics ('inventory'). */
  name: string;
  baseUrl: string;
  logger: Logger;
  metrics?: Metrics;
  /** Per-attempt deadline. */
  timeoutMs?: number;
  /** Extra attempts for idempotent calls. */
  retries?: number;
  /** Consecutive failures that open the breaker. */
  breakerThreshold?: number;
  /** How long the breaker stays open before letting one call through. */
  halfOpenAfterMs?: number;
}

export interface CallOptions {
  method?: 'GET' | 'HEAD' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  path: string;
  body?: unknown;
  headers?: Record<string, string>;
  /**
   * Retry this call on failure. GET, HEAD, PUT and DELETE are idempotent by
   * definition; set this for a POST only when the server deduplicates it
   * (e.g. a hold with a client-chosen id).
   */
  idempotent?: boolean;
  /**
   * Circuit breaker to count this call under (e.g. `holds:<sku>`): calls with
   * different keys fail and open separately, so one hot key (a doorbuster SKU
   * whose calls time out) does not cut every other call to the service. Calls
   * without a key share the client's breaker.
   */
  breakerKey?: string;
}

export interface HttpResponse<T = unknown> {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: T;
}

/** A call that failed in a way worth retrying (network, timeout, 502/503/504). */
class TransientError extends Error {
  override name = 'TransientError';
}

/** Calls that failed before any attempt reached the wire (the breaker refused every one). */
const unsent = new WeakSet<object>();

/**
 * True when `error` is a call the client refused without sending any attempt (its breaker was
 * open): the callee never saw it. A call whose first attempt went out (and timed out) and whose
 * retry the breaker then refused was seen, so it is not `neverSent` (found by the doorbuster
 * bench: holds made by the first attempt were never released).
 */
export function neverSent(error: unknown): boolean {
  return typeof error === 'object' && error !== null && unsent.has(error);
}

const IDEMPOTENT = new Set(['GET', 'HEAD', 'PUT', 'DELETE']);
const TRANSIENT_STATUS = new Set([502, 503, 504]);

export interface HttpClient {
  call<T = unknown>(options: CallOptions): Promise<HttpResponse<T>>;
  readonly breaker: CircuitBreakerPolicy;
  close(): Promise<void>;
}

/**
 * HTTP client for service-to-service calls: keep-alive pool, a deadline per
 * attempt, retries with decorrelated jitter for idempotent calls only, and a
 * circuit breaker. When the callee is down it throws a 503 AppError with
 * Retry-After, so the caller's client sees a clear, retryable answer.
 */
export function createHttpClient(options: HttpClientOptions): HttpClient {
  const timeoutMs = options.timeoutMs ?? 2_000;
  const agent = new Agent({ keepAliveTimeout: 30_000, connections: 64, headersTimeout: timeoutMs, bodyTimeout: timeoutMs });
  const halfOpenAfter = options.halfOpenAfterMs ?? 5_000;
  const newBreaker = () =>
    circuitBreaker(handleWhen((e) => e instanceof TransientError), {
      halfOpenAfter,
      breaker: new ConsecutiveBreaker(options.breakerThreshold ?? 5),
    });
  const breaker = newBreaker();
  // Bounded: a key that is not used for a while starts closed again when it comes back.
  const keyed = new LRUCache<string, CircuitBreakerPolicy>({ max: 10_000 });
  const breakerFor = (key: string | undefined): CircuitBreakerPolicy => {
    if (key === undefined) return breaker;
    let found = keyed.get(key);
    if (!found) keyed.set(key, (found = newBreaker()));
    return found;
  };
  const retryPolicy = retry(handleWhen((e) => e instanceof TransientError), {
    maxAttempts: options.retries ?? 2,
    backoff: new ExponentialBackoff({ initialDelay: 25, maxDelay: 500 }),
  });
  const calls = options.metrics?.counter('http_client_calls_total', 'Outgoing calls by callee and outcome', ['callee', 'outcome']);
  // cockatiel's CircuitState: 0 closed, 1 open, 2 half-open, 3 isolated.
  const breakerState = options.metrics?.gauge('http_client_breaker_state', 'Breaker of outgoing calls: 0 closed, 1 open, 2 half-open, 3 isolated', ['callee']);
  breakerState?.set({ callee: options.name }, breaker.state);
  breaker.onStateChange((state) => breakerState?.set({ callee: options.name }, state));

  async function attempt<T>(call: CallOptions, onSend: () => void): Promise<HttpResponse<T>> {
    const requestId = currentRequestId();
    onSend();
    try {
      const response = await request(new URL(call.path, options.baseUrl), {
        method: call.method ?? 'GET',
        dispatcher: agent,
        signal: AbortSignal.timeout(timeoutMs),
        headers: {
          accept: 'application/json',
          // The edge protection treats an empty user-agent as a bad bot.
          'user-agent': `shop-${options.name}-client`,
          ...(call.body === undefined ? {} : { 'content-type': 'application/json' }),
          ...(requestId ? { 'x-request-id': requestId } : {}),
          ...call.headers,
        },
        body: call.body === undefined ? undefined : JSON.stringify(call.body),
      });
      const text = await response.body.text();
      if (TRANSIENT_STATUS.has(response.statusCode)) throw new TransientError(`${options.name} answered ${response.statusCode}`);
      const body = (text && String(response.headers['content-type'] ?? '').includes('json') ? JSON.parse(text) : text) as T;
      return { status: response.statusCode, headers: response.headers, body };
    } catch (error) {
      if (error instanceof TransientError) throw error;
      throw new TransientError(`${options.name} unreachable: ${(error as Error).message}`, { cause: error });
    }
  }

  return {
    breaker,
    async call<T>(call: CallOptions): Promise<HttpResponse<T>> {
      const method = call.method ?? 'GET';
      const canRetry = call.idempotent ?? IDEMPOTENT.has(method);
      const policy = breakerFor(call.breakerKey);
      let sent = false;
      const once = () => policy.execute(() => attempt<T>(call, () => (sent = true)));
      try {
        const result = await (canRetry ? retryPolicy.execute(once) : once());
        calls?.inc({ callee: options.name, outcome: 'ok' });
        return result;
      } catch (error) {
        const open = error instanceof BrokenCircuitError;
        calls?.inc({ callee: options.name, outcome: open ? 'breaker_open' : 'failed' });
        if (open || error instanceof TransientError) {
          options.logger.warn({ callee: options.name, path: call.path, err: error, sent }, 'dependency call failed');
          const unavailable = new AppError(503, `${options.name}_unavailable`, 'Service unavailable', {
            detail: `${options.name} is unavailable; try again shortly`,
            headers: { 'retry-after': String(Math.ceil(halfOpenAfter / 1000)) },
            cause: error,
          });
          if (!sent) unsent.add(unavailable);
          throw unavailable;
        }
        throw error;
      }
    },
    close: () => agent.close(),
  };
}
