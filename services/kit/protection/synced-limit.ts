import type { Redis } from 'ioredis';
import { RateLimiterRes, type RateLimiterAbstract } from 'rate-limiter-flexible';
import type { Clock } from '../clock.js';
import type { LimitDecision } from './rate-limit.js';

/**
 * Counts in one Lua call for many keys, in the counters and windows of
 * rate-limiter-flexible's `RateLimiterRedis` (a counter expires one window
 * after it was created), so both count the same requests.
 * KEYS: the counters; ARGV[1]: the window in seconds; ARGV[1 + i]: points of
 * KEYS[i], negative when the caller also wants the milliseconds left in its
 * window. Answers count and milliseconds left (-2: not asked) for every key.
 * A known window costs one INCRBY; a counter this call creates gets its
 * expiry, so none lives on without one.
 */
const INCREMENT_MANY = `
local window = tonumber(ARGV[1])
local answer = {}
for i = 1, #KEYS do
  local points = tonumber(ARGV[i + 1])
  local asked = points < 0
  if asked then points = -points end
  local count = redis.call('incrby', KEYS[i], points)
  local left = -2
  if count == points then
    redis.call('expire', KEYS[i], window)
    left = window * 1000
  elseif asked then
    left = redis.call('pttl', KEYS[i])
    if left < 0 then
      redis.call('expire', KEYS[i], window)
      left = window * 1000
    end
  end
  answer[2 * i - 1] = count
  answer[2 * i] = left
end
return answer`;
const COMMAND = 'edgeIncrementMany';
/** Keys per Lua call: one call holds Redis for 2-5 us per key. */
const CHUNK = 500;

type WithCommand = Redis & { [COMMAND](count: number, ...args: Array<string | number>): Promise<number[]> };

/** What this process knows of a key, and what it admitted for it that Redis has not counted yet. */
interface Entry {
  key: string;
  /** The counter's name in Redis. */
  counter: string;
  /** The count in Redis (all replicas) at its last answer; 0 for a key not yet synced. */
  count: number;
  /** When the window ends, as Redis said (or as assumed until it says). */
  resetAt: number;
  /** False until Redis has said when this window ends: the next sync asks. */
  windowKnown: boolean;
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

  /** Sends what is unsent now (the timer; tests). Does nothing while a sync is in flight: its end schedules the next. */
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
          const args: Array<string | number> = new Array<string | number>(2 * chunk.length + 1);
          args[chunk.length] = this.options.durationS;
          chunk.forEach((entry, i) => {
            args[i] = entry.counter;
            args[chunk.length + 1 + i] = entry.windowKnown ? entry.sending : -entry.sending;
          });
          const answer = await redis[COMMAND](chunk.length, ...args);
          this.stats.syncs += 1;
          const now = this.options.clock.now();
          chunk.forEach((entry, i) => {
            const left = Number(answer[2 * i + 1]);
            this.learn(entry, Number(answer[2 * i]), left >= 0 ? now + left : undefined, now);
          });
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
      entry = { key, counter: this.keyPrefix + key, count: 0, resetAt: now + this.windowMs, windowKnown: false, unsent: 0, sending: 0, queued: false };
      this.entries.set(key, entry);
    } else if (entry.resetAt <= now) {
      entry.count = 0;
      entry.resetAt = now + this.windowMs;
      entry.windowKnown = false;
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

  /**
   * A count from Redis, with the end of its window when it said it. Answers can
   * arrive out of order, and counts only grow within a window.
   */
  private learn(entry: Entry, count: number, resetAt: number | undefined, now: number): void {
    if (resetAt === undefined) {
      if (count > entry.count) entry.count = count;
      return;
    }
    if (entry.windowKnown && entry.resetAt > now && entry.count > count) return;
    entry.count = count;
    entry.resetAt = resetAt;
    entry.windowKnown = true;
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
