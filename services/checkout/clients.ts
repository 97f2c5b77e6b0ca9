/**
 * Checkout's calls to cart and inventory through the kit's HTTP client. Every
 * call here is idempotent (reads, hold commit/release by id, cart clear by
 * version, restock by hold id), so all of them may be retried.
 */
import { AppError, createHttpClient, type Logger, type Metrics } from '../kit/index.js';
import type { Money } from './models.js';

/** The cart as checkout needs it: the shopper's view (current prices, hold status) plus hold ids and version. */
export interface CheckoutCart {
  id: string;
  version: number;
  customerId: string | null;
  lines: Array<{
    id: string; productId: string; sku: string; name: string; quantity: number; limited: boolean;
    currentUnitPrice: Money | null; holdId: string | null; holdStatus: 'active' | 'expired' | 'lost' | null;
  }>;
}

export interface CheckoutClients {
  /** Reads the shopper's cart with the shopper's own credentials (the cart owns its tokens). */
  shopperCart(headers: Record<string, string>): Promise<CheckoutCart>;
  commitHold(holdId: string): Promise<'committed' | 'ended'>;
  /** Ends a live hold; says `committed` when it was sold already (then only a restock gives the units back). */
  releaseHold(holdId: string): Promise<'released' | 'committed' | 'gone'>;
  /** Puts the units a committed hold sold back (admin cancel, or a failure after commit); inventory does it once per hold. */
  restock(holdId: string): Promise<void>;
  /** Removes the ordered lines from the cart after a paid order; their holds stay committed. */
  clearCart(cartId: string, lineIds: string[]): Promise<void>;
  /** Tells the cart its holds were released, so its next view reserves again. */
  holdsReleased(cartId: string, holdIds: string[]): Promise<void>;
  close(): Promise<void>;
}

export interface CheckoutClientOptions {
  cartUrl: string;
  inventoryUrl: string;
  internalToken: string;
  timeoutMs: number;
  logger: Logger;
  metrics?: Metrics;
}

const unexpected = (callee: string, status: number, body?: unknown) =>
  new AppError(502, `${callee}_error`, 'Bad gateway', { detail: `${callee} answered ${status}`, cause: body });

export function createCheckoutClients(options: CheckoutClientOptions): CheckoutClients {
  const common = { logger: options.logger, metrics: options.metrics, timeoutMs: options.timeoutMs, retries: 2, breakerThreshold: 5, halfOpenAfterMs: 5_000 };
  const cart = createHttpClient({ ...common, name: 'cart', baseUrl: options.cartUrl });
  const inventory = createHttpClient({ ...common, name: 'inventory', baseUrl: options.inventoryUrl });
  const internal = { authorization: `Bearer ${options.internalToken}` };

  return {
    async shopperCart(headers) {
      const response = await cart.call<CheckoutCart & { type?: string; detail?: string }>({ path: '/api/cart/internal/checkout-view', headers: { ...headers, 'x-internal-token': options.internalToken } });
      if (response.status === 200) return response.body;
      // The cart's own answer (404 unknown cart, 400/401 bad token) goes back to the shopper as it is.
      if (response.status === 400 || response.status === 401 || response.status === 404) {
        throw new AppError(response.status, String(response.body.type ?? 'cart_error').replace('urn:problem:', ''), 'Cart not usable', { detail: response.body.detail ?? 'the cart could not be read' });
      }
      throw unexpected('cart', response.status, response.body);
    },
    async commitHold(holdId) {
      const response = await inventory.call({ method: 'POST', path: `/api/inventory/holds/${encodeURIComponent(holdId)}/commit`, headers: internal, idempotent: true });
      if (response.status === 200) return 'committed';
      if (response.status === 409 || response.status === 404) return 'ended';
      throw unexpected('inventory', response.status, response.body);
    },
    async releaseHold(holdId) {
      const response = await inventory.call<{ state?: string }>({ method: 'POST', path: `/api/inventory/holds/${encodeURIComponent(holdId)}/release`, headers: internal, idempotent: true });
      if (response.status === 200) return 'released';
      if (response.status === 404) return 'gone';
      if (response.status === 409) return response.body.state === 'committed' ? 'committed' : 'gone';
      throw unexpected('inventory', response.status, response.body);
    },
    async restock(holdId) {
      // The service token's narrow restock, never the admin's stock adjustments: checkout holds no admin token.
      const response = await inventory.call({ method: 'POST', path: `/api/inventory/holds/${encodeURIComponent(holdId)}/restock`, headers: internal, idempotent: true });
      if (response.status !== 200 && response.status !== 201) throw unexpected('inventory', response.status, response.body);
    },
    async clearCart(cartId, lineIds) {
      const response = await cart.call({ method: 'POST', path: `/api/cart/internal/carts/${encodeURIComponent(cartId)}/checked-out`, headers: internal, body: { lineIds }, idempotent: true });
      if (response.status !== 200 && response.status !== 404) throw unexpected('cart', response.status, response.body);
    },
    async holdsReleased(cartId, holdIds) {
      const response = await cart.call({ method: 'POST', path: `/api/cart/internal/carts/${encodeURIComponent(cartId)}/holds-released`, headers: internal, body: { holdIds }, idempotent: true });
      if (response.status !== 200 && response.status !== 404) throw unexpected('cart', response.status, response.body);
    },
    async close() {
      await Promise.all([cart.close(), inventory.close()]);
    },
  };
}
