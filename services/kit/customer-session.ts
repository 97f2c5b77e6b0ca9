import { createHash } from 'node:crypto';
import type { Context, Middleware, Next } from 'koa';
import type { Redis } from 'ioredis';
import { bearerToken } from './auth.js';
import { AppError, unauthorized } from './errors.js';
import { isCustomerTokenForm, verifyCustomerTokenClaims } from './customer-token.js';

/**
 * Revocation of customer tokens (sign-out, refresh). Tokens are verified
 * offline by every service, so a revoked token is remembered in Redis by the
 * SHA-256 of the token until the token would have expired anyway: the deny-list
 * never outgrows the set of live tokens, and every replica of every service sees
 * it at once (issue 11).
 */
const revokedKey = (token: string) => `custtok:revoked:${createHash('sha256').update(token).digest('base64url')}`;

const sessionsUnavailable = (cause: unknown) =>
  new AppError(503, 'sessions_unavailable', 'Service unavailable', { detail: 'customer sessions cannot be checked right now', headers: { 'retry-after': '2' }, cause });

/**
 * Marks `token` revoked until `expiresAtMs`. Resolves false when it already was:
 * SET NX makes a refresh or sign-out single-use even when two replicas race.
 */
export async function revokeCustomerToken(redis: Redis, token: string, expiresAtMs: number, nowMs: number): Promise<boolean> {
  const ttlMs = Math.max(1_000, expiresAtMs - nowMs + 1_000);
  try {
    return (await redis.set(revokedKey(token), '1', 'PX', ttlMs, 'NX')) === 'OK';
  } catch (error) {
    throw sessionsUnavailable(error);
  }
}

/**
 * True when `token` was revoked (signed out or refreshed). Throws a 503 with
 * Retry-After when Redis cannot answer: failing open would let a signed-out
 * token act for its customer, failing with a 500 would hide the cause.
 */
export async function isCustomerTokenRevoked(redis: Redis, token: string): Promise<boolean> {
  try {
    return (await redis.exists(revokedKey(token))) === 1;
  } catch (error) {
    throw sessionsUnavailable(error);
  }
}

/** A verified, unrevoked customer token and its claims. */
export interface CustomerSession {
  customerId: string;
  expiresAtMs: number;
  token: string;
}

/**
 * The customer behind `Authorization: Bearer <customer token>`: null without a
 * bearer token, 401 when it is invalid, expired or revoked.
 */
export async function customerSessionOf(ctx: Context, options: { key: Buffer; redis: Redis; nowMs: number }): Promise<CustomerSession | null> {
  const token = bearerToken(ctx);
  if (!token) return null;
  const claims = verifyCustomerTokenClaims(options.key, token, options.nowMs);
  if (!claims || (await isCustomerTokenRevoked(options.redis, token))) throw unauthorized('The customer token is invalid, expired or signed out');
  return { ...claims, token };
}

/**
 * Refuses a revoked customer token with 401 on every route of a router, before
 * any handler or idempotency replay runs: for services that verify customer
 * tokens offline on their own (cart, checkout). Bearer tokens that are not
 * customer tokens (`v1.`/`v2.` prefix) pass without a Redis round trip, so admin and
 * service calls do not depend on Redis here.
 */
export function refuseRevokedCustomerTokens(redis: Redis): Middleware {
  return async function refuseRevokedCustomerTokensMiddleware(ctx: Context, next: Next) {
    const token = bearerToken(ctx);
    if (isCustomerTokenForm(token) && (await isCustomerTokenRevoked(redis, token))) throw unauthorized('The customer token is invalid, expired or signed out');
    await next();
  };
}
