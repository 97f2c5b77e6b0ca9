import { createHash } from 'node:crypto';
import { LRUCache } from 'lru-cache';
import { circuitBreaker, ConsecutiveBreaker, handleWhen, type CircuitBreakerPolicy } from 'cockatiel';
import type { Redis } from 'ioredis';
import type { Logger } from './log.js';
import type { Metrics } from './metrics.js';
import type { Clock } from './clock.js';
import { fillOnce } from './cache-fill.js';
import { systemClock } from './clock.js';
import { isCallerError, isDependencyFailure } from './errors.js';

export interface CacheOptions {
  /** Namespace in Redis and label in metrics, e.g. 'catalog'. */
  name: string;
  redis: Redis;
  /** A second connection for pub/sub (a subscribed client can do nothing else). */
  subscriber: Redis;
  logger: Logger;
  metrics?: Metrics;
  /** Served without a second thought for this long. */
  freshMs?: number;
  /** After fresh, served while one background refresh runs (stale-while-revalidate). */
  revalidateMs?: number;
  /** Kept and served when the database fails, for this long after it was stored (stale-if-error). */
  staleIfErrorMs?: number;
  maxEntries?: number;
  clock?: Clock;
  /** Longest wait for another replica loading the same cold key before loading here too. */
  fillWaitMs?: number;
}

interface Entry<T> {
  value: T;
  etag: string;
  storedAt: number;
  gen: number;
  /** The value's JSON, made once per fill so hits do not serialize again (not stored in Redis). */
  json?: string;
}

export type CacheState = 'hit' | 'shared' | 'miss' | 'revalidating' | 'stale-if-error';

export interface CacheResult<T> {
  value: T;
  etag: string;
  state: CacheState;
  ageMs: number;
  /** JSON.stringify(value), computed once per entry. */
  json: string;
}

/** A strong ETag over the JSON form of a value. */
export function etagOf(value: unknown, json = JSON.stringify(value)): string {
  return `"${createHash('sha1').update(json).digest('base64url').slice(0, 22)}"`;
}

/**
 * Two-tier read cache (in-process LRU, then Redis) in front of a loader.
 *
 * - Invalidation is by generation: a write bumps `cache:<name>:gen` in Redis and
 *   publishes it, and every replica then ignores entries of older generations.
 *   This stays correct when a slow reader writes an old value after the bump
 *   (its entry carries the old generation), at the price of re-loading hot keys.
 * - Concurrent misses for one key share one load: in one process (single flight)
 *   and across replicas (a short Redis lease; the others wait for its entry).
 * - Loads go through a circuit breaker that counts dependency failures only
 *   (`isDependencyFailure`); when a load fails that way, the newest stored entry
 *   of any generation is served if younger than `staleIfErrorMs`. A caller
 *   error (bad input) is rethrown as it is: no breaker count, no stale answer.
 */
export class SharedCache<T> {
  private readonly lru: LRUCache<string, Entry<T>>;
  private readonly inflight = new Map<string, Promise<CacheResult<T>>>();
  private readonly breaker: CircuitBreakerPolicy;
  private readonly clock: Clock;
  private readonly freshMs: number;
  private readonly revalidateMs: number;
  private readonly staleIfErrorMs: number;
  private readonly genKey: string;
  private readonly channel: string;
  private readonly lookups: ReturnType<Metrics['counter']> | undefined;
  private gen = 0;
  private genTimer: NodeJS.Timeout | undefined;

  constructor(private readonly options: CacheOptions) {
    this.clock = options.clock ?? systemClock;
    this.freshMs = options.freshMs ?? 30_000;
    this.revalidateMs = options.revalidateMs ?? 60_000;
    this.staleIfErrorMs = options.staleIfErrorMs ?? 24 * 3_600_000;
    this.lru = new LRUCache({ max: options.maxEntries ?? 10_000 });
    // Only dependency failures count: a request's bad input must not open the breaker for everyone.
    this.breaker = circuitBreaker(handleWhen(isDependencyFailure), { halfOpenAfter: 5_000, breaker: new ConsecutiveBreaker(3) });
    this.lookups = options.metrics?.counter('cache_requests_total', 'Cache lookups by result', ['cache', 'result']);
    this.genKey = `cache:${options.name}:gen`;
    this.channel = `cache:${options.name}:invalidate`;
  }

  /** Subscribes to invalidations and reads the current generation. */
  async start(): Promise<void> {
    const { subscriber, logger } = this.options;
    subscriber.on('message', (channel: string, message: string) => {
      if (channel === this.channel) this.observeGen(Number(message));
    });
    await subscriber.subscribe(this.channel);
    await this.syncGen();
    // Pub/sub is fire-and-forget: re-read the generation now and then in case a message was missed.
    this.genTimer = setInterval(() => void this.syncGen().catch((error) => logger.debug({ err: error }, 'gen sync failed')), 2_000);
    this.genTimer.unref();
  }

  async stop(): Promise<void> {
    clearInterval(this.genTimer);
  }

