import { AppError, createHttpClient, type HttpClient, type Logger, type Metrics } from '../kit/index.js';

/** How a shopper proves who they are to checkout: their own customer token or guest cart token. */
export interface ShopperCredentials {
  bearer?: string;
  cartToken?: string;
}

export interface SupportClients {
  /** True when checkout shows order `orderId` to this shopper (200), false when it does not (404/403/401). */
  ownsOrder(orderId: string, credentials: ShopperCredentials): Promise<boolean>;
  close(): Promise<void>;
}

/**
 * Asks checkout, with the shopper's own credentials, whether an order is
 * theirs: support never reads checkout's collections (DESIGN.md).
 */
export function createSupportClients(options: { checkoutUrl: string; timeoutMs: number; logger: Logger; metrics?: Metrics }): SupportClients {
  const checkout: HttpClient = createHttpClient({ name: 'checkout', baseUrl: options.checkoutUrl, logger: options.logger, metrics: options.metrics, timeoutMs: options.timeoutMs, retries: 2, breakerThreshold: 5, halfOpenAfterMs: 5_000 });
  return {
    async ownsOrder(orderId, credentials) {
      const headers: Record<string, string> = {};
      if (credentials.bearer) headers.authorization = `Bearer ${credentials.bearer}`;
      if (credentials.cartToken) headers['x-cart-token'] = credentials.cartToken;
      const response = await checkout.call({ path: `/api/orders/${encodeURIComponent(orderId)}`, headers });
      if (response.status === 200) return true;
      if (response.status === 404 || response.status === 403 || response.status === 401) return false;
      throw new AppError(502, 'checkout_error', 'Bad gateway', { detail: `checkout answered ${response.status}` });
    },
    close: () => checkout.close(),
  };
}
