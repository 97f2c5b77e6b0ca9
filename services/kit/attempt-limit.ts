import { RateLimiterRes, type RateLimiterAbstract } from 'rate-limiter-flexible';
import { AppError } from './errors.js';

/**
 * A 429 with Retry-After (whole seconds, at least 1) for a client or account
 * that has to wait `msBeforeNext`.
 */
export function tooManyAttempts(msBeforeNext: number, detail: string): AppError {
  const retryAfterS = Math.max(1, Math.ceil(msBeforeNext / 1000));
  return new AppError(429, 'too_many_requests', 'Too many requests', { detail, headers: { 'retry-after': String(retryAfterS) }, extra: { retryAfterS } });
}

/** A 503 for a limiter whose store (Redis) did not answer: the limit cannot be enforced, so the attempt waits. */
export function limiterUnavailable(cause: unknown): AppError {
  return new AppError(503, 'limiter_unavailable', 'Service unavailable', { detail: 'attempt limits cannot be checked right now', headers: { 'retry-after': '2' }, cause });
}

/**
 * Spends `points` of `key` on a rate-limiter-flexible limiter (shared by every
 * replica when it is a RateLimiterRedis). Over the limit: 429 + Retry-After;
 * store down: 503 + Retry-After.
 */
export async function consumeOrReject(limiter: RateLimiterAbstract, key: string, detail: string, points = 1): Promise<RateLimiterRes> {
  try {
    return await limiter.consume(key, points);
  } catch (error) {
    if (error instanceof RateLimiterRes) throw tooManyAttempts(error.msBeforeNext, detail);
    throw limiterUnavailable(error);
  }
}
