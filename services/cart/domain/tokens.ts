import { createHash, randomBytes } from 'node:crypto';

/** A new cart token (256 random bits) and the hash we store instead of it. */
export function newCartToken(): { token: string; hash: string } {
  const token = randomBytes(32).toString('base64url');
  return { token, hash: hashCartToken(token) };
}

export const hashCartToken = (token: string) => createHash('sha256').update(token).digest('hex');
