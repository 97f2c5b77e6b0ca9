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
  _id: string;
  /** sha256 of the cart token; the token itself is never stored. */
  tokenHash: string;
  /** `anon:<cartId>` or `customer:<customerId>`; unique, so a customer has one cart. */
  owner: string;
  customerId: string | null;
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
      tokenHash: { type: String, required: true, unique: true },
      owner: { type: String, required: true, unique: true },
      customerId: { type: String, default: null },
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
  cart.index({ state: 1, expiresAt: 1 });
  const models: CartModels = { Cart: connection.model<CartDoc>('Cart', cart) };
  await models.Cart.init();
  return models;
}
