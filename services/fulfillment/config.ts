import { z } from 'zod';
import { adminCredentialShape, adminTokenSchema, baseConfigShape } from '../kit/index.js';

const int = (min: number, max: number, fallback: number) => z.coerce.number().int().min(min).max(max).default(fallback);

/** Fulfillment worker settings (docs/checkout.md, "Fulfillment"). */
export const fulfillmentConfigShape = {
  ...baseConfigShape,
  /** Dashboard and dead letters: ADMIN_TOKEN_SHA256 (manifests) or ADMIN_TOKEN (local); only verified here. */
  ...adminCredentialShape,
  /** Service token for checkout's internal order-status route; a secret of its own, no default (never the admin token). */
  INTERNAL_TOKEN: adminTokenSchema,
  CHECKOUT_URL: z.string().url().default('http://checkout:8080'),
  /** Same prefix as checkout's. */
  QUEUE_PREFIX: z.string().regex(/^[a-z0-9:_-]{1,40}$/i).default('bull'),
  /** Jobs one replica runs at once. */
  FULFILLMENT_CONCURRENCY: int(1, 100, 4),
  /** At most this many carrier bookings per FULFILLMENT_RATE_WINDOW_MS, for all replicas together (Bull's limiter). */
  FULFILLMENT_RATE_MAX: int(1, 100_000, 50),
  FULFILLMENT_RATE_WINDOW_MS: int(10, 3_600_000, 1_000),
  /** A job whose worker died (stopped renewing its lock) runs again after this. */
  FULFILLMENT_LOCK_MS: int(1_000, 600_000, 30_000),
  /** Simulated carrier API: latency and failure rate (0..1) of a booking. */
  CARRIER_SIM_LATENCY_MS: int(0, 60_000, 20),
  CARRIER_SIM_FAILURE_RATE: z.coerce.number().min(0).max(1).default(0),
  CALL_TIMEOUT_MS: int(50, 30_000, 2_000),
} as const;

export type FulfillmentConfig = Readonly<z.infer<z.ZodObject<typeof fulfillmentConfigShape>>>;
