import { createHash, timingSafeEqual } from 'node:crypto';
import type { Context, Middleware, Next } from 'koa';
import { unauthorized } from './errors.js';

const digest = (value: string) => createHash('sha256').update(value).digest();

/** Reads `Authorization: Bearer <token>`. */
export function bearerToken(ctx: Context): string {
  const header = ctx.get('authorization');
  return header.startsWith('Bearer ') ? header.slice(7).trim() : '';
}

/**
 * The SHA-256 a bearer token is checked against: `sha256Hex` when the service
 * was given only the digest (`<TOKEN>_SHA256`), else the digest of `token`.
 * loadConfig guarantees one of them (kit/config.ts, tokenSha256Schema).
 */
export function tokenDigest(token: string | undefined, sha256Hex: string | undefined): Buffer {
  if (sha256Hex) return Buffer.from(sha256Hex, 'hex');
  if (token) return digest(token);
  throw new Error('neither the token nor its SHA-256 is configured');
}

/** The admin digest of a service config (ADMIN_TOKEN_SHA256, else ADMIN_TOKEN). */
export const adminTokenDigest = (config: { ADMIN_TOKEN?: string; ADMIN_TOKEN_SHA256?: string }) => tokenDigest(config.ADMIN_TOKEN, config.ADMIN_TOKEN_SHA256);

/** True when the request's bearer token has one of the `expected` SHA-256 digests (constant-time compares, every one made). */
export function bearerMatches(ctx: Context, expected: Buffer | readonly Buffer[]): boolean {
  const given = bearerToken(ctx);
  if (!given) return false;
  const hash = digest(given);
  return (Array.isArray(expected) ? expected : [expected]).map((candidate: Buffer) => timingSafeEqual(hash, candidate)).some(Boolean);
}

/**
 * Guards routes with bearer tokens known by their SHA-256 digests (the service
 * need not hold the token itself), compared in constant time over hashes, so
 * length does not leak either. 401 when missing or wrong.
 */
export function requireTokenDigest(expected: Buffer | readonly Buffer[], detail?: string): Middleware {
  return async function requireTokenDigestMiddleware(ctx: Context, next: Next) {
    if (!bearerMatches(ctx, expected)) throw unauthorized(detail);
    ctx.state.admin = true;
    await next();
  };
}

/** Guards routes with a shared token the service holds (e.g. the service token at its callees). */
export function requireAdmin(adminToken: string): Middleware {
  return requireTokenDigest(digest(adminToken));
}
