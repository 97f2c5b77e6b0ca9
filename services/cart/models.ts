/**
 * Carts are looked up by `_id` only, and the id says whose cart it is:
 * `a-<sha256 of the cart token>` for a guest (the token itself is never stored)
 * and `c-<customerId>` for a customer (so `_id` uniqueness gives one cart per
 * customer). Why: FerretDB 1.24's SQLite backend pushes a filter down to SQLite
 * only when it is exactly `{ _id: <string> }`; any other filter, even on a unique
 * index or `_id` plus a guard, is a scan of the whole collection in Go (10k carts:
 * ~180 ms per lookup). Even the pushed-down `_id` filter does not use the `_id`
 * index (its SQL `->'$._id'` does not match the index expression `->"_id"`;
 * explain() says SCAN), so it is a scan in SQLite, ~10x cheaper but still
 * growing with the collection: hence also as few reads per request as possible.
 * Guarded writes use `byIdOnly` (kit/guarded-write.ts); sweeps still scan, in the
 * background.
 */
import { isFerretDb, type ByIdTarget } from '../kit/index.js';
import { Schema, type Connection, type Model } from 'mongoose';

export interface Money {
  amount: number;
  currency: string;
}

/** A limited-quantity line's reservation in inventory. */
export interface LineHold {
  id: string;
  /** Bumped each time the line re-reserves after losing its hold (a new hold id each time). */
  gen: number;
  expiresAt: Date;
  /** 'lost': it expired and no stock was left when the cart tried to re-reserve. */
  status: 'active' | 'lost';
}

export interface CartLine {
  id: string;
  productId: string;
  sku: string;
  name: string;
  quantity: number;
  /** Price seen when the line was added (kept; checkout uses the current one). */
  unitPrice: Money;
  limited: boolean;
  maxPerOrder: number | null;
  hold: LineHold | null;
  addedAt: Date;
}

export interface CartDoc {
  /** `a-<sha256 hex of the cart token>` or `c-<customerId>` (see the top of this file). */
  _id: string;
  customerId: string | null;
  /** A guest cart's client key (IP) from its first limited line: its holds count toward that client's cap (docs/carts.md). */
  clientKey?: string | null;
  lines: CartLine[];
  state: 'open' | 'expiring';
  version: number;
  mergedFrom: string[];
  createdAt: Date;
  updatedAt: Date;
  lastActivityAt: Date;
  expiresAt: Date;
}

export interface CartModels {
  Cart: Model<CartDoc>;
  /**
   * The server uses an index only for a filter that is exactly `{ _id }` (FerretDB):
   * a guarded write then reads by `_id`, checks the guard, and writes by `_id`
   * (under the per-cart lock, that is as safe as FerretDB's own non-atomic
   * conditional update). On MongoDB the guard stays in the filter, atomic.
   */
  byIdOnly: boolean;
}

export async function createCartModels(connection: Connection): Promise<CartModels> {
  const money = new Schema<Money>({ amount: Number, currency: String }, { _id: false });
  const hold = new Schema<LineHold>({ id: String, gen: Number, expiresAt: Date, status: String }, { _id: false });
  const line = new Schema<CartLine>(
    { id: String, productId: String, sku: String, name: String, quantity: Number, unitPrice: money, limited: Boolean, maxPerOrder: { type: Number, default: null }, hold: { type: hold, default: null }, addedAt: Date },
    { _id: false },
  );
  const cart = new Schema<CartDoc>(
    {
      _id: { type: String, required: true },
      customerId: { type: String, default: null },
      clientKey: { type: String, default: null },
      lines: { type: [line], default: [] },
      state: { type: String, required: true, default: 'open' },
      version: { type: Number, required: true, default: 0 },
      mergedFrom: { type: [String], default: [] },
      createdAt: { type: Date, required: true },
      updatedAt: { type: Date, required: true },
      lastActivityAt: { type: Date, required: true },
      expiresAt: { type: Date, required: true },
    },
    { collection: 'carts', versionKey: false },
  );
  // For the background sweep only (MongoDB uses it; FerretDB scans either way).
  cart.index({ state: 1, expiresAt: 1 });
  const models: CartModels = { Cart: connection.model<CartDoc>('Cart', cart), byIdOnly: await isFerretDb(connection) };
  await models.Cart.init();
  // Carts used to carry unique `tokenHash` and `owner` fields; left in place, those indexes would refuse a second cart without them.
  await Promise.all(['tokenHash_1', 'owner_1'].map((name) => models.Cart.collection.dropIndex(name).catch(() => undefined)));
  return models;
}

/** The carts collection as the kit's guarded writes take it (`updateByIdIf`, `deleteByIdIf`). */
export const cartsIn = (models: CartModels): ByIdTarget<CartDoc> => ({ model: models.Cart, byIdOnly: models.byIdOnly });
