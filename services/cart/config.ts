import { z } from 'zod';
import { adminTokenSchema, baseConfigShape } from '../kit/index.js';

const int = (min: number, max: number, fallback: number) => z.coerce.number().int().min(min).max(max).default(fallback);
const url = (fallback: string) => z.string().url().default(fallback);

/** Cart settings; the five cart questions map to these (docs/carts.md). */
export const cartConfigShape = {
  ...baseConfigShape,
  /** Token sent to inventory's internal API: inventory's INTERNAL_TOKEN, never the admin token (cart has no admin routes). */
  INVENTORY_TOKEN: adminTokenSchema,
  /** HMAC key of customer tokens issued by the sign-in service; a secret of its own. */
  CUSTOMER_TOKEN_SECRET: adminTokenSchema,
  CATALOG_URL: url('http://catalog:8080'),
  INVENTORY_URL: url('http://inventory:8080'),
  /** Per-attempt deadline of calls to catalog and inventory. */
  CART_CALL_TIMEOUT_MS: int(50, 30_000, 1_500),
  /** How long a product read from catalog is reused for adds and views (0: never). In a rush every add of one product shares one catalog call per period. */
  CART_PRODUCT_CACHE_MS: int(0, 60_000, 1_000),
  /**
   * After inventory answered "none left" for a limited SKU, further adds of it are answered 409 by this
   * replica without locking the cart or calling inventory, for this long (0: off). In a doorbuster the
   * thousands of late attempts then cost almost nothing; a unit released meanwhile is offered again
   * at most this much later.
   */
  CART_SOLD_OUT_MEMO_MS: int(0, 10_000, 1_000),
  /**
   * Life of a cart's copy in Redis after its last write (0: no copies). Writes and views read the copy
   * instead of the database (domain/cart-cache.ts); the database stays the authority.
   */
  CART_CACHE_TTL_S: int(0, 86_400, 600),
  /** Q1: hold time of a limited-quantity line after the last cart activity (15 min). */
  CART_HOLD_TTL_S: int(10, 86_400, 900),
  /** Q2: an anonymous cart is deleted this long after its last activity (30 days). */
  CART_ANON_TTL_DAYS: int(1, 3_650, 30),
  /** Q2: a customer's cart is deleted this long after its last activity (180 days). */
  CART_CUSTOMER_TTL_DAYS: int(1, 3_650, 180),
  /** Pause between cart expiry sweeps, per replica (jittered). */
  CART_SWEEP_INTERVAL_MS: int(100, 3_600_000, 60_000),
  CART_SWEEP_BATCH: int(1, 10_000, 200),
  /** Q4: most distinct lines in a cart. */
  CART_MAX_LINES: int(1, 1_000, 50),
  /** Q4: most units in a cart, all lines together. */
  CART_MAX_UNITS: int(1, 100_000, 200),
  /** Q4/Q5: most units of one product in one line when the product sets no maxPerOrder. */
  CART_MAX_LINE_QUANTITY: int(1, 100_000, 99),
  /** Q5: most units of one limited-quantity SKU a customer may hold and buy, carts and orders together. */
  CART_LIMITED_MAX_PER_CUSTOMER: int(1, 100_000, 5),
  /** Most units of one `per_client` limited SKU that guest carts of one client key (IP) may hold and buy together. */
  CART_LIMITED_MAX_PER_CLIENT: int(1, 100_000, 5),
} as const;

export type CartConfig = Readonly<z.infer<z.ZodObject<typeof cartConfigShape>>>;
