import type { Clock, WithLock } from '../../kit/index.js';
import type { Clients } from '../clients.js';
import type { CartConfig } from '../config.js';
import type { CartModels } from '../models.js';
import type { SoldOutMemo } from './sold-out.js';
import type { OwedReleases } from './owed-releases.js';
import type { CartCache } from './cart-cache.js';

/** Everything the cart's domain functions need. */
export interface CartDeps {
  config: Pick<
    CartConfig,
    'CART_HOLD_TTL_S' | 'CART_ANON_TTL_DAYS' | 'CART_CUSTOMER_TTL_DAYS' | 'CART_MAX_LINES' | 'CART_MAX_UNITS' | 'CART_MAX_LINE_QUANTITY' | 'CART_LIMITED_MAX_PER_CUSTOMER' | 'CART_LIMITED_MAX_PER_CLIENT' | 'CART_SWEEP_BATCH' | 'CART_SOLD_OUT_MEMO_MS'
  >;
  /** Limited SKUs inventory just reported sold out (sold-out.ts). */
  soldOut: SoldOutMemo;
  /** Releases holds the cart no longer wants; what inventory cannot take now is retried (owed-releases.ts). */
  releases: OwedReleases;
  models: CartModels;
  /** Copies of carts in Redis, read instead of the database (cart-cache.ts). */
  cache: CartCache;
  clients: Clients;
  clock: Clock;
  /** One writer per cart at a time (FerretDB 1.24 loses concurrent updates; see inventory's effects.ts). */
  lock: WithLock;
}
