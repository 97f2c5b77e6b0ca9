import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import { sleep } from './timeout.js';

const RELEASE = "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) else return 0 end";

export interface FillLockOptions {
  /** Lease of the filler: a replica that dies mid-load frees the key after this long. */
  ttlMs: number;
  /** Longest wait for another replica's fill before loading anyway. */
  waitMs: number;
  /** Pause between looks at the shared entry. */
  pollMs?: number;
}

/**
 * Single flight across replicas for one cold key: the replica that takes
 * `SET lock NX PX` loads; the others poll the shared entry (`lookup`) until it
 * appears or `waitMs` passes, then load themselves, so a slow or dead filler
 * costs a bounded wait, never an error. Without Redis everyone loads.
 * Returns the entry another replica stored, or `fill()`'s result.
 */
export async function fillOnce<T>(redis: Redis, lockKey: string, options: FillLockOptions, lookup: () => Promise<T | undefined>, fill: () => Promise<T>): Promise<{ value: T; filledHere: boolean }> {
  const token = randomUUID();
  const owner = await redis.set(lockKey, token, 'PX', options.ttlMs, 'NX').then((reply) => reply === 'OK', () => true);
  if (!owner) {
    const deadline = Date.now() + options.waitMs;
    while (Date.now() < deadline) {
      await sleep(options.pollMs ?? 10);
      const stored = await lookup();
      if (stored !== undefined) return { value: stored, filledHere: false };
    }
  }
  try {
    return { value: await fill(), filledHere: true };
  } finally {
    if (owner) void redis.eval(RELEASE, 1, lockKey, token).catch(() => undefined);
  }
}
