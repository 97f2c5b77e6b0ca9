import type { Redis } from 'ioredis';
import { RateLimiterRes, type RateLimiterAbstract } from 'rate-limiter-flexible';
import type { Clock } from '../clock.js';
import type { LimitDecision } from './rate-limit.js';

/**
 * Counts in one Lua call for many keys, with the window rule of
 * rate-limiter-flexible's `RateLimiterRedis` (a key is created at 0 with the
 * window as its expiry, then incremented), so both write the same counters.
 * KEYS: the counters; ARGV[1]: the window in seconds; ARGV[1 + i]: points of
 * KEYS[i]. Returns count and milliseconds left, in turn, for every key.
 */
const INCREMENT_MANY = `
local window = tonumber(ARGV[1])
local answer = {}
for i = 1, #KEYS do
  redis.call('set', KEYS[i], 0, 'EX', window, 'NX')
  answer[2 * i - 1] = redis.call('incrby', KEYS[i], ARGV[i + 1])
  local left = redis.call('pttl', KEYS[i])
  if left < 0 then
    redis.call('expire', KEYS[i], window)
    left = window * 1000
  end
  answer[2 * i] = left
end
return answer`;
const COMMAND = 'edgeIncrementMany';
/** Keys per Lua call: one call holds Redis for about 2 us per key. */
const CHUNK = 500;

type WithCommand = Redis & { [COMMAND](count: number, ...args: Array<string | number>): Promise<number[]> };

/** What this process knows of a key, and what it admitted for it that Redis has not counted yet. */
interface Entry {
  key: string;
  /** The count in Redis (all replicas) at its last answer; 0 for a key not yet synced. */
  count: number;
  /** When the window ends, as Redis said (or as assumed until it says). */
  resetAt: number;
  /** Admitted, not yet sent. */
  unsent: number;
  /** Sent, not yet answered. */
  sending: number;
  /** In the list of the next sync (once, however many requests it admitted). */
  queued: boolean;
}

export interface SyncedLimitStats {
  /** Requests admitted from memory (counted in the next sync). */
  local: number;
  /** Requests that asked Redis (or its insurance) one by one. */
  exact: number;
  /** Lua calls that synced counts, and those that failed (their counts are lost). */
  syncs: number;
  syncFailures: number;
}

export interface SyncedLimitOptions {
  redis: Redis;
  /** The per-request limiter (with its in-memory insurance): asked near the budget, and while Redis is not ready. */
  exact: RateLimiterAbstract;
  durationS: number;
  /** How long counts wait in memory before one call sends them all. */
  syncMs: number;
  /** Points of a key a process may admit from memory between two syncs (>= 1). */
  localPoints: number;
  clock: Clock;
  /** Keys remembered; past it the oldest idle ones are forgotten (treated as new until their next sync). */
  maxKeys?: number;
}

/**
 * A shared limit that does not ask Redis for every request. Each process
 * counts a key in memory and sends the counts of all keys in one Lua call
 * every `syncMs`; the answer tells it every key's count over all replicas. A
 * request is admitted from memory while the key's last known count plus what
 * this process has not yet had counted stays within the budget and the
 * uncounted part within `localPoints`; otherwise it asks Redis itself, exactly
 * as before (the unsent points go with it). A key Redis said is used up is
 * refused from memory until its window ends.
 *
 * The price: other processes' requests since the last sync are unseen, so a
 * client spread over N replicas can pass its budget by at most N x
 * `localPoints` per window (docs/edge-protection.md, "Synced limits"). The
 * same trade as Limitador's cached Redis storage and Sentry Relay's
 * opportunistic quota cache.
 *
 * Keys live in a Map, oldest first out: this runs on every guarded request,
 * and an LRU's reordering cost more per request than its better choice of
 * victim saves here (a forgotten key is only counted as new).
 */
export class SyncedLimit {
  readonly points: number;
  readonly stats: SyncedLimitStats = { local: 0, exact: 0, syncs: 0, syncFailures: 0 };
  private readonly entries = new Map<string, Entry>();
  /** Entries with points to send, each once, in the order they got them. */
  private dirty: Entry[] = [];
  private syncing = false;
  private timer: NodeJS.Timeout | undefined;
  private readonly keyPrefix: string;
  private readonly windowMs: number;
  private readonly maxKeys: number;

  constructor(private readonly options: SyncedLimitOptions) {
    this.points = options.exact.points;
    this.keyPrefix = options.exact.getKey('');
    this.windowMs = options.durationS * 1000;
    this.maxKeys = options.maxKeys ?? 100_000;
    const redis = options.redis as WithCommand;
    if (typeof redis[COMMAND] !== 'function') redis.defineCommand(COMMAND, { lua: INCREMENT_MANY });
  }

