import { isValidObjectId } from 'mongoose';
import { badRequest, conflict, notFound } from '../../kit/index.js';
import type { CatalogModels } from '../models.js';
import { tokenize, type LimitedPolicy, type ListQuery, type ProductInput } from './schemas.js';
import { decodeCursor, encodeCursor } from './cursor.js';

/** A product as clients see it. */
export interface Product {
  id: string;
  sku: string;
  slug: string;
  name: string;
  description: string;
  price: { amount: number; currency: string };
  categories: string[];
  attributes: Record<string, string | number | boolean>;
  images: Array<{ url: string; alt: string }>;
  limitedQuantity: boolean;
  maxPerOrder: number | null;
  limitedPolicy: LimitedPolicy;
  createdAt: string;
  updatedAt: string;
}

export interface ProductPage {
  items: Product[];
  nextCursor: string | null;
  /** Products matching the filters across all pages; only with `?count=true`. */
  total?: number;
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Lean = Record<string, any>;

export function toProduct(doc: Lean): Product {
  return {
    id: String(doc._id),
    sku: doc.sku,
    slug: doc.slug,
    name: doc.name,
    description: doc.description ?? '',
    price: { amount: doc.price.amount, currency: doc.price.currency },
    categories: doc.categories ?? [],
    attributes: doc.attributes ?? {},
    images: (doc.images ?? []).map((i: Lean) => ({ url: i.url, alt: i.alt ?? '' })),
    limitedQuantity: Boolean(doc.limitedQuantity),
    maxPerOrder: doc.maxPerOrder ?? null,
    limitedPolicy: doc.limitedPolicy ?? 'per_client',
    createdAt: new Date(doc.createdAt).toISOString(),
    updatedAt: new Date(doc.updatedAt).toISOString(),
  };
}

function withSearchTerms(input: Partial<ProductInput>, current?: Lean): Lean {
  const name = input.name ?? current?.name ?? '';
  const sku = input.sku ?? current?.sku ?? '';
  const categories = input.categories ?? current?.categories ?? [];
  const searchTerms = [...new Set([...tokenize(name), ...tokenize(sku), ...categories.flatMap(tokenize)])];
  return { ...input, searchTerms };
}

/** Turns a duplicate-key error into a 409 naming the field; rethrows anything else. */
function rethrowDuplicate(error: unknown): never {
  const e = error as { code?: number; message?: string; keyValue?: Record<string, unknown> };
  if (e.code === 11000) {
    const field = Object.keys(e.keyValue ?? {})[0] ?? (/slug/.test(e.message ?? '') ? 'slug' : 'sku');
    throw conflict('duplicate', `a product with this ${field} already exists`, { field: `body.${field}` });
  }
  throw error;
}

export async function getProduct(models: CatalogModels, idOrSlug: string): Promise<Product | null> {
  const filter = isValidObjectId(idOrSlug) && /^[0-9a-f]{24}$/.test(idOrSlug) ? { _id: idOrSlug } : { slug: idOrSlug };
  const doc = await models.Product.findOne(filter).lean();
  return doc ? toProduct(doc) : null;
}

const SORT_FIELD = { name: ['name', 1], '-name': ['name', -1], price: ['price.amount', 1], '-price': ['price.amount', -1], newest: ['createdAt', -1] } as const;

/**
 * One page of products in a stable order. Keyset pagination on (sort field, _id):
 * every page costs the same however deep, unlike skip/offset.
 */
export async function listProducts(models: CatalogModels, query: ListQuery): Promise<ProductPage> {
  const [field, direction] = SORT_FIELD[query.sort];
  const and: Lean[] = [];
  if (query.category) and.push({ categories: query.category });
  if (query.minPrice !== undefined) and.push({ 'price.amount': { $gte: query.minPrice } });
  if (query.maxPrice !== undefined) and.push({ 'price.amount': { $lte: query.maxPrice } });
  // The schema refused a q without words, so there is always a term here.
  if (query.q) and.push({ searchTerms: { $all: tokenize(query.q).slice(0, 5) } });
  const filtersOnly = and.length > 0 ? { $and: [...and] } : {};
  if (query.cursor) {
    const [value, id] = decodeCursor(query.cursor, query.sort);
    const op = direction === 1 ? '$gt' : '$lt';
    and.push({ $or: [{ [field]: { [op]: value } }, { [field]: value, _id: { [op]: id } }] });
  }
  const docs = await models.Product.find(and.length > 0 ? { $and: and } : {})
    .sort({ [field]: direction, _id: direction })
    .limit(query.limit + 1)
    .lean();
  const items = docs.slice(0, query.limit).map(toProduct);
  let nextCursor: string | null = null;
  if (docs.length > query.limit) {
    const last = docs[query.limit - 1] as Lean;
    const value = field === 'createdAt' ? new Date(last.createdAt).toISOString() : field === 'name' ? last.name : last.price.amount;
    nextCursor = encodeCursor(value, String(last._id));
  }
  if (query.count !== 'true') return { items, nextCursor };
  // A count walks every match (no covering count on FerretDB): opt-in, and cached with the page.
  return { items, nextCursor, total: await models.Product.countDocuments(filtersOnly) };
}

/** What a write stored: the documents as they are now in MongoDB, and the ids it deleted (for the list index). */
export interface Written<T> {
  result: T;
  upserts: Lean[];
  deletes?: string[];
}

export async function createProduct(models: CatalogModels, input: ProductInput): Promise<Written<Product>> {
  try {
    const doc = (await models.Product.create(withSearchTerms(input))).toObject();
    return { result: toProduct(doc), upserts: [doc] };
  } catch (error) {
    rethrowDuplicate(error);
  }
}

function requireId(id: string): string {
  if (!/^[0-9a-f]{24}$/.test(id)) throw badRequest('params.id must be a product id', [{ field: 'params.id', message: 'must be a 24-character hex id' }]);
  return id;
}

/** Replaces (PUT) or patches (PATCH) a product by id. */
export async function updateProduct(models: CatalogModels, id: string, input: Partial<ProductInput>): Promise<Written<Product>> {
  const current = await models.Product.findById(requireId(id)).lean();
  if (!current) throw notFound(`product ${id} does not exist`);
  try {
    const doc = await models.Product.findByIdAndUpdate(id, { $set: withSearchTerms(input, current) }, { new: true, runValidators: true }).lean();
    if (!doc) throw notFound(`product ${id} does not exist`);
    return { result: toProduct(doc), upserts: [doc] };
  } catch (error) {
    rethrowDuplicate(error);
  }
}

export async function deleteProduct(models: CatalogModels, id: string): Promise<void> {
  const result = await models.Product.deleteOne({ _id: requireId(id) });
  if (result.deletedCount === 0) throw notFound(`product ${id} does not exist`);
}

const INPUT_FIELDS = ['sku', 'slug', 'name', 'description', 'price', 'categories', 'attributes', 'images', 'limitedQuantity', 'maxPerOrder', 'limitedPolicy'] as const;

const differs = (input: ProductInput, doc: Lean) => INPUT_FIELDS.some((f) => JSON.stringify(input[f]) !== JSON.stringify(doc[f] ?? null));

/**
 * Upserts by SKU: new products in one insertMany, changed ones updated by _id,
 * unchanged ones left alone (re-running a seed writes nothing). Updating by _id
 * rather than by SKU matters on FerretDB's SQLite backend, which pushes only
 * _id filters down to an index.
 */
export async function bulkImport(models: CatalogModels, inputs: ProductInput[], known?: (sku: string) => Product | undefined): Promise<Written<{ inserted: number; updated: number; unchanged: number }>> {
  const seen = new Set<string>();
  inputs.forEach((p, i) => {
    if (seen.has(p.sku)) throw badRequest(`duplicate sku ${p.sku} in the batch`, [{ field: `body.products.${i}.sku`, message: 'appears twice in this batch' }]);
    seen.add(p.sku);
  });
  // With the list index loaded, it says which SKUs exist: FerretDB answers the `$in` by reading the whole
  // collection (seconds per batch on 10,000 products). A product created elsewhere a moment ago and not
  // yet in the index fails its insert on the unique SKU index: a 409, and the retry finds it.
  const existing = known
    ? new Map([...seen].flatMap((sku) => {
        const product = known(sku);
        return product ? [[sku, { ...product, _id: product.id } as Lean] as const] : [];
      }))
    : new Map((await models.Product.find({ sku: { $in: [...seen] } }).lean()).map((doc) => [doc.sku, doc as Lean]));
  const fresh = inputs.filter((p) => !existing.has(p.sku));
  const changed = inputs.filter((p) => existing.has(p.sku) && differs(p, existing.get(p.sku) as Lean));
  const upserts: Lean[] = [];
  try {
    if (fresh.length > 0) {
      const docs = await models.Product.insertMany(fresh.map((p) => withSearchTerms(p)), { ordered: false });
      upserts.push(...docs.map((doc) => doc.toObject()));
    }
    if (changed.length > 0) {
      // updatedAt is set here, not by mongoose, so the list index gets exactly what MongoDB stores without reading it back.
      const updatedAt = new Date();
      const sets = changed.map((p) => ({ doc: existing.get(p.sku) as Lean, set: { ...withSearchTerms(p), updatedAt } }));
      await models.Product.bulkWrite(
        sets.map(({ doc, set }) => ({ updateOne: { filter: { _id: doc._id }, update: { $set: set }, timestamps: false } })),
        { ordered: false },
      );
      upserts.push(...sets.map(({ doc, set }) => ({ ...doc, ...set })));
    }
  } catch (error) {
    rethrowDuplicate(error);
  }
  return { result: { inserted: fresh.length, updated: changed.length, unchanged: inputs.length - fresh.length - changed.length }, upserts };
}
