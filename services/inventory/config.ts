import { z } from 'zod';
import { adminCredentialShape, adminTokenSchema, baseConfigShape, tokenSha256Schema } from '../kit/index.js';

const int = (min: number, max: number, fallback: number) => z.coerce.number().int().min(min).max(max).default(fallback);

/** Inventory settings. Every default is documented here and in docs/carts.md. */
export const inventoryConfigShape = {
  ...baseConfigShape,
  /** Admin API: set/adjust stock, audit, invariant check. ADMIN_TOKEN_SHA256 (manifests) or ADMIN_TOKEN (local). */
  ...adminCredentialShape,
  /**
   * Service-to-service token for holds, stock and availability reads (callers send it as INVENTORY_TOKEN);
   * a secret of its own, no default. Inventory only verifies it, so the manifests give it INTERNAL_TOKEN_SHA256.
   */
  INTERNAL_TOKEN: adminTokenSchema.optional(),
  INTERNAL_TOKEN_SHA256: tokenSha256Schema('INTERNAL_TOKEN'),
  /** Hold lifetime when the caller does not ask for one (15 min). */
  HOLD_DEFAULT_TTL_S: int(1, 86_400, 900),
  /** Longest hold lifetime a caller may ask for (1 h). */
  HOLD_MAX_TTL_S: int(1, 86_400, 3_600),
  /** Pause between sweeps of expired holds, per replica (jittered). */
  HOLD_SWEEP_INTERVAL_MS: int(100, 600_000, 5_000),
  /** Most holds one sweep pass claims. */
  HOLD_SWEEP_BATCH: int(1, 10_000, 500),
  /** A hold left in releasing/committing/expiring this long is finished by a sweeper (its worker died). */
  HOLD_STUCK_AFTER_MS: int(1_000, 3_600_000, 30_000),
  /** A hold still `pending` this long after its expiry is expired by a sweeper (its reserve never finished). */
  HOLD_PENDING_GRACE_MS: int(1_000, 3_600_000, 60_000),
  /** Pause between reconcile passes (orphaned reservations, stuck audit entries). */
  STOCK_RECONCILE_INTERVAL_MS: int(1_000, 3_600_000, 60_000),
  /** Lease of the per-SKU write lock in Redis; a replica that dies holding it frees it after this long. */
  STOCK_LOCK_TTL_MS: int(1_000, 60_000, 10_000),
  /** Longest wait for a busy SKU before answering 503 with Retry-After. */
  STOCK_LOCK_WAIT_MS: int(10, 60_000, 5_000),
  /** Longest life of a SKU's availability gate in Redis before it is rebuilt from the database (domain/gate.ts). */
  STOCK_GATE_TTL_S: int(1, 86_400, 60),
  /** Released, expired and rejected holds are deleted this long after they ended (committed ones are kept: they count toward per-customer limits). */
  HOLD_RETENTION_S: int(60, 365 * 86_400, 7 * 86_400),
} as const;

export type InventoryConfig = Readonly<z.infer<z.ZodObject<typeof inventoryConfigShape>>>;
