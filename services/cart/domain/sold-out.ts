/**
 * Doorbusters: once inventory has answered that a limited SKU has no unit left,
 * this replica answers further adds of it with 409 at once, for a short while,
 * without locking the cart, reading it, or calling inventory (docs/carts.md,
 * "Doorbusters"). Only an early "no": the units themselves are still decided by
 * inventory's gate and database, so this cannot oversell; at worst a unit that
 * was released meanwhile is offered again `ttlMs` later.
 */
import { LRUCache } from 'lru-cache';
import type { Clock } from '../../kit/index.js';

export interface SoldOutMemo {
  /** Inventory said no units of `sku` are left. */
  note(sku: string): void;
  /** Inventory gave units of `sku`: forget any earlier "none left". */
  forget(sku: string): void;
  isSoldOut(sku: string): boolean;
  /** True while any SKU is remembered (adds of other products then skip the product lookup this check needs). */
  any(): boolean;
}

export function createSoldOutMemo(clock: Clock, ttlMs: number): SoldOutMemo {
  // Expiry by the service clock (tests move it); the cache only bounds how many SKUs are remembered.
  const until = new LRUCache<string, number>({ max: 10_000 });
  return {
    note(sku) {
      if (ttlMs > 0) until.set(sku, clock.now() + ttlMs);
    },
    forget(sku) {
      until.delete(sku);
    },
    any() {
      return until.size > 0;
    },
    isSoldOut(sku) {
      const end = until.get(sku);
      if (end === undefined) return false;
      if (end > clock.now()) return true;
      until.delete(sku);
      return false;
    },
  };
}
