import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

/**
 * Customer tokens: issued by the customers service at sign-in, verified by
 * every service that acts for a customer (cart, checkout, support):
 * `v2.<base64url customerId>.<expiry epoch s>.<base64url session id>.<base64url HMAC-SHA256 of the rest>`.
 * The random session id makes every token unique: two sign-ins of one customer in
 * the same second used to get the same `v1` token (no session id), so signing out
 * one device signed out the other. `v1` tokens issued before still verify until
 * they expire.
 */

/** True when a bearer token has the form of a customer token (so it is worth a revocation check). */
export const isCustomerTokenForm = (token: string) => token.startsWith('v2.') || token.startsWith('v1.');

/**
 * The key for customer tokens: CUSTOMER_TOKEN_SECRET, a secret of its own in
 * every service that signs or verifies them, never derived from ADMIN_TOKEN
 * (issue 9, item 9); the local stack and the manifests provide it.
 */
export function customerTokenKey(secret: string): Buffer {
  return Buffer.from(secret);
}

/** Signs a token for `customerId` that expires at `expiresAtMs`. */
export function signCustomerToken(key: Buffer, customerId: string, expiresAtMs: number): string {
  const body = `v2.${Buffer.from(customerId).toString('base64url')}.${Math.floor(expiresAtMs / 1000)}.${randomBytes(12).toString('base64url')}`;
  return `${body}.${createHmac('sha256', key).update(body).digest('base64url')}`;
}

/**
 * Decodes base64url only in its canonical form: Node's decoder ignores padding
 * bits, `=`, stray characters and accepts `+/`, so a token could be altered
 * without changing what it decodes to (issue 9, item 8).
 */
function strictBase64url(text: string): Buffer | null {
  if (!/^[A-Za-z0-9_-]+$/.test(text)) return null;
  const bytes = Buffer.from(text, 'base64url');
  return bytes.toString('base64url') === text ? bytes : null;
}

/** Parsed claims of a valid, unexpired token in its one canonical encoding, else null. */
export function verifyCustomerTokenClaims(key: Buffer, token: string, nowMs: number): { customerId: string; expiresAtMs: number } | null {
  const parts = token.split('.');
  const version = parts[0] === 'v2' && parts.length === 5 ? 2 : parts[0] === 'v1' && parts.length === 4 ? 1 : 0;
  if (!version || !/^\d{1,12}$/.test(parts[2] ?? '')) return null;
  if (version === 2 && strictBase64url(parts[3] ?? '')?.length !== 12) return null;
  const given = strictBase64url(parts.at(-1) ?? '');
  const id = strictBase64url(parts[1] ?? '');
  if (!given || !id) return null;
  const expected = createHmac('sha256', key).update(parts.slice(0, -1).join('.')).digest();
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) return null;
  const expiresAtMs = Number(parts[2]) * 1000;
  if (expiresAtMs <= nowMs) return null;
  const customerId = id.toString();
  return /^[A-Za-z0-9_-]{1,64}$/.test(customerId) ? { customerId, expiresAtMs } : null;
}

/** The customer id of a valid, unexpired, canonically encoded token, else null. */
export function verifyCustomerToken(key: Buffer, token: string, nowMs: number): string | null {
  return verifyCustomerTokenClaims(key, token, nowMs)?.customerId ?? null;
}