  /** Returns the cached value for `key`, loading it with `load` when needed. */
  async get(key: string, load: () => Promise<T>): Promise<CacheResult<T>> {
    const now = this.clock.now();
    const local = this.lru.get(key);
    if (local && local.gen === this.gen) {
      const ageMs = now - local.storedAt;
      if (ageMs < this.freshMs) return this.result(local, 'hit', now);
      if (ageMs < this.freshMs + this.revalidateMs) {
        void this.singleFlight(key, () => this.fill(key, load, local)).catch(() => undefined);
        return this.result(local, 'revalidating', now);
      }
    }
    return this.singleFlight(key, () => this.fill(key, load, local));
  }

  /**
   * The in-process entry for `key` if it is fresh and of the current generation,
   * without loading or asking Redis: for fast paths that fall back to get().
   */
  peek(key: string): CacheResult<T> | undefined {
    const entry = this.lru.get(key);
    if (!entry || entry.gen !== this.gen) return undefined;
    const now = this.clock.now();
    if (now - entry.storedAt >= this.freshMs) return undefined;
    return this.result(entry, 'hit', now);
  }

  /** Invalidates every entry of this cache on every replica. */
  async invalidateAll(): Promise<void> {
    try {
      const gen = await this.options.redis.incr(this.genKey);
      this.observeGen(gen);
      await this.options.redis.publish(this.channel, String(gen));
    } catch (error) {
      // The write already happened; other replicas catch up within freshMs.
      this.lru.clear();
      this.options.logger.warn({ err: error, cache: this.options.name }, 'cache invalidation could not reach redis');
    }
  }

  private observeGen(gen: number): void {
    if (Number.isFinite(gen) && gen > this.gen) this.gen = gen;
  }

  private async syncGen(): Promise<void> {
    const raw = await this.options.redis.get(this.genKey);
    this.observeGen(Number(raw ?? 0));
  }

  private singleFlight(key: string, run: () => Promise<CacheResult<T>>): Promise<CacheResult<T>> {
    let pending = this.inflight.get(key);
    if (!pending) {
      pending = run().finally(() => this.inflight.delete(key));
      this.inflight.set(key, pending);
    }
    return pending;
  }

  private async fill(key: string, load: () => Promise<T>, local: Entry<T> | undefined): Promise<CacheResult<T>> {
    const gen = this.gen;
    const shared = await this.readShared(key);
    const now = this.clock.now();
    if (shared && shared.gen === gen && now - shared.storedAt < this.freshMs) {
      this.lru.set(key, shared);
      return this.result(shared, 'shared', now);
    }
    // One replica loads a cold key; the others wait briefly for its entry in Redis (cache-fill.ts).
    const storedFresh = async () => {
      const entry = await this.readShared(key);
      return entry && entry.gen === gen && this.clock.now() - entry.storedAt < this.freshMs ? entry : undefined;
    };
    try {
      const { value: entry, filledHere } = await fillOnce(this.options.redis, `cache:${this.options.name}:fill:${key}`, { ttlMs: 5_000, waitMs: this.options.fillWaitMs ?? 1_000 }, storedFresh, async () => {
        const value = await this.breaker.execute(load);
        const json = JSON.stringify(value);
        const loaded: Entry<T> = { value, etag: etagOf(value, json), storedAt: this.clock.now(), gen, json };
        await this.writeShared(key, loaded);
        return loaded;
      });
      this.lru.set(key, entry);
      return this.result(entry, filledHere ? 'miss' : 'shared', this.clock.now());
    } catch (error) {
      if (isCallerError(error)) throw error;
      const fallback = [local, shared].filter((e): e is Entry<T> => e !== undefined).sort((a, b) => b.storedAt - a.storedAt)[0];
      if (fallback && now - fallback.storedAt < this.staleIfErrorMs) {
        this.options.logger.warn({ err: error, key }, 'load failed, serving stale');
        return this.result(fallback, 'stale-if-error', now);
      }
      throw error;
    }
  }

  private result(entry: Entry<T>, state: CacheState, now: number): CacheResult<T> {
    this.lookups?.inc({ cache: this.options.name, result: state });
    entry.json ??= JSON.stringify(entry.value);
    return { value: entry.value, etag: entry.etag, state, ageMs: Math.max(0, now - entry.storedAt), json: entry.json };
  }

  private async readShared(key: string): Promise<Entry<T> | undefined> {
    try {
      const raw = await this.options.redis.get(`cache:${this.options.name}:${key}`);
      return raw ? (JSON.parse(raw) as Entry<T>) : undefined;
    } catch {
      return undefined;
    }
  }

  private async writeShared(key: string, entry: Entry<T>): Promise<void> {
    try {
      const { json: _json, ...stored } = entry;
      await this.options.redis.set(`cache:${this.options.name}:${key}`, JSON.stringify(stored), 'PX', this.staleIfErrorMs);
    } catch (error) {
      this.options.logger.debug({ err: error, key }, 'cache write to redis failed');
    }
  }
}
