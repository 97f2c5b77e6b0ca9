import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import { AppError, unavailable } from './errors.js';
import { jitteredBackoff, sleep } from './timeout.js';

export interface LockerOptions {
  /** Key namespace in Redis, e.g. 'lock:stock'. */
  prefix: string;
  /** Lease: a holder that dies frees the key after this long. Keep it above the slowest critical section. */
  ttlMs?: number;
  /** Longest wait for a busy key before answering 503 with Retry-After. */
  waitMs?: number;
  /**
   * Long sections (checkout's whole flow): keep a short `ttlMs` and renew the lease every
   * `ttlMs / 3` while the section runs, for at most this long in all. A holder that dies,
   * or whose release is lost to a Redis outage, then blocks the key for `ttlMs`, not for
   * the longest section. Absent = no renewal (the section must finish within `ttlMs`).
   */
  maxHoldMs?: number;
  /**
   * Sentinel setups: after taking a key, `WAIT replicas timeoutMs` so the lock is on a replica
   * before the critical section runs; a primary that dies right after granting it then cannot
   * take it to the grave (docs/redis-failover.md). The section runs either way (a lagging
   * replica must not stop stock changes); `onUnreplicated` reports it. Absent or 0 replicas = off.
   */
  replicaAck?: { replicas: number; timeoutMs: number; onUnreplicated?: (key: string) => void };
}

export type WithLock = <T>(key: string, fn: () => Promise<T>) => Promise<T>;

const RELEASE = "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) else return 0 end";
const RENEW = "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('pexpire', KEYS[1], ARGV[2]) else return 0 end";
/** Pauses between attempts to give back a key whose release failed (Redis restarting): about 15 s in all. */
const RELEASE_RETRY_MS = [250, 500, 1_000, 2_000, 4_000, 8_000];

/**
 * Mutual exclusion per key across replicas: `SET key token NX PX ttl` to take,
 * compare-and-delete to give back. Within a process, callers of one key queue
 * locally first, so only one of them polls Redis. Used where the database cannot
 * make a conditional update atomic by itself (FerretDB 1.24 loses concurrent
 * updates to one document); the critical section must still be written as a
 * conditional update so it stays correct on MongoDB even without the lock.
 */
export function createLocker(redis: Redis, options: LockerOptions): WithLock {
  const ttlMs = options.ttlMs ?? 10_000;
  const waitMs = options.waitMs ?? 5_000;
  const local = new Map<string, Promise<unknown>>();

  async function acquire(key: string, token: string, deadline: number): Promise<void> {
    for (let attempt = 0; ; attempt++) {
      let taken: string | null;
      try {
        taken = await redis.set(key, token, 'PX', ttlMs, 'NX');
      } catch (error) {
        // Redis restarting is a dependency outage, not a bug: 503 + Retry-After lets clients retry (found by the gameday).
        throw new AppError(503, 'lock_unavailable', 'Service unavailable', { detail: 'the lock store is unreachable; try again', headers: { 'retry-after': '1' }, cause: error });
      }
      if (taken === 'OK') return;
      if (Date.now() > deadline) throw unavailable('busy', 'this item is being updated by many requests; try again', 1);
      await sleep(1 + jitteredBackoff(Math.min(attempt, 6), 2, 50));
    }
  }

  /**
   * Gives the key back. When Redis is unreachable (a restart with AOF keeps the key), tries
   * again in the background for a few seconds, so the key is not blocked for the whole lease
   * (found by the gameday: a checkout retried for 28 s against its own stale flow lock).
   */
  function release(key: string, token: string, attempt = 0): Promise<void> {
    return redis.eval(RELEASE, 1, key, token).then(
      () => undefined,
      () => {
        const pause = RELEASE_RETRY_MS[attempt];
        if (pause !== undefined) setTimeout(() => void release(key, token, attempt + 1), pause).unref();
      },
    );
  }

  /** Renews the lease every ttl/3 until `stop()` or `maxHoldMs`; a failed renewal is retried on the next tick. */
  function keepAlive(key: string, token: string): () => void {
    const until = Date.now() + (options.maxHoldMs ?? 0);
    let timer: NodeJS.Timeout | undefined;
    const tick = () => {
      if (Date.now() >= until) return;
      void redis.eval(RENEW, 1, key, token, String(ttlMs)).catch(() => undefined);
      timer = setTimeout(tick, ttlMs / 3).unref();
    };
    if (options.maxHoldMs && options.maxHoldMs > ttlMs) timer = setTimeout(tick, ttlMs / 3).unref();
    return () => clearTimeout(timer);
  }

  async function awaitReplicas(key: string): Promise<void> {
    const ack = options.replicaAck;
    if (!ack || ack.replicas <= 0) return;
    const acked = await redis.wait(ack.replicas, ack.timeoutMs).catch(() => 0);
    if (acked < ack.replicas) ack.onUnreplicated?.(key);
  }

  return async function withLock<T>(name: string, fn: () => Promise<T>): Promise<T> {
    const key = `${options.prefix}:${name}`;
    const deadline = Date.now() + waitMs;
    const previous = local.get(key) ?? Promise.resolve();
    const run = previous.catch(() => undefined).then(async () => {
      const token = randomUUID();
      await acquire(key, token, deadline);
      const stop = keepAlive(key, token);
      try {
        await awaitReplicas(key);
        return await fn();
      } finally {
        stop();
        await release(key, token);
      }
    });
    local.set(key, run);
    try {
      return await run;
    } finally {
      if (local.get(key) === run) local.delete(key);
    }
  };
}
