/**
 * Hold releases the cart owes inventory (docs/carts.md, "Doorbusters").
 *
 * The cart releases a hold it gave up on (a reserve that timed out), one of a
 * line it removed, one reserved for a cart that was then not saved, and the
 * spares of a merge. When inventory cannot be reached at that moment (a
 * timeout, its breaker open in a rush), the release used to be dropped and the
 * units stayed held until the hold expired (15 minutes): in a doorbuster bench
 * at load 14, 27 of 50 units. Now the release is owed: its hold id goes into a
 * Redis sorted set (score: when to try again), and every cart replica's retry
 * loop releases what is due, with a lease so that two replicas do not try one
 * id at once. A release is idempotent in inventory, so a retry after a success
 * that was not recorded (a replica killed in between) changes nothing.
 *
 * An owed release older than the hold's time to live is dropped: inventory has
 * expired the hold by then. If Redis cannot take the id either, the hold
 * expires on its own, as before (logged).
 */
import type { Clock, Logger, Metrics, Redis } from '../../kit/index.js';

export interface OwedReleases {
  /** Releases hold `id` now; if inventory cannot be reached, owes it for the retry loop. Never throws. */
  release(id: string): Promise<void>;
  /** One pass of the retry loop: releases what is due; returns how many were released. */
  retryDue(): Promise<number>;
  /** Ids owed now (for tests and the runbook). */
  owed(): Promise<string[]>;
}

export interface OwedReleasesOptions {
  redis: Redis;
  /** Inventory's release; throws when inventory cannot be reached or answers an error. */
  releaseHold(id: string): Promise<void>;
  clock: Clock;
  logger: Logger;
  metrics?: Metrics;
  /** Redis key of the sorted set. */
  key?: string;
  /** Past this age an owed release is dropped: the hold's own time to live. */
  giveUpAfterMs: number;
  /** First retry after this long, then twice as long each time, up to `maxBackoffMs`. */
  backoffMs?: number;
  maxBackoffMs?: number;
  /** How many ids one pass takes at most. */
  batch?: number;
}

/** Takes up to ARGV[3] members due by ARGV[1] and pushes their score to ARGV[2] (a lease): no other replica takes them meanwhile. */
const CLAIM_DUE = `
local due = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1], 'LIMIT', 0, tonumber(ARGV[3]))
for _, member in ipairs(due) do redis.call('ZADD', KEYS[1], ARGV[2], member) end
return due`;

/** A member is `<first owed, ms>:<attempts>:<hold id>`. */
const memberOf = (since: number, attempts: number, id: string) => `${since}:${attempts}:${id}`;
function parse(member: string): { since: number; attempts: number; id: string } | undefined {
  const match = /^(\d+):(\d+):(.+)$/.exec(member);
  return match ? { since: Number(match[1]), attempts: Number(match[2]), id: match[3]! } : undefined;
}

export function createOwedReleases(options: OwedReleasesOptions): OwedReleases {
  const { redis, clock, logger } = options;
  const key = options.key ?? 'cart:owed-releases';
  const backoffMs = options.backoffMs ?? 1_000;
  const maxBackoffMs = options.maxBackoffMs ?? 30_000;
  const batch = options.batch ?? 50;
  const outcomes = options.metrics?.counter('cart_owed_releases_total', 'Hold releases the cart could not make at once, by what became of them', ['outcome']);
  const delay = (attempts: number) => Math.min(maxBackoffMs, backoffMs * 2 ** Math.max(0, attempts - 1));

  async function owe(id: string, since: number, attempts: number, error: unknown): Promise<void> {
    try {
      await redis.zadd(key, clock.now() + delay(attempts), memberOf(since, attempts, id));
      if (attempts === 1) outcomes?.inc({ outcome: 'owed' });
    } catch (redisError) {
      outcomes?.inc({ outcome: 'lost' });
      logger.warn({ err: redisError, cause: error, holdId: id }, 'hold release failed and could not be owed; the hold expires on its own');
    }
  }

  return {
    async release(id) {
      try {
        await options.releaseHold(id);
      } catch (error) {
        await owe(id, clock.now(), 1, error);
      }
    },

    async retryDue() {
      const now = clock.now();
      const due = (await redis.eval(CLAIM_DUE, 1, key, now, now + maxBackoffMs, batch)) as string[];
      let released = 0;
      await Promise.all(
        due.map(async (member) => {
          const owed = parse(member);
          if (!owed || now - owed.since > options.giveUpAfterMs) {
            await redis.zrem(key, member);
            outcomes?.inc({ outcome: 'expired' });
            return;
          }
          try {
            await options.releaseHold(owed.id);
            await redis.zrem(key, member);
            outcomes?.inc({ outcome: 'released' });
            released += 1;
          } catch (error) {
            await redis.zrem(key, member);
            await owe(owed.id, owed.since, owed.attempts + 1, error);
          }
        }),
      );
      return released;
    },

    async owed() {
      return (await redis.zrange(key, 0, -1)).flatMap((member) => parse(member)?.id ?? []);
    },
  };
}
