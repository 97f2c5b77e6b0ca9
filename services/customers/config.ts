import { z } from 'zod';
import { adminTokenSchema, baseConfigShape } from '../kit/index.js';

const int = (min: number, max: number, fallback: number) => z.coerce.number().int().min(min).max(max).default(fallback);
const url = (fallback: string) => z.string().url().default(fallback);

/** Customers settings (docs/customers.md). */
export const customersConfigShape = {
  ...baseConfigShape,
  /** HMAC key of customer tokens (a secret of its own); must equal the cart's, checkout's and support's. */
  CUSTOMER_TOKEN_SECRET: adminTokenSchema,
  CART_URL: url('http://cart:8080'),
  CHECKOUT_URL: url('http://checkout:8080'),
  /** Per-attempt deadline of calls to cart and checkout. */
  CUSTOMERS_CALL_TIMEOUT_MS: int(50, 30_000, 2_000),
  /** Lifetime of a customer token (1 day); refresh before it ends. */
  CUSTOMER_TOKEN_TTL_S: int(60, 30 * 86_400, 86_400),
  /**
   * scrypt cost as log2(N): 14 = 16 MiB per hash (r=8, p=1). Up to 4 hashes run at
   * once (libuv's pool), which fits the dev pods' 192 MiB; raise it where pods have more memory.
   * Stored with each hash, so raising it keeps existing passwords valid.
   */
  CUSTOMERS_SCRYPT_LOG_N: int(10, 20, 14),
  /** Failed sign-ins per account (email) before it is blocked for CUSTOMERS_BLOCK_S. */
  CUSTOMERS_MAX_FAILS_PER_ACCOUNT: int(1, 1_000, 5),
  /** Failed sign-ins (and duplicate sign-ups) per client before it is blocked for CUSTOMERS_BLOCK_S. */
  CUSTOMERS_MAX_FAILS_PER_CLIENT: int(1, 10_000, 20),
  /** Window in which failures are counted. */
  CUSTOMERS_FAIL_WINDOW_S: int(1, 86_400, 900),
  /** How long a blocked account or client waits (429 + Retry-After). */
  CUSTOMERS_BLOCK_S: int(1, 86_400, 900),
} as const;

export type CustomersConfig = Readonly<z.infer<z.ZodObject<typeof customersConfigShape>>>;
