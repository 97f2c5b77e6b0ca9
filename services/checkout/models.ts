/**
 * Checkout's collections. `orders` is read directly by the gameday verdict
 * (field names are a contract: docs/checkout.md). The outbox is a field of the
 * order, written in the same single-document update that makes it `paid`, so
 * no multi-document transaction is needed for "paid implies published".
 */
import { Schema, type Connection, type Model } from 'mongoose';

export interface Money {
  amount: number;
  currency: string;
}

export interface OrderLine {
  productId: string;
  sku: string;
  name: string;
  unitPrice: Money;
  quantity: number;
  holdId?: string;
}

export type OrderStatus = 'pending' | 'paid' | 'fulfilling' | 'shipped' | 'payment_failed' | 'cancelled';

/** Where a pending order is in the flow; recovery resumes from here. */
export type OrderStep = 'created' | 'charging' | 'committing' | 'done';

export interface ShippingAddress {
  name: string;
  line1: string;
  line2?: string;
  city: string;
  postalCode: string;
  country: string;
}

export interface OrderDoc {
  _id: string;
  status: OrderStatus;
  step: OrderStep;
  /** `<scope>:<Idempotency-Key>`; the order id is derived from it. */
  idempotencyKey: string;
  cartId: string;
  /** `<cartId>:<version>` while the order may still sell; freed when it fails, so the cart can be checked out again. */
  cartVersion: string;
  customerId?: string | null;
  /** SHA-256 of the guest's cart token, so that token can read the order (never the token itself). */
  cartTokenHash?: string | null;
  /** Cart line ids the order took, removed from the cart once it is paid. */
  cartLineIds: string[];
  email: string;
  shippingAddress: ShippingAddress;
  lines: OrderLine[];
  total: Money;
  /** Why it failed or was cancelled (`payment_declined`, `payment_unavailable`, `hold_lost`, `admin`). */
  reason?: string | null;
  payment?: { chargeId: string; status: string } | null;
  /**
   * Publication to the fulfillment queue; `pending` from the moment the order is paid, `sent`
   * once the queue took the job. `checkedAt`: when the job was last published or last found in
   * the queue; `resends`: how often the resend pass published it again (domain/outbox.ts).
   */
  outbox: { state: 'none' | 'pending' | 'sent'; sentAt?: Date | null; checkedAt?: Date | null; resends?: number };
  /**
   * True while `outbox.state` is `pending`, written in the same updates: the relay finds its
   * entries by this top-level equality. FerretDB 1.24 does not push a dotted path down, so
   * `{ 'outbox.state': 'pending' }` read every order of the collection twice a second.
   */
  outboxPending?: boolean;
  /** `bucketOf(outbox.checkedAt, OUTBOX_CHECK_BUCKET_MS)`: how the resend pass finds sent entries by equality (kit/time-buckets.ts). */
  outboxBucket?: number | null;
  cartCleared: boolean;
  /** Holds already released or restocked after a failure (compensation done). */
  compensated: boolean;
  /** A recovery pass owns the order until then (claim-then-act). */
  claimedUntil?: Date | null;
  createdAt: Date;
  updatedAt: Date;
}

export interface PaymentChargeDoc {
  /** `ch_<orderId>`: one charge per order, by construction. */
  _id: string;
  orderId: string;
  amount: number;
  currency: string;
  status: 'captured' | 'refunded' | 'voided' | 'declined';
  createdAt: Date;
  updatedAt: Date;
}

/**
 * One capture the simulated provider performed: money moved. A charge call the provider
 * deduplicates (same order) writes none, so two events for one order are a double capture
 * whatever its cause; the gameday verdict counts them (scripts/lib/gameday/verify.ts).
 */
export interface PaymentCaptureDoc {
  /** `cap_<random>`: never derived from the order, so a second capture is a second document. */
  _id: string;
  orderId: string;
  chargeId: string;
  amount: number;
  currency: string;
  at: Date;
}

export interface CheckoutModels {
  Order: Model<OrderDoc>;
  PaymentCharge: Model<PaymentChargeDoc>;
  PaymentCapture: Model<PaymentCaptureDoc>;
}

