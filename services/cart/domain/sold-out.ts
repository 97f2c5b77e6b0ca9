/**
 * Doorbusters: once inventory has answered that a limited SKU has no unit left,
 * this replica answers further adds of it with 409 at once, for a short while,
 * without locking the cart, reading it, or calling inventory (docs/carts.md,
 * "Doorbusters"). Only an early "no": the units themselves are still decided by
 * inventory's gate and database, so this cannot oversell; at worst a unit that
 * was released meanwhile is offered again `ttlMs` later.
 *
 * When the memory lapses, one add (the *probe*) goes to inventory and the others
 * keep getting the early 409 until it has an answer: in a rush, a lapse costs one
 * full add per replica, not one per request in flight (64 at once in the bench,
 * each with a cart lock, a cart read and two inventory calls).
 */
import { LRUCache } from 'lru-cache';
import type { Clock } from '../../kit/index.js';

/** `sold_out`: answer 409 now; `probe`: ask inventory, then call `probed`; `open`: ask inventory. */
export type SoldOutCheck = 'sold_out' | 'probe' | 'open';

export interface SoldOutMemo {
  /** Inventory said no units of `sku` are left. */
  note(sku: string): void;
  /** Where the memo stands now: pass it to `forget` after asking inventory. */
  mark(): number;
  /**
   * Inventory gave units of `sku` to a reserve sent at `askedAt` (a `mark()`): forget a "none left"
   * noted before that. One noted after it stays: in a rush the winners' answers (their units were
   * taken before the last one went) arrive after the losers', and must not reopen the way for everyone.
   */
  forget(sku: string, askedAt: number): void;
  /** What an add of `sku` should do now; at most one caller at a time gets `probe` for a lapsed SKU. */
  check(sku: string): SoldOutCheck;
  /**
   * The probe of `sku` is over. If it learnt nothing of stock (a 404, a 422), the next add probes.
   * If inventory could not be asked (`unreachable`: a timeout, the SKU's breaker open), "none left"
   * is kept for another period: no unit can be reserved then anyway, and without this every add
   * would become a probe in turn and take the full path to the same 503.
   */
  probed(sku: string, unreachable?: boolean): void;
  /** True while any SKU is remembered (adds of other products then skip the product lookup this check needs). */
  any(): boolean;
}

interface Entry {
  /** `mark()` when noted. */
  noted: number;
  /** Sold out until then (service clock). */
  until: number;
  /** A probe is asking inventory until then (0: none); a probe that never reports is given up after `probeMs`. */
  probing: number;
}

export function createSoldOutMemo(clock: Clock, ttlMs: number, probeMs = 10_000): SoldOutMemo {
  // Expiry by the service clock (tests move it); the cache only bounds how many SKUs are remembered.
  const entries = new LRUCache<string, Entry>({ max: 10_000 });
  let notes = 0;
  return {
    note(sku) {
      if (ttlMs > 0) entries.set(sku, { noted: ++notes, until: clock.now() + ttlMs, probing: 0 });
    },
    mark() {
      return notes;
    },
    forget(sku, askedAt) {
      const entry = entries.get(sku);
      if (entry && entry.noted <= askedAt) entries.delete(sku);
    },
    any() {
      return entries.size > 0;
    },
    check(sku) {
      const entry = entries.get(sku);
      if (!entry) return 'open';
      const now = clock.now();
      if (entry.until > now || entry.probing > now) return 'sold_out';
      entry.probing = now + probeMs;
      return 'probe';
    },
    probed(sku, unreachable = false) {
      const entry = entries.get(sku);
      if (!entry || entry.until > clock.now()) return;
      if (unreachable && ttlMs > 0) entry.until = clock.now() + ttlMs;
      entry.probing = 0;
    },
  };
}
