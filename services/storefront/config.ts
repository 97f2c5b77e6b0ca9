import { z } from 'zod';
import { baseConfigShape } from '../kit/index.js';

const { MONGODB_URI: _mongo, REDIS_URL: _redis, ...serving } = baseConfigShape;

/** The storefront page needs no database: it only serves its files; the browser calls the public APIs. */
export const storefrontConfigShape = {
  ...serving,
  /** `Cache-Control: max-age` of the page's scripts and styles (the page itself is always revalidated). */
  STOREFRONT_ASSET_MAX_AGE_S: z.coerce.number().int().min(0).max(86_400).default(300),
} as const;

export type StorefrontConfig = Readonly<z.infer<z.ZodObject<typeof storefrontConfigShape>>>;
