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
 * Guards admin routes with a shared token, compared in constant time (over
 * hashes, so length does not leak either). 401 when missing or wrong.
 */
export function requireAdmin(adminToken: string): Middleware {
  const expected = digest(adminToken);
  return async function requireAdminMiddleware(ctx: Context, next: Next) {
    const given = bearerToken(ctx);
    if (!given || !timingSafeEqual(digest(given), expected)) throw unauthorized();
    ctx.state.admin = true;
    await next();
  };
}
