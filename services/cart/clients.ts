/**
 * Calls to catalog and inventory through the kit's HTTP client (deadline per
 * attempt, retries only for idempotent calls, circuit breaker, 503 with
 * Retry-After when the callee is down).
 */
import { LRUCache } from 'lru-cache';
import { AppError, createHttpClient, unprocessable, type HttpClient, type HttpResponse, type Logger, type Metrics } from '../kit/index.js';
import type { Money } from './models.js';

export interface Product {
  id: string;
  sku: string;
  name: string;
  price: Money;
  limitedQuantity: boolean;
  maxPerOrder: number | null;
  /** Guests and limited products; absent from older catalogs, which means `per_client`. */
  limitedPolicy?: 'customers_only' | 'per_client';
}

export interface HoldInfo {
  id: string;
  sku: string;
  qty: number;
  state: string;
  expiresAt: string;
}

export type HoldResult = { ok: true; hold: HoldInfo } | { ok: false; code: string; available: number };

export interface Clients {
  getProduct(productId: string): Promise<Product>;
  /** Current product, or null when unknown or catalog is unreachable (for price checks only). */
  peekProduct(productId: string): Promise<Product | null>;
  reserve(input: { id: string; sku: string; qty: number; ttlS: number; owner: string }): Promise<HoldResult>;
  modifyHold(id: string, input: { qty?: number; ttlS?: number; owner?: string }, sku: string): Promise<HoldResult>;
  releaseHold(id: string): Promise<void>;
  usage(owner: string, sku: string): Promise<{ held: number; committed: number }>;
  close(): Promise<void>;
}

export interface ClientOptions {
  catalogUrl: string;
  inventoryUrl: string;
  inventoryToken: string;
  timeoutMs: number;
  /** Reuse a fetched product this long (0: every call asks catalog). */
  productCacheMs?: number;
  logger: Logger;
  metrics?: Metrics;
}

export function createClients(options: ClientOptions): Clients {
  const common = { logger: options.logger, metrics: options.metrics, timeoutMs: options.timeoutMs, retries: 2, breakerThreshold: 5, halfOpenAfterMs: 5_000 };
  const catalog: HttpClient = createHttpClient({ ...common, name: 'catalog', baseUrl: options.catalogUrl });
  const inventory: HttpClient = createHttpClient({ ...common, name: 'inventory', baseUrl: options.inventoryUrl });
  const auth = { authorization: `Bearer ${options.inventoryToken}` };

  // Successful reads only (a 404 or an outage is asked again); concurrent misses share one call.
  const products = new LRUCache<string, Promise<HttpResponse<Product>>>({ max: 5_000, ttl: Math.max(1, options.productCacheMs ?? 0) });
  function fetchProduct(productId: string): Promise<HttpResponse<Product>> {
    const load = () => catalog.call<Product>({ path: `/api/catalog/products/${encodeURIComponent(productId)}` });
    if (!options.productCacheMs) return load();
    const cached = products.get(productId);
    if (cached) return cached;
    const pending = load();
    products.set(productId, pending);
    pending.then((response) => response.status !== 200 && products.delete(productId), () => products.delete(productId));
    return pending;
  }

  const holdResult = (response: { status: number; body: unknown }): HoldResult => {
    const body = response.body as HoldInfo & { type?: string; available?: number };
    if (response.status === 200 || response.status === 201) return { ok: true, hold: body };
    if (response.status === 409 || response.status === 404) return { ok: false, code: String(body.type ?? 'conflict').replace('urn:problem:', ''), available: body.available ?? 0 };
    throw unexpected('inventory', response.status);
  };

  return {
    async getProduct(productId) {
      const response = await fetchProduct(productId);
      if (response.status === 404) throw unprocessable('unknown_product', `no product ${productId}`, { productId });
      if (response.status !== 200) throw unexpected('catalog', response.status);
      return response.body;
    },
    async peekProduct(productId) {
      try {
        const response = await fetchProduct(productId);
        return response.status === 200 ? response.body : null;
      } catch {
        return null;
      }
    },
    // The hold id is ours, and inventory deduplicates by it: retrying the POST is safe.
    // A breaker per SKU: a doorbuster that times out opens its own, not the one for every other item.
    async reserve(input) {
      return holdResult(await inventory.call({ method: 'POST', path: '/api/inventory/holds', body: input, headers: auth, idempotent: true, breakerKey: `holds:${input.sku}` }));
    },
    // Absolute qty and ttl: repeating the PATCH gives the same result.
    async modifyHold(id, input, sku) {
      return holdResult(await inventory.call({ method: 'PATCH', path: `/api/inventory/holds/${id}`, body: input, headers: auth, idempotent: true, breakerKey: `holds:${sku}` }));
    },
    async releaseHold(id) {
      const response = await inventory.call({ method: 'POST', path: `/api/inventory/holds/${id}/release`, headers: auth, idempotent: true });
      if (response.status !== 200 && response.status !== 404 && response.status !== 409) throw unexpected('inventory', response.status);
    },
    async usage(owner, sku) {
      const response = await inventory.call<{ held: number; committed: number }>({ path: `/api/inventory/usage?owner=${encodeURIComponent(owner)}&sku=${encodeURIComponent(sku)}`, headers: auth });
      if (response.status !== 200) throw unexpected('inventory', response.status);
      return response.body;
    },
    async close() {
      await Promise.all([catalog.close(), inventory.close()]);
    },
  };
}

function unexpected(callee: string, status: number): AppError {
  return new AppError(502, `${callee}_error`, 'Bad gateway', { detail: `${callee} answered ${status}` });
}
