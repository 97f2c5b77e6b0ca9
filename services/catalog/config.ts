import { z } from 'zod';
import { adminCredentialShape, adminTokenSchema, baseConfigShape } from '../kit/index.js';

const ms = (fallback: number) => z.coerce.number().int().min(0).default(fallback);

/** Catalog settings; defaults documented in the README's configuration table. */
export const catalogConfigShape = {
  ...baseConfigShape,
  /** Admin routes: ADMIN_TOKEN_SHA256 (manifests) or ADMIN_TOKEN (local); catalog only verifies it. */
  ...adminCredentialShape,
  /** Served from cache without asking MongoDB for this long. */
  CATALOG_CACHE_FRESH_MS: ms(30_000),
  /** After that, served while one background refresh runs. */
  CATALOG_CACHE_REVALIDATE_MS: ms(60_000),
  /** Served when MongoDB fails, up to this age. */
  CATALOG_CACHE_STALE_IF_ERROR_MS: ms(86_400_000),
  CATALOG_CACHE_MAX_ENTRIES: z.coerce.number().int().min(100).default(20_000),
  /** `Cache-Control: max-age` for browsers and CDNs. */
  CATALOG_HTTP_MAX_AGE_S: z.coerce.number().int().min(0).default(30),
  /** Lists and product reads from an in-memory index of all products (catalog-index.ts); `off` = from the database. */
  CATALOG_INDEX: z.enum(['on', 'off']).default('on'),
  /** The index reads every product again this often (catches writes that did not go through the API). */
  CATALOG_INDEX_REFRESH_MS: z.coerce.number().int().min(10_000).default(900_000),
  /** How often a replica checks that it has seen every change message (a lost one means a full load). */
  CATALOG_INDEX_CHECK_MS: z.coerce.number().int().min(100).default(5_000),
  /** Inventory, for availability of limited products on catalog reads; unset = no availability. */
  INVENTORY_URL: z.string().url().optional(),
  /** Inventory's INTERNAL_TOKEN (a service token, not the admin token); needed with INVENTORY_URL. */
  INVENTORY_TOKEN: adminTokenSchema.optional(),
  /** How long availability is reused per SKU (and the max-age of answers carrying it). */
  CATALOG_AVAILABILITY_TTL_MS: z.coerce.number().int().min(100).max(60_000).default(1_500),
  /** Deadline of one availability read; past it the page goes out without availability. */
  CATALOG_AVAILABILITY_TIMEOUT_MS: z.coerce.number().int().min(10).max(5_000).default(300),
} as const;

export type CatalogConfig = Readonly<z.infer<z.ZodObject<typeof catalogConfigShape>>>;
