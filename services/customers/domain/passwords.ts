import { randomBytes, scrypt, timingSafeEqual, type ScryptOptions } from 'node:crypto';

/**
 * Password hashing with node's scrypt (memory-hard). Each hash carries its own
 * parameters, so the cost can be raised without invalidating existing hashes.
 */
export interface PasswordHasher {
  hash(password: string): Promise<string>;
  /** True when `password` matches `stored`; a malformed `stored` is simply false. */
  verify(password: string, stored: string): Promise<boolean>;
  /** A hash of a random password: verified against for unknown emails, so both cases cost the same. */
  readonly dummyHash: Promise<string>;
}

const KEY_LENGTH = 32;
const R = 8;
const P = 1;

function derive(password: string, salt: Buffer, logN: number, r: number, p: number): Promise<Buffer> {
  const N = 2 ** logN;
  // maxmem must exceed 128 * N * r, which node's 32 MiB default does not for logN >= 15.
  const options: ScryptOptions = { N, r, p, maxmem: 256 * N * r };
  return new Promise((resolve, reject) => scrypt(password.normalize('NFKC'), salt, KEY_LENGTH, options, (error, key) => (error ? reject(error) : resolve(key))));
}

export function createPasswordHasher(logN: number): PasswordHasher {
  const hash = async (password: string) => {
    const salt = randomBytes(16);
    const key = await derive(password, salt, logN, R, P);
    return `scrypt$${logN}$${R}$${P}$${salt.toString('base64url')}$${key.toString('base64url')}`;
  };
  let dummy: Promise<string> | undefined;
  return {
    hash,
    async verify(password, stored) {
      const [scheme, n, r, p, salt, expected] = stored.split('$');
      if (scheme !== 'scrypt' || !salt || !expected) return false;
      const key = await derive(password, Buffer.from(salt, 'base64url'), Number(n), Number(r), Number(p));
      const want = Buffer.from(expected, 'base64url');
      return key.length === want.length && timingSafeEqual(key, want);
    },
    get dummyHash() {
      dummy ??= hash(randomBytes(24).toString('base64url'));
      return dummy;
    },
  };
}
