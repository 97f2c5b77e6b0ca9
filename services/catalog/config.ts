import { z } from 'zod';
import { adminTokenSchema, baseConfigShape } from '../kit/index.js';

const ms = (fallback: number) => z.coerce.number().int().min(0).default(fallback);

/** Catalog settings; defaults documented in the README's configuration table. */
export const catalogConfigShape = {
  ...baseConfigShape,
  ADMIN_TOKEN: adminTokenSchema,
  /** Served from cache without asking MongoDB for this long. */
  CATALOG_CACHE_FRESH_MS: ms(30_000),
  /** After that, served while one background refresh runs. */
  CATALOG_CACHE_REVALIDATE_MS: ms(60_000),
  /** Served when MongoDB fails, up to this age. */
  CATALOG_CACHE_STALE_IF_ERROR_MS: ms(86_400_000),
  CATALOG_CACHE_MAX_ENTRIES: z.coerce.number().int().min(100).default(20_000),
  /** `Cache-Control: max-age` for browsers and CDNs. */
  CATALOG_HTTP_MAX_AGE_S: z.coerce.number().int().min(0).default(30),
} as const;

export type CatalogConfig = Readonly<z.infer<z.ZodObject<typeof catalogConfigShape>>>;
