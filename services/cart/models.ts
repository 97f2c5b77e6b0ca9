/**
 * Carts are looked up by `_id`, and the id says whose cart it is:
 * `a-<sha256 of the cart token>` for a guest (the token itself is never stored)
 * and `c-<customerId>` for a customer (so `_id` uniqueness gives one cart per
 * customer, with no second unique index). On FerretDB 1.24/PostgreSQL an `_id`
 * lookup is an index scan (scripts/lib/ferretdb-gin.ts), so it costs the same
 * with 100 or 100,000 carts; guarded writes put their guard beside `_id`
 * (kit/guarded-write.ts).
 */
import { Schema, type Connection, type Model } from 'mongoose';
import { bucketOf } from '../kit/index.js';

/** Width of a cart expiry bucket (carts live days): the sweep reads the current hour's expiring carts each pass. */
export const CART_EXPIRY_BUCKET_MS = 3_600_000;
/** `expiresAt` and its bucket, always written together (kit/time-buckets.ts). */
export const cartExpiry = (expiresAt: Date) => ({ expiresAt, expiryBucket: bucketOf(expiresAt, CART_EXPIRY_BUCKET_MS) });

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
  /** Hashes of the last Idempotency-Keys whose change this cart saved (a re-run of one changes nothing). */
  appliedKeys?: string[];
  createdAt: Date;
  updatedAt: Date;
  lastActivityAt: Date;
  expiresAt: Date;
  /** `bucketOf(expiresAt, CART_EXPIRY_BUCKET_MS)`: how the sweep finds due carts by equality. */
  expiryBucket: number;
}

export interface CartModels {
  Cart: Model<CartDoc>;
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
      appliedKeys: { type: [String], default: [] },
      createdAt: { type: Date, required: true },
      updatedAt: { type: Date, required: true },
      lastActivityAt: { type: Date, required: true },
      expiresAt: { type: Date, required: true },
      expiryBucket: { type: Number, required: true },
    },
    { collection: 'carts', versionKey: false },
  );
  // For the background sweep only: equality on state and expiry bucket (on FerretDB served by their GIN twins).
  cart.index({ state: 1, expiryBucket: 1 });
  cart.index({ state: 1, expiresAt: 1 });
  const models: CartModels = { Cart: connection.model<CartDoc>('Cart', cart) };
  await models.Cart.init();
  // Carts used to carry unique `tokenHash` and `owner` fields; left in place, those indexes would refuse a second cart without them.
  await Promise.all(['tokenHash_1', 'owner_1'].map((name) => models.Cart.collection.dropIndex(name).catch(() => undefined)));
  return models;
}

/** The carts collection as the kit's guarded writes take it (`updateByIdIf`, `deleteByIdIf`). */
export const cartsIn = (models: CartModels): Model<CartDoc> => models.Cart;
