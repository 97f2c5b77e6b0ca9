/**
 * Calls to cart (merge on sign-in) and checkout (order history) through the
 * kit's HTTP client: deadline per attempt, retries only where safe, circuit
 * breaker, 503 + Retry-After when the callee is down. Both calls carry the
 * customer's own token: the callee decides what this customer may see.
 */
import { AppError, createHttpClient, type Logger, type Metrics } from '../kit/index.js';

export interface MergeResult {
  /** merged: the guest cart is now part of the customer's; not_found: unknown or expired guest cart; failed: cart unreachable or refused. */
  status: 'merged' | 'not_found' | 'failed';
  cart?: unknown;
}

export interface OrdersPage {
  orders: unknown[];
  nextCursor: string | null;
}

export interface CustomersClients {
  mergeCart(customerToken: string, cartToken: string): Promise<MergeResult>;
  listOrders(customerToken: string, query: { cursor?: string | undefined; limit?: number | undefined }): Promise<OrdersPage>;
  close(): Promise<void>;
}

export function createCustomersClients(options: { cartUrl: string; checkoutUrl: string; timeoutMs: number; logger: Logger; metrics?: Metrics }): CustomersClients {
  const common = { logger: options.logger, metrics: options.metrics, timeoutMs: options.timeoutMs, retries: 2, breakerThreshold: 5, halfOpenAfterMs: 5_000 };
  const cart = createHttpClient({ ...common, name: 'cart', baseUrl: options.cartUrl });
  const checkout = createHttpClient({ ...common, name: 'checkout', baseUrl: options.checkoutUrl });
  return {
    async mergeCart(customerToken, cartToken) {
      try {
        // Not retried: a first attempt that merged but answered late would make the retry a 404
        // (the guest cart is gone), misreported as not_found. A timeout is reported as failed instead.
        const response = await cart.call({ method: 'POST', path: '/api/cart/cart/merge', headers: { authorization: `Bearer ${customerToken}`, 'x-cart-token': cartToken }, idempotent: false });
        if (response.status === 200) return { status: 'merged', cart: response.body };
        if (response.status === 404) return { status: 'not_found' };
        options.logger.warn({ status: response.status }, 'cart merge refused');
        return { status: 'failed' };
      } catch (error) {
        // Sign-in still succeeds: the guest cart stays, and the client can merge later (POST /api/cart/cart/merge).
        options.logger.warn({ err: error }, 'cart merge failed');
        return { status: 'failed' };
      }
    },
    async listOrders(customerToken, query) {
      const params = new URLSearchParams();
      if (query.cursor) params.set('cursor', query.cursor);
      if (query.limit !== undefined) params.set('limit', String(query.limit));
      const qs = params.size > 0 ? `?${params.toString()}` : '';
      const response = await checkout.call<OrdersPage>({ path: `/api/orders${qs}`, headers: { authorization: `Bearer ${customerToken}` } });
      if (response.status === 200) return { orders: response.body.orders, nextCursor: response.body.nextCursor ?? null };
      if (response.status === 400) throw new AppError(400, 'validation_failed', 'Request is invalid', { detail: 'checkout refused the cursor or limit', fields: [{ field: 'query.cursor', message: 'is not a cursor checkout knows' }] });
      throw new AppError(502, 'checkout_error', 'Bad gateway', { detail: `checkout answered ${response.status}` });
    },
    async close() {
      await Promise.all([cart.close(), checkout.close()]);
    },
  };
}
