/**
 * The catalog's list index: every product in memory, in each list order.
 *
 * Why: FerretDB 1.24 pushes no sort down to PostgreSQL, so a sorted page reads
 * and sorts the whole products table (about 2-5 s on 10,000 products). The
 * compound indexes in models.ts serve the same pages on MongoDB, but the
 * platform must also be fast on the database it ships with. A catalog is small
 * next to a replica's memory (10,000 products take about 15 MB here), so each
 * replica keeps this read model and answers list pages and product reads from
 * it; MongoDB stays the only place products are written (catalog-index.ts keeps
 * the copies in step).
 *
 * Pages are the same as the database path's (`listProducts` in products.ts):
 * the same filters, the same keyset order `(sort field, _id)`, the same cursors,
 * so a storefront can page through replicas that answer from either.
 */
import { tokenize, type ListQuery } from './schemas.js';
import { decodeCursor, encodeCursor } from './cursor.js';
import { toProduct, type Product, type ProductPage } from './products.js';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Lean = Record<string, any>;

interface Entry {
  product: Product;
  /** `searchTerms` of the stored document, for `q`. */
  terms: ReadonlySet<string>;
  categories: ReadonlySet<string>;
  createdMs: number;
  updatedMs: number;
}

type Order = 'name' | 'price' | 'created';
/** The array each sort walks, and in which direction (every array is ascending on (key, id)). */
const WALK: Record<ListQuery['sort'], [Order, 1 | -1]> = { name: ['name', 1], '-name': ['name', -1], price: ['price', 1], '-price': ['price', -1], newest: ['created', -1] };

const keyOf = (entry: Entry, order: Order): string | number => (order === 'name' ? entry.product.name : order === 'price' ? entry.product.price.amount : entry.createdMs);

/**
 * Compares (key, id) pairs the way the database orders them: key first, then
 * the id's hex (= ObjectId byte order). Strings compare by UTF-16 code unit,
 * which is MongoDB's binary order except between astral characters and
 * U+E000-U+FFFF; a cursor is only ever resumed in the order that issued it.
 */
function compare(a: string | number, aId: string, b: string | number, bId: string): number {
  if (a < b) return -1;
  if (a > b) return 1;
  return aId < bId ? -1 : aId > bId ? 1 : 0;
}

export class ProductIndex {
  private readonly byId = new Map<string, Entry>();
  private readonly bySlug = new Map<string, Entry>();
  private readonly bySku = new Map<string, Entry>();
  private sorted: Partial<Record<Order, Entry[]>> = {};

  get size(): number {
    return this.byId.size;
  }

  /**
   * Stores a product document (as read from MongoDB, or its JSON form) unless
   * this index already holds a newer version of it.
   */
  upsert(doc: Lean): void {
    const product = toProduct(doc);
    const updatedMs = new Date(doc.updatedAt).getTime();
    const current = this.byId.get(product.id);
    if (current && current.updatedMs > updatedMs) return;
    if (current && current.product.slug !== product.slug) this.bySlug.delete(current.product.slug);
    if (current && current.product.sku !== product.sku) this.bySku.delete(current.product.sku);
    const entry: Entry = {
      product,
      terms: new Set<string>(doc.searchTerms ?? []),
      categories: new Set(product.categories),
      createdMs: new Date(doc.createdAt).getTime(),
      updatedMs,
    };
    this.byId.set(product.id, entry);
    this.bySlug.set(product.slug, entry);
    this.bySku.set(product.sku, entry);
    this.sorted = {};
  }

  delete(id: string): void {
    const current = this.byId.get(id);
    if (!current) return;
    this.byId.delete(id);
    if (this.bySlug.get(current.product.slug) === current) this.bySlug.delete(current.product.slug);
    if (this.bySku.get(current.product.sku) === current) this.bySku.delete(current.product.sku);
    this.sorted = {};
  }

  /** A product by id or slug, or undefined when this index does not hold it. */
  get(idOrSlug: string): Product | undefined {
    return (this.byId.get(idOrSlug) ?? this.bySlug.get(idOrSlug))?.product;
  }

  /** A product by SKU, or undefined when this index does not hold it. */
  getBySku(sku: string): Product | undefined {
    return this.bySku.get(sku)?.product;
  }

  /** One page of products: what `listProducts` answers from the database, from memory. */
  list(query: ListQuery): ProductPage {
    const [order, step] = WALK[query.sort];
    const entries = this.order(order);
    const terms = query.q ? tokenize(query.q).slice(0, 5) : [];
    const matches = (e: Entry) =>
      (query.category === undefined || e.categories.has(query.category)) &&
      (query.minPrice === undefined || e.product.price.amount >= query.minPrice) &&
      (query.maxPrice === undefined || e.product.price.amount <= query.maxPrice) &&
      terms.every((t) => e.terms.has(t));

    let i = step === 1 ? 0 : entries.length - 1;
    if (query.cursor) {
      const [raw, oid] = decodeCursor(query.cursor, query.sort);
      const value = raw instanceof Date ? raw.getTime() : raw;
      i = this.after(entries, order, value, String(oid), step);
    }
    const found: Entry[] = [];
    for (; i >= 0 && i < entries.length && found.length <= query.limit; i += step) {
      const entry = entries[i]!;
      if (matches(entry)) found.push(entry);
    }
    const items = found.slice(0, query.limit).map((e) => e.product);
    let nextCursor: string | null = null;
    if (found.length > query.limit) {
      const last = found[query.limit - 1]!;
      nextCursor = encodeCursor(order === 'created' ? last.product.createdAt : keyOf(last, order), last.product.id);
    }
    if (query.count !== 'true') return { items, nextCursor };
    let total = 0;
    for (const entry of this.byId.values()) if (matches(entry)) total += 1;
    return { items, nextCursor, total };
  }

  /** The index of the first entry past (value, id) in the walk's direction (-1 or length when none). */
  private after(entries: Entry[], order: Order, value: string | number, id: string, step: 1 | -1): number {
    // First entry whose (key, id) is greater than the cursor's.
    let lo = 0;
    let hi = entries.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      const e = entries[mid]!;
      if (compare(keyOf(e, order), e.product.id, value, id) <= 0) lo = mid + 1;
      else hi = mid;
    }
    if (step === 1) return lo;
    // Walking down: the last entry below the cursor (skip an entry equal to it).
    let j = lo - 1;
    if (j >= 0) {
      const e = entries[j]!;
      if (compare(keyOf(e, order), e.product.id, value, id) === 0) j -= 1;
    }
    return j;
  }

  /** The entries in ascending (key, id) order; sorted again after a change, on first use. */
  private order(order: Order): Entry[] {
    let entries = this.sorted[order];
    if (!entries) {
      entries = [...this.byId.values()].sort((a, b) => compare(keyOf(a, order), a.product.id, keyOf(b, order), b.product.id));
      this.sorted[order] = entries;
    }
    return entries;
  }
}
