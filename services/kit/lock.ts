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
   * Sentinel setups: after taking a key, `WAIT replicas timeoutMs` so the lock is on a replica
   * before the critical section runs; a primary that dies right after granting it then cannot
   * take it to the grave (docs/redis-failover.md). The section runs either way (a lagging
   * replica must not stop stock changes); `onUnreplicated` reports it. Absent or 0 replicas = off.
   */
  replicaAck?: { replicas: number; timeoutMs: number; onUnreplicated?: (key: string) => void };
}

export type WithLock = <T>(key: string, fn: () => Promise<T>) => Promise<T>;

const RELEASE = "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) else return 0 end";

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
      await awaitReplicas(key);
      try {
        return await fn();
      } finally {
        await redis.eval(RELEASE, 1, key, token).catch(() => undefined);
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
