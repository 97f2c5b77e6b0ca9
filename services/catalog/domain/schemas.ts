import { z } from 'zod';
import { tryDecodeCursor } from './cursor.js';

const slug = z.string().regex(/^[a-z0-9]+(?:-[a-z0-9]+)*$/, 'must be lower-case words joined by hyphens').max(120);

export const moneySchema = z
  .object({
    amount: z.number().int('must be an integer number of minor units (cents)').min(0).max(100_000_000),
    currency: z.string().regex(/^[A-Z]{3}$/, 'must be an ISO 4217 code like EUR'),
  })
  .strict();

export const LIMITED_POLICIES = ['customers_only', 'per_client'] as const;
export type LimitedPolicy = (typeof LIMITED_POLICIES)[number];

/** A product as an admin writes it. Unknown fields are refused, not dropped. */
export const productInputSchema = z
  .object({
    sku: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/, 'must be 1-64 letters, digits, dot, dash or underscore'),
    slug: slug.refine((s) => !/^[0-9a-f]{24}$/.test(s), 'must not look like a product id'),
    name: z.string().trim().min(1).max(200),
    description: z.string().max(5_000).default(''),
    price: moneySchema,
    categories: z.array(slug).max(20).default([]),
    attributes: z.record(z.string().regex(/^[A-Za-z0-9_-]{1,40}$/), z.union([z.string().max(200), z.number(), z.boolean()])).default({}),
    images: z.array(z.object({ url: z.string().url().max(500), alt: z.string().max(200).default('') }).strict()).max(20).default([]),
    limitedQuantity: z.boolean().default(false),
    maxPerOrder: z.number().int().min(1).max(10_000).nullable().default(null),
    /** Guests and limited products: `per_client` (default) caps each client key, `customers_only` asks guests to sign in. */
    limitedPolicy: z.enum(LIMITED_POLICIES).default('per_client'),
  })
  .strict();

export type ProductInput = z.infer<typeof productInputSchema>;

export const productPatchSchema = productInputSchema.partial().strict();

export const bulkImportSchema = z.object({ products: z.array(productInputSchema).min(1).max(1_000) }).strict();

export const categoryInputSchema = z
  .object({ slug, name: z.string().trim().min(1).max(100), description: z.string().max(2_000).default(''), sortOrder: z.number().int().default(0) })
  .strict();

export const SORTS = ['name', '-name', 'price', '-price', 'newest'] as const;

/** Lower-case words of a text, as stored in `searchTerms` and matched by `?q=`. */
export function tokenize(text: string): string[] {
  return text.toLowerCase().split(/[^a-z0-9]+/).filter((t) => t.length > 0);
}

/**
 * A list query. The cursor is decoded here against the sort it is used with,
 * and `q` must contain a searchable word: both are 400s naming the parameter
 * before anything is loaded (issue 9, items 2 and 12).
 */
export const listQuerySchema = z
  .object({
    category: slug.optional(),
    minPrice: z.coerce.number().int().min(0).optional(),
    maxPrice: z.coerce.number().int().min(0).optional(),
    q: z.string().trim().min(1).max(100).optional(),
    sort: z.enum(SORTS).default('name'),
    limit: z.coerce.number().int().min(1).max(100).default(24),
    cursor: z.string().max(500).optional(),
    /** `true` adds `total`, the number of products matching the filters (one count query, cached like the page). */
    count: z.enum(['true', 'false']).optional(),
  })
  .strict()
  .superRefine((q, ctx) => {
    if (q.minPrice !== undefined && q.maxPrice !== undefined && q.minPrice > q.maxPrice) ctx.addIssue({ code: 'custom', message: 'must not exceed maxPrice', path: ['minPrice'] });
    if (q.q !== undefined && tokenize(q.q).length === 0) ctx.addIssue({ code: 'custom', message: 'must contain at least one letter or digit to search for', path: ['q'] });
    if (q.cursor !== undefined && !tryDecodeCursor(q.cursor, q.sort)) ctx.addIssue({ code: 'custom', message: 'is not a cursor this endpoint issued for this sort', path: ['cursor'] });
  });

export type ListQuery = z.infer<typeof listQuerySchema>;

export const idOrSlugSchema = z.object({ idOrSlug: z.string().regex(/^[a-z0-9-]{1,120}$/, 'must be a product id or slug') }).strict();
