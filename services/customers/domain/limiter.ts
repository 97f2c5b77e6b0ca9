import { createHash } from 'node:crypto';
import { RateLimiterRedis, RateLimiterRes } from 'rate-limiter-flexible';
import { limiterUnavailable, tooManyAttempts, type Redis } from '../../kit/index.js';
import type { CustomersConfig } from '../config.js';

/**
 * Slows down password guessing, per account and per client, with counters in
 * Redis so every replica sees the same failures (rate-limiter-flexible's
 * "login endpoint protection" recipe). An account or client that reaches its
 * failure budget within the window is blocked for CUSTOMERS_BLOCK_S: even the
 * right password gets 429 then, so the block cannot be used as an oracle.
 * Unknown emails count like known ones (no enumeration).
 */
export interface SignInLimiter {
  /** Throws 429 + Retry-After when the account or the client is blocked. */
  assertAllowed(email: string, client: string): Promise<void>;
  /** Counts a failure for both; blocks whichever reached its budget. */
  recordFailure(email: string, client: string): Promise<void>;
  /** Counts a failure for the client only (e.g. signing up with a taken email). */
  recordClientFailure(client: string): Promise<void>;
  /** A successful sign-in clears the account's count (the client's stays). */
  recordSuccess(email: string): Promise<void>;
}

// Emails stay out of Redis keys.
const accountKey = (email: string) => createHash('sha256').update(email).digest('base64url');

export function createSignInLimiter(redis: Redis, config: CustomersConfig, prefix = 'customers'): SignInLimiter {
  const common = { storeClient: redis, duration: config.CUSTOMERS_FAIL_WINDOW_S, blockDuration: config.CUSTOMERS_BLOCK_S };
  const byAccount = new RateLimiterRedis({ ...common, keyPrefix: `${prefix}:signin-fail:account`, points: config.CUSTOMERS_MAX_FAILS_PER_ACCOUNT });
  const byClient = new RateLimiterRedis({ ...common, keyPrefix: `${prefix}:signin-fail:client`, points: config.CUSTOMERS_MAX_FAILS_PER_CLIENT });

  async function fail(limiter: RateLimiterRedis, key: string): Promise<void> {
    let res: RateLimiterRes;
    try {
      res = await limiter.consume(key);
    } catch (error) {
      // Past the budget: consume() has already blocked the key for blockDuration.
      if (error instanceof RateLimiterRes) return;
      throw error;
    }
    // Block as soon as the budget is spent, so the next attempt is refused before any password check.
    if (res.consumedPoints >= limiter.points) await limiter.block(key, config.CUSTOMERS_BLOCK_S);
  }

  const guarded = async <T>(run: () => Promise<T>) => {
    try {
      return await run();
    } catch (error) {
      throw limiterUnavailable(error);
    }
  };

  return {
    async assertAllowed(email, client) {
      const [account, fromClient] = await guarded(() => Promise.all([byAccount.get(accountKey(email)), byClient.get(client)]));
      const waits = [account && account.consumedPoints >= byAccount.points ? account.msBeforeNext : 0, fromClient && fromClient.consumedPoints >= byClient.points ? fromClient.msBeforeNext : 0];
      const wait = Math.max(...waits);
      if (wait > 0) throw tooManyAttempts(wait, 'Too many failed sign-ins; wait before trying again');
    },
    recordFailure: (email, client) => guarded(async () => void (await Promise.all([fail(byAccount, accountKey(email)), fail(byClient, client)]))),
    recordClientFailure: (client) => guarded(() => fail(byClient, client)),
    recordSuccess: (email) => guarded(async () => void (await byAccount.delete(accountKey(email)))),
  };
}