export async function createCheckoutModels(connection: Connection): Promise<CheckoutModels> {
  const money = { amount: Number, currency: String };
  const line = new Schema<OrderLine>({ productId: String, sku: String, name: String, unitPrice: money, quantity: Number, holdId: String }, { _id: false });
  const order = new Schema<OrderDoc>(
    {
      _id: { type: String, required: true },
      status: { type: String, required: true },
      step: { type: String, required: true },
      idempotencyKey: { type: String, required: true, unique: true },
      cartId: { type: String, required: true },
      cartVersion: { type: String, required: true, unique: true },
      customerId: { type: String, default: null },
      cartTokenHash: { type: String, default: null },
      cartLineIds: { type: [String], default: [] },
      email: { type: String, required: true },
      shippingAddress: { name: String, line1: String, line2: String, city: String, postalCode: String, country: String },
      lines: { type: [line], default: [] },
      total: money,
      reason: { type: String, default: null },
      payment: { type: { chargeId: String, status: String }, default: null },
      outbox: { state: { type: String, default: 'none' }, sentAt: { type: Date, default: null }, checkedAt: { type: Date, default: null }, resends: { type: Number, default: 0 } },
      outboxBucket: { type: Number, default: null },
      outboxPending: { type: Boolean, default: false },
      cartCleared: { type: Boolean, default: false },
      compensated: { type: Boolean, default: false },
      claimedUntil: { type: Date, default: null },
      createdAt: { type: Date, required: true },
      updatedAt: { type: Date, required: true },
    },
    { collection: 'orders', versionKey: false },
  );
  // Buyer and admin lists, newest first; recovery and relay scans.
  order.index({ customerId: 1, createdAt: -1 });
  order.index({ status: 1, updatedAt: 1 });
  // The resend pass: paid or fulfilling orders by the bucket of their last publication or check.
  order.index({ status: 1, outboxBucket: 1 });
  // The relay: paid orders whose job is not in the queue yet.
  order.index({ outboxPending: 1 });
  const charge = new Schema<PaymentChargeDoc>(
    {
      _id: { type: String, required: true },
      orderId: { type: String, required: true },
      amount: Number,
      currency: String,
      status: { type: String, required: true },
      createdAt: { type: Date, required: true },
      updatedAt: { type: Date, required: true },
    },
    { collection: 'payment_charges', versionKey: false },
  );
  const capture = new Schema<PaymentCaptureDoc>(
    { _id: { type: String, required: true }, orderId: { type: String, required: true }, chargeId: { type: String, required: true }, amount: Number, currency: String, at: { type: Date, required: true } },
    { collection: 'payment_captures', versionKey: false },
  );
  capture.index({ orderId: 1 });
  const models: CheckoutModels = {
    Order: connection.model<OrderDoc>('Order', order),
    PaymentCharge: connection.model<PaymentChargeDoc>('PaymentCharge', charge),
    PaymentCapture: connection.model<PaymentCaptureDoc>('PaymentCapture', capture),
  };
  await Promise.all([models.Order.init(), models.PaymentCharge.init(), models.PaymentCapture.init()]);
  await backfillOutboxPending(connection, models);
  return models;
}

/**
 * Orders paid before `outboxPending` existed and not relayed yet get it, once per database: the
 * first replica to start runs the update (a scan of the orders) and leaves a marker in
 * `migrations`; later starts read the marker by `_id`. Running it twice is harmless.
 */
async function backfillOutboxPending(connection: Connection, models: CheckoutModels): Promise<void> {
  const migrations = connection.collection<{ _id: string; at: Date }>('migrations');
  if (await migrations.findOne({ _id: 'orders.outboxPending' })) return;
  await models.Order.updateMany({ 'outbox.state': 'pending', outboxPending: { $ne: true } }, { $set: { outboxPending: true } });
  await migrations.updateOne({ _id: 'orders.outboxPending' }, { $set: { at: new Date() } }, { upsert: true });
}
