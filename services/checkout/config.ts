import { z } from 'zod';
import { adminCredentialShape, adminTokenSchema, baseConfigShape } from '../kit/index.js';

const int = (min: number, max: number, fallback: number) => z.coerce.number().int().min(min).max(max).default(fallback);
const rate = z.coerce.number().min(0).max(1).default(0);
const flag = z.enum(['0', '1', 'true', 'false']).default('0').transform((value) => value === '1' || value === 'true');

/** Checkout settings (docs/checkout.md). */
export const checkoutConfigShape = {
  ...baseConfigShape,
  /** Admin routes and admin order reads: ADMIN_TOKEN_SHA256 (manifests) or ADMIN_TOKEN (local); checkout only verifies it. */
  ...adminCredentialShape,
  /** Service token: sent to inventory's and cart's internal routes, verified on the fulfillment worker's status route (a secret of its own). */
  INTERNAL_TOKEN: adminTokenSchema,
  /** HMAC key of customer tokens, the same as the customers service's. */
  CUSTOMER_TOKEN_SECRET: adminTokenSchema,
  CART_URL: z.string().url().default('http://cart:8080'),
  INVENTORY_URL: z.string().url().default('http://inventory:8080'),
  CHECKOUT_CALL_TIMEOUT_MS: int(50, 30_000, 2_000),
  /** How long an Idempotency-Key replays its answer. */
  IDEMPOTENCY_TTL_S: int(60, 30 * 86_400, 86_400),
  /** A checkout still `pending` this long after its last step is moved forward or compensated by recovery. */
  CHECKOUT_STUCK_AFTER_MS: int(100, 3_600_000, 15_000),
  CHECKOUT_RECOVERY_INTERVAL_MS: int(100, 3_600_000, 5_000),
  /** An order whose checkout began this long ago and is still pending (or failed and not compensated) counts as stuck (`checkout_orders_stuck`, alert `OrdersStuck`). */
  CHECKOUT_STUCK_ALERT_AFTER_MS: int(1_000, 86_400_000, 300_000),
  OUTBOX_RELAY_INTERVAL_MS: int(50, 3_600_000, 500),
  /**
   * A paid (or fulfilling) order whose fulfillment job was published, or last found in the queue,
   * this long ago is looked up in the queue, and published again when its job is gone (lost with a
   * failed-over Redis primary). Checked every CHECKOUT_RECOVERY_INTERVAL_MS.
   */
  OUTBOX_RESEND_AFTER_MS: int(100, 86_400_000, 60_000),
  /** Key prefix of the Bull queues in Redis (the fulfillment worker must use the same). */
  QUEUE_PREFIX: z.string().regex(/^[a-z0-9:_-]{1,40}$/i).default('bull'),
  /** Simulated payment provider: latency per call, decline and timeout rates (0..1), outage switch. */
  PAYMENT_SIM_LATENCY_MS: int(0, 60_000, 30),
  PAYMENT_SIM_DECLINE_RATE: rate,
  PAYMENT_SIM_TIMEOUT_RATE: rate,
  PAYMENT_SIM_OUTAGE: flag,
  /** The adapter gives up on a provider call after this long (the outcome is then unknown). */
  PAYMENT_TIMEOUT_MS: int(50, 120_000, 5_000),
} as const;

export type CheckoutConfig = Readonly<z.infer<z.ZodObject<typeof checkoutConfigShape>>>;
