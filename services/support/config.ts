import { z } from 'zod';
import { adminCredentialShape, adminTokenSchema, baseConfigShape } from '../kit/index.js';

const int = (min: number, max: number, fallback: number) => z.coerce.number().int().min(min).max(max).default(fallback);

/** Support settings (docs/customers.md, "Support"). */
export const supportConfigShape = {
  ...baseConfigShape,
  /** Guards the admin routes (FAQ edits, ticket handling): ADMIN_TOKEN_SHA256 (manifests) or ADMIN_TOKEN (local); only verified here. */
  ...adminCredentialShape,
  /** HMAC key of customer tokens (verifies signed-in shoppers); the same as the customers service's. */
  CUSTOMER_TOKEN_SECRET: adminTokenSchema,
  /** Checkout answers whether an order belongs to the shopper opening a ticket. */
  CHECKOUT_URL: z.string().url().default('http://checkout:8080'),
  SUPPORT_CALL_TIMEOUT_MS: int(50, 30_000, 2_000),
  /** FAQ reads: served from cache without a database read for this long. */
  SUPPORT_FAQ_CACHE_FRESH_MS: int(0, 3_600_000, 30_000),
  /** Then served while one background refresh runs (stale-while-revalidate). */
  SUPPORT_FAQ_CACHE_REVALIDATE_MS: int(0, 3_600_000, 60_000),
  /** Served when MongoDB fails, up to this age (stale-if-error; 1 day). */
  SUPPORT_FAQ_CACHE_STALE_IF_ERROR_MS: int(0, 7 * 86_400_000, 86_400_000),
  /** Browser/CDN max-age of FAQ reads. */
  SUPPORT_FAQ_HTTP_MAX_AGE_S: int(0, 86_400, 30),
  /** Tickets one client may open per window (then 429 + Retry-After). */
  SUPPORT_TICKETS_PER_CLIENT: int(1, 10_000, 5),
  SUPPORT_TICKETS_WINDOW_S: int(1, 86_400, 3_600),
  /** Pause between outbox relay passes (outbox -> Bull queue `support-mail`), per replica. */
  SUPPORT_OUTBOX_INTERVAL_MS: int(50, 600_000, 1_000),
  SUPPORT_OUTBOX_BATCH: int(1, 1_000, 50),
  /**
   * A mail still `queued` this long after its job was queued (or last found in the queue) is looked
   * up in the queue and queued again when its job is gone (lost with a failed-over Redis primary).
   */
  SUPPORT_OUTBOX_RESEND_AFTER_MS: int(100, 86_400_000, 60_000),
  /** Pause between resend passes, per replica. */
  SUPPORT_OUTBOX_RESEND_INTERVAL_MS: int(50, 3_600_000, 5_000),
  /** Run the (simulated) mail worker in this process. */
  SUPPORT_MAIL_WORKER: z.enum(['true', 'false']).default('true').transform((v) => v === 'true'),
} as const;

export type SupportConfig = Readonly<z.infer<z.ZodObject<typeof supportConfigShape>>>;
