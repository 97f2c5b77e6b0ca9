import { Schema, type Connection, type Model } from 'mongoose';
import { bucketOf } from '../kit/index.js';

/**
 * One document per SKU. Invariant: available + reserved + sold == initial + adjustments.
 * `holds` maps hold id -> units reserved for it: the stock-side record that makes
 * every hold effect idempotent (see domain/effects.ts and docs/carts.md).
 */
export interface StockDoc {
  _id: string;
  initial: number;
  adjustments: number;
  available: number;
  reserved: number;
  sold: number;
  holds: Record<string, number>;
  /** Ids of audit entries already applied, so a replayed adjustment applies once. */
  appliedAdjustments: string[];
  createdAt: Date;
  updatedAt: Date;
}

/** Width of a hold expiry bucket: the sweeper reads the current bucket's live holds every pass. */
export const HOLD_EXPIRY_BUCKET_MS = 60_000;
/** `expiresAt` and its bucket, always written together. */
export const holdExpiry = (expiresAt: Date) => ({ expiresAt, expiryBucket: bucketOf(expiresAt, HOLD_EXPIRY_BUCKET_MS) });

export const HOLD_STATES = ['pending', 'active', 'releasing', 'committing', 'expiring', 'released', 'committed', 'expired', 'rejected'] as const;
export type HoldState = (typeof HOLD_STATES)[number];

/** The intent of a hold; its stock effect lives in StockDoc.holds. */
export interface HoldDoc {
  _id: string;
  sku: string;
  qty: number;
  /** Quantity asked for when the hold was created (replays must match it). */
  requestedQty: number;
  owner: string | null;
  state: HoldState;
  expiresAt: Date;
  /** `bucketOf(expiresAt, HOLD_EXPIRY_BUCKET_MS)`: how the sweeper finds due holds by equality (kit/time-buckets.ts). */
  expiryBucket: number;
  createdAt: Date;
  updatedAt: Date;
  endedAt: Date | null;
  /** Which replica claimed it last (diagnostics). */
  claimedBy: string | null;
}

export type AdjustmentKind = 'initial' | 'set' | 'adjust';
export type AdjustmentState = 'pending' | 'applied' | 'rejected' | 'superseded' | 'abandoned';

/** Audit trail of stock changes made by people: who, when, delta, reason. */
export interface AdjustmentDoc {
  _id: string;
  sku: string;
  kind: AdjustmentKind;
  delta: number;
  reason: string;
  actor: string;
  at: Date;
  state: AdjustmentState;
  onHandAfter: number | null;
}

export interface InventoryModels {
  Stock: Model<StockDoc>;
  Hold: Model<HoldDoc>;
  Adjustment: Model<AdjustmentDoc>;
}

/** Registers the schemas on `connection` and builds their indexes. */
export async function createInventoryModels(connection: Connection): Promise<InventoryModels> {
  const stock = new Schema<StockDoc>(
    {
      _id: { type: String, required: true },
      initial: { type: Number, required: true },
      adjustments: { type: Number, required: true, default: 0 },
      available: { type: Number, required: true },
      reserved: { type: Number, required: true, default: 0 },
      sold: { type: Number, required: true, default: 0 },
      holds: { type: Schema.Types.Mixed, default: {} },
      appliedAdjustments: { type: [String], default: [] },
      createdAt: { type: Date, required: true },
      updatedAt: { type: Date, required: true },
    },
    { collection: 'stock', versionKey: false, minimize: false },
  );

  const hold = new Schema<HoldDoc>(
    {
      _id: { type: String, required: true },
      // '' only on a tombstone (a release that came before its reserve, holds.ts).
      sku: { type: String, default: '' },
      qty: { type: Number, required: true },
      requestedQty: { type: Number, required: true },
      owner: { type: String, default: null },
      state: { type: String, enum: HOLD_STATES, required: true },
      expiresAt: { type: Date, required: true },
      expiryBucket: { type: Number, required: true },
      createdAt: { type: Date, required: true },
      updatedAt: { type: Date, required: true },
      endedAt: { type: Date, default: null },
      claimedBy: { type: String, default: null },
    },
    { collection: 'holds', versionKey: false },
  );
  // Sweeper searches: live holds by expiry bucket (equality: FerretDB pushes nothing else down),
  // transitional ones by state, ended ones by end time.
  hold.index({ state: 1, expiryBucket: 1 });
  hold.index({ state: 1, expiresAt: 1 });
  hold.index({ state: 1, updatedAt: 1 });
  // Per-customer and per-client usage on the add-to-cart path (domain/owners.ts): two equalities,
  // pushed down by FerretDB and answered from both fields' indexes (test/inventory/explain.test.ts).
  hold.index({ owner: 1, sku: 1 });

  const adjustment = new Schema<AdjustmentDoc>(
    {
      _id: { type: String, required: true },
      sku: { type: String, required: true },
      kind: { type: String, required: true },
      delta: { type: Number, required: true },
      reason: { type: String, required: true },
      actor: { type: String, required: true },
      at: { type: Date, required: true },
      state: { type: String, required: true },
      onHandAfter: { type: Number, default: null },
    },
    { collection: 'stock_adjustments', versionKey: false },
  );
  adjustment.index({ sku: 1, at: -1 });
  adjustment.index({ state: 1, at: 1 });

  const models: InventoryModels = {
    Stock: connection.model<StockDoc>('Stock', stock),
    Hold: connection.model<HoldDoc>('Hold', hold),
    Adjustment: connection.model<AdjustmentDoc>('Adjustment', adjustment),
  };
  await Promise.all([models.Stock.init(), models.Hold.init(), models.Adjustment.init()]);
  // Per-owner lists of hold ids (`hold_owners`) answered usage by `_id` until holds got the owner index above.
  await connection.db?.dropCollection('hold_owners').catch(() => undefined);
  return models;
}
