import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

/** A new cart token (256 random bits) and the hash we store instead of it. */
export function newCartToken(): { token: string; hash: string } {
  const token = randomBytes(32).toString('base64url');
  return { token, hash: hashCartToken(token) };
}

export const hashCartToken = (token: string) => createHash('sha256').update(token).digest('hex');

/** The key for customer tokens: the configured secret, or one derived from ADMIN_TOKEN for local stacks. */
export function customerTokenKey(secret: string | undefined, adminToken: string): Buffer {
  return secret ? Buffer.from(secret) : createHmac('sha256', adminToken).update('customer-token-v1').digest();
}

/**
 * Customer tokens are issued by the sign-in service (not part of this repo):
 * `v1.<base64url customerId>.<expiry epoch s>.<base64url HMAC-SHA256 of the rest>`.
 */
export function signCustomerToken(key: Buffer, customerId: string, expiresAtMs: number): string {
  const body = `v1.${Buffer.from(customerId).toString('base64url')}.${Math.floor(expiresAtMs / 1000)}`;
  return `${body}.${createHmac('sha256', key).update(body).digest('base64url')}`;
}

/** The customer id of a valid, unexpired token, else null. */
export function verifyCustomerToken(key: Buffer, token: string, nowMs: number): string | null {
  const parts = token.split('.');
  if (parts.length !== 4 || parts[0] !== 'v1') return null;
  const body = parts.slice(0, 3).join('.');
  const expected = createHmac('sha256', key).update(body).digest();
  const given = Buffer.from(parts[3], 'base64url');
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) return null;
  if (Number(parts[2]) * 1000 <= nowMs) return null;
  const customerId = Buffer.from(parts[1], 'base64url').toString();
  return /^[A-Za-z0-9_-]{1,64}$/.test(customerId) ? customerId : null;
}