  consume(key: string, points: number): LimitDecision | Promise<LimitDecision> {
    const now = this.options.clock.now();
    const entry = this.entry(key, now);
    if (entry.count >= this.points) return { allowed: false, limit: this.points, remaining: 0, resetMs: entry.resetAt - now };
    const pending = entry.unsent + entry.sending + points;
    const count = entry.count + pending;
    if (count > this.points || pending > this.options.localPoints || this.options.redis.status !== 'ready') return this.exact(entry, points);
    entry.unsent += points;
    if (!entry.queued) {
      entry.queued = true;
      this.dirty.push(entry);
    }
    this.stats.local += 1;
    this.schedule();
    return { allowed: true, limit: this.points, remaining: this.points - count, resetMs: entry.resetAt - now };
  }

  /** Sends what is unsent now (tests; shutdown). */
  async sync(): Promise<void> {
    clearTimeout(this.timer);
    this.timer = undefined;
    if (this.syncing) return;
    const batch: Entry[] = [];
    for (const entry of this.dirty) {
      entry.queued = false;
      // An entry whose points `exact` took with it meanwhile has nothing left to send.
      if (entry.unsent > 0) batch.push(entry);
    }
    this.dirty = [];
    if (batch.length === 0) return;
    this.syncing = true;
    for (const entry of batch) {
      entry.sending = entry.unsent;
      entry.unsent = 0;
    }
    const redis = this.options.redis as WithCommand;
    try {
      await Promise.all(
        Array.from({ length: Math.ceil(batch.length / CHUNK) }, async (_, index) => {
          const chunk = batch.slice(index * CHUNK, (index + 1) * CHUNK);
          const answer = await redis[COMMAND](chunk.length, ...chunk.map((entry) => this.keyPrefix + entry.key), this.options.durationS, ...chunk.map((entry) => entry.sending));
          this.stats.syncs += 1;
          const now = this.options.clock.now();
          chunk.forEach((entry, i) => this.learn(entry, Number(answer[2 * i]), now + Number(answer[2 * i + 1]), now));
        }),
      );
    } catch {
      // Redis failed mid-sync: these counts are lost (at most one interval's worth); requests go on.
      this.stats.syncFailures += 1;
    } finally {
      for (const entry of batch) entry.sending = 0;
      this.syncing = false;
      if (this.dirty.length > 0) this.schedule();
    }
  }

  /** The entry of a key, started afresh when its window has ended. */
  private entry(key: string, now: number): Entry {
    let entry = this.entries.get(key);
    if (entry === undefined) {
      if (this.entries.size >= this.maxKeys) this.forgetOldest();
      entry = { key, count: 0, resetAt: now + this.windowMs, unsent: 0, sending: 0, queued: false };
      this.entries.set(key, entry);
    } else if (entry.resetAt <= now) {
      entry.count = 0;
      entry.resetAt = now + this.windowMs;
    }
    return entry;
  }

  /** Drops up to a hundredth of the keys, oldest first, skipping those with counts still to send. */
  private forgetOldest(): void {
    let budget = Math.max(1, Math.floor(this.maxKeys / 100));
    for (const [key, entry] of this.entries) {
      if (budget-- <= 0) break;
      if (!entry.queued && entry.sending === 0) this.entries.delete(key);
    }
  }

  private schedule(): void {
    if (this.timer || this.syncing) return;
    this.timer = setTimeout(() => void this.sync(), this.options.syncMs);
    this.timer.unref();
  }

  /** A count from Redis: answers can arrive out of order, and counts only grow within a window. */
  private learn(entry: Entry, count: number, resetAt: number, now: number): void {
    if (entry.resetAt > now && entry.count > count) return;
    entry.count = count;
    entry.resetAt = resetAt;
  }

  private async exact(entry: Entry, points: number): Promise<LimitDecision> {
    this.stats.exact += 1;
    // Points admitted here but not yet sent go with this request, so Redis sees them before it decides.
    const unsent = entry.unsent;
    entry.unsent = 0;
    try {
      const res = await this.options.exact.consume(entry.key, points + unsent);
      this.learn(entry, res.consumedPoints, this.options.clock.now() + res.msBeforeNext, this.options.clock.now());
      return { allowed: true, limit: this.points, remaining: res.remainingPoints, resetMs: res.msBeforeNext };
    } catch (rejection) {
      if (!(rejection instanceof RateLimiterRes)) throw rejection;
      this.learn(entry, rejection.consumedPoints, this.options.clock.now() + rejection.msBeforeNext, this.options.clock.now());
      return { allowed: false, limit: this.points, remaining: 0, resetMs: rejection.msBeforeNext };
    }
  }
}
