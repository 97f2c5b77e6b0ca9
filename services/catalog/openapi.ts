import { z } from 'zod';
import { ApiDoc } from '../kit/index.js';
import { bulkImportSchema, categoryInputSchema, idOrSlugSchema, listQuerySchema, moneySchema, productInputSchema, productPatchSchema } from './domain/schemas.js';

const productSchema = productInputSchema.extend({
  id: z.string(),
  price: moneySchema,
  createdAt: z.string().datetime(),
  updatedAt: z.string().datetime(),
}).passthrough();
const idParams = z.object({ id: z.string() });
const slugParams = z.object({ slug: z.string() });
const categorySchema = categoryInputSchema.passthrough();

/** The catalog's operations, described with the schemas its routes validate with. */
export function catalogApiDoc(): ApiDoc {
  const cached = 'Cached: `ETag`/`If-None-Match` (304), `Cache-Control` with `stale-while-revalidate` and `stale-if-error`, `X-Cache` says where it came from.';
  return new ApiDoc({ service: 'catalog', title: 'Shop catalog', version: '1.0.0', description: 'Products and categories; reads are cached and served stale while the database is down.', path: '/api/catalog/openapi.json' })
    .add({ method: 'get', path: '/api/catalog/products', summary: 'List and search products (keyset pagination)', description: cached, query: listQuerySchema.innerType(), responses: { 200: { description: 'A page of products', schema: z.object({ items: z.array(productSchema), nextCursor: z.string().nullable() }).passthrough() }, 304: { description: 'Not modified' } }, errors: [503] })
    .add({ method: 'get', path: '/api/catalog/products/:idOrSlug', summary: 'A product by id or slug', description: cached, params: idOrSlugSchema, responses: { 200: { description: 'The product', schema: productSchema }, 304: { description: 'Not modified' } }, errors: [404, 503] })
    .add({ method: 'get', path: '/api/catalog/categories', summary: 'All categories', description: cached, responses: { 200: { description: 'Categories', schema: z.object({ items: z.array(categorySchema) }) }, 304: { description: 'Not modified' } }, errors: [503] })
    .add({ method: 'post', path: '/api/catalog/products/bulk', summary: 'Upsert up to 1,000 products by SKU', access: 'admin', body: bulkImportSchema, responses: { 200: { description: 'Counts', schema: z.object({ inserted: z.number().int(), updated: z.number().int(), unchanged: z.number().int() }) } }, errors: [401, 409, 413] })
    .add({ method: 'post', path: '/api/catalog/products', summary: 'Create a product', access: 'admin', body: productInputSchema, responses: { 201: { description: 'Created (Location header)', schema: productSchema } }, errors: [401, 409] })
    .add({ method: 'put', path: '/api/catalog/products/:id', summary: 'Replace a product', access: 'admin', params: idParams, body: productInputSchema, responses: { 200: { description: 'Updated', schema: productSchema } }, errors: [401, 404, 409] })
    .add({ method: 'patch', path: '/api/catalog/products/:id', summary: 'Change some fields of a product', access: 'admin', params: idParams, body: productPatchSchema, responses: { 200: { description: 'Updated', schema: productSchema } }, errors: [401, 404, 409] })
    .add({ method: 'delete', path: '/api/catalog/products/:id', summary: 'Delete a product', access: 'admin', params: idParams, responses: { 204: { description: 'Deleted' } }, errors: [401, 404] })
    .add({ method: 'post', path: '/api/catalog/categories', summary: 'Create a category', access: 'admin', body: categoryInputSchema, responses: { 201: { description: 'Created', schema: categorySchema } }, errors: [401, 409] })
    .add({ method: 'put', path: '/api/catalog/categories/:slug', summary: 'Create or replace a category', access: 'admin', params: slugParams, body: categoryInputSchema.omit({ slug: true }), responses: { 200: { description: 'Stored', schema: categorySchema } }, errors: [401] })
    .add({ method: 'delete', path: '/api/catalog/categories/:slug', summary: 'Delete a category', access: 'admin', params: slugParams, responses: { 204: { description: 'Deleted' } }, errors: [401, 404] });
}
