/**
 * Availability of limited-quantity products on catalog reads (issue 9, item 11):
 * asked of inventory's internal batch read, kept ~1.5 s per SKU in this
 * replica, and left out when inventory is slow, down or unconfigured. A product
 * page never fails or waits long because of it.
 */
import { LRUCache } from 'lru-cache';
import { createHttpClient, etagOf, type CacheResult, type HttpClient, type Logger, type Metrics } from '../kit/index.js';

export interface Availability {
  available: number;
  inStock: boolean;
}

export interface AvailabilitySource {
  /** Availability of the SKUs inventory knows; missing SKUs (and every SKU when inventory fails) are absent. */
  of(skus: string[]): Promise<Map<string, Availability>>;
  /** Freshness of what `of` returns, for Cache-Control. */
  readonly ttlMs: number;
  close(): Promise<void>;
}

export interface AvailabilityOptions {
  inventoryUrl: string;
  /** Inventory's INTERNAL_TOKEN (this service's INVENTORY_TOKEN). */
  token: string;
  ttlMs: number;
  timeoutMs: number;
  logger: Logger;
  metrics?: Metrics;
}

/** Inventory's answer for one SKU, or null when it has no stock record (remembered too, so unknown SKUs are not asked again and again). */
type Known = Availability | null;

export function createAvailabilitySource(options: AvailabilityOptions): AvailabilitySource {
  // No retries: a page would rather go without availability than wait.
  const client: HttpClient = createHttpClient({ name: 'inventory', baseUrl: options.inventoryUrl, logger: options.logger, metrics: options.metrics, timeoutMs: options.timeoutMs, retries: 0, breakerThreshold: 5, halfOpenAfterMs: 5_000 });
  const cache = new LRUCache<string, { value: Known }>({ max: 50_000, ttl: options.ttlMs });
  const auth = { authorization: `Bearer ${options.token}` };

  async function fetchMissing(skus: string[]): Promise<void> {
    const response = await client.call<{ items: Array<{ sku: string } & Availability> }>({ path: `/api/inventory/availability?skus=${skus.map(encodeURIComponent).join(',')}`, headers: auth });
    if (response.status !== 200) throw new Error(`inventory answered ${response.status}`);
    const found = new Map(response.body.items.map((item) => [item.sku, { available: item.available, inStock: item.inStock }]));
    for (const sku of skus) cache.set(sku, { value: found.get(sku) ?? null });
  }

  return {
    ttlMs: options.ttlMs,
    async of(skus) {
      const unique = [...new Set(skus)];
      const missing = unique.filter((sku) => !cache.has(sku));
      if (missing.length > 0) {
        try {
          await fetchMissing(missing.slice(0, 100));
        } catch (error) {
          options.logger.warn({ err: error, skus: missing.length }, 'availability unavailable; answering without it');
        }
      }
      const result = new Map<string, Availability>();
      for (const sku of unique) {
        const known = cache.get(sku)?.value;
        if (known) result.set(sku, known);
      }
      return result;
    },
    close: () => client.close(),
  };
}

interface LimitedFlag {
  sku?: unknown;
  limitedQuantity?: unknown;
}

/** True for a cached product that is limited: its answer carries availability, so the fast path leaves it to the router. */
export const isLimitedProduct = (value: unknown): boolean => Boolean(value && (value as LimitedFlag).limitedQuantity === true);

/**
 * The cached product or page with `availability` on each limited product that
 * inventory knows; undefined when there is none to add (the cached bytes go out
 * as they are). The cached entry itself is never changed.
 */
export async function withAvailability(result: CacheResult<unknown>, source: AvailabilitySource | undefined): Promise<CacheResult<unknown> | undefined> {
  if (!source || result.value === null || typeof result.value !== 'object') return undefined;
  const page = result.value as { items?: LimitedFlag[] };
  const products: LimitedFlag[] = Array.isArray(page.items) ? page.items : [result.value as LimitedFlag];
  const skus = products.filter((p) => p.limitedQuantity === true && typeof p.sku === 'string').map((p) => p.sku as string);
  if (skus.length === 0) return undefined;
  const known = await source.of(skus);
  if (known.size === 0) return undefined;
  const add = (p: LimitedFlag) => (p.limitedQuantity === true && known.has(p.sku as string) ? { ...p, availability: known.get(p.sku as string) } : p);
  const value = Array.isArray(page.items) ? { ...page, items: page.items.map(add) } : add(result.value as LimitedFlag);
  const json = JSON.stringify(value);
  return { ...result, value, json, etag: etagOf(value, json), ageMs: 0 };
}
