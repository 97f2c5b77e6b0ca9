/**
 * What the databases say after a gameday: which acknowledged orders exist, which
 * orders were captured more than once (the payment provider's capture ledger),
 * shipments, oversold stock, the inventory's own invariant, and Bull queues'
 * failed/waiting jobs. Reads only.
 */
import mongoose from 'mongoose';
import { Redis } from 'ioredis';
import { oversoldUnits } from './verdict.js';

export interface DbFindings {
  persisted: string[];
  duplicateCharges: number;
  duplicateChargeOrders: string[];
  /** Acknowledged orders of this run that have a shipment. */
  shipped: number;
  ordersByStatus: Record<string, number>;
  oversoldUnits: number;
  oversoldSkus: string[];
  stockInvariant: { ok: boolean | undefined; violations: number; detail?: string };
  queues: Record<string, { waiting: number; active: number; failed: number; delayed: number }>;
  notices: string[];
}

interface StockRow {
  _id: string;
  initial: number;
  adjustments: number;
  available: number;
  reserved: number;
  sold: number;
}

export interface VerifyOptions {
  mongoUri: string;
  redisUrl: string;
  acknowledged: string[];
  edgeUrl: string;
  adminToken: string;
  /** Tries of `GET /api/inventory/check` (3) and the pause between two (5 s): a replica may still be restarting. */
  invariantAttempts?: number;
  invariantRetryMs?: number;
}

/** Orders captured more than once: counted per order in each ledger given, the larger count standing. */
export function duplicateCaptureOrders(ledgers: Array<Iterable<{ orderId?: unknown }>>): string[] {
  const most = new Map<string, number>();
  for (const ledger of ledgers) {
    const counts = new Map<string, number>();
    for (const entry of ledger) counts.set(String(entry.orderId), (counts.get(String(entry.orderId)) ?? 0) + 1);
    for (const [id, n] of counts) most.set(id, Math.max(most.get(id) ?? 0, n));
  }
  return [...most].filter(([, n]) => n > 1).map(([id]) => id).sort();
}

/** The inventory's own invariant, asked `attempts` times before it counts as not checked (`ok: undefined`, which fails the verdict). */
export async function checkStockInvariant(options: Pick<VerifyOptions, 'edgeUrl' | 'adminToken' | 'invariantAttempts' | 'invariantRetryMs'>): Promise<DbFindings['stockInvariant']> {
  const attempts = Math.max(1, options.invariantAttempts ?? 3);
  let detail = '';
  for (let attempt = 1; attempt <= attempts; attempt += 1) {
    if (attempt > 1) await new Promise((resolve) => setTimeout(resolve, options.invariantRetryMs ?? 5_000));
    try {
      const response = await fetch(`${options.edgeUrl}/api/inventory/check`, { headers: { authorization: `Bearer ${options.adminToken}` }, signal: AbortSignal.timeout(60_000) });
      const report = (await response.json().catch(() => ({}))) as { ok?: boolean; violations?: unknown[] };
      if (response.ok && typeof report.ok === 'boolean') return { ok: report.ok, violations: report.violations?.length ?? 0 };
      detail = `GET /api/inventory/check answered ${response.status}`;
    } catch (error) {
      detail = (error as Error).message;
    }
  }
  return { ok: undefined, violations: 0, detail: `${detail} (${attempts} attempt(s))` };
}

export async function verifyDatabases(options: VerifyOptions): Promise<DbFindings> {
  const findings: DbFindings = { persisted: [], duplicateCharges: 0, duplicateChargeOrders: [], shipped: 0, ordersByStatus: {}, oversoldUnits: 0, oversoldSkus: [], stockInvariant: { ok: undefined, violations: 0 }, queues: {}, notices: [] };
  const connection = await mongoose.createConnection(options.mongoUri, { serverSelectionTimeoutMS: 15_000 }).asPromise();
  try {
    const db = connection.db!;
    const collections = new Set((await db.listCollections().toArray()).map((c) => c.name));
    if (collections.has('orders')) {
      const ids = options.acknowledged;
      for (let i = 0; i < ids.length; i += 500) {
        const found = await db.collection<{ _id: string }>('orders').find({ _id: { $in: ids.slice(i, i + 500) } }, { projection: { _id: 1 } }).toArray();
        findings.persisted.push(...found.map((o) => String(o._id)));
      }
      for await (const order of db.collection<{ status?: string }>('orders').find({}, { projection: { status: 1 } })) {
        const status = order.status ?? 'unknown';
        findings.ordersByStatus[status] = (findings.ordersByStatus[status] ?? 0) + 1;
      }
    } else if (options.acknowledged.length > 0) findings.notices.push('orders were acknowledged but there is no orders collection');
    else findings.notices.push('no orders collection: checkout not deployed; lost/duplicate charges are 0 by absence');
    // `payment_captures` holds one document per capture the provider performed (ids of their own), so a
    // double capture shows there; `payment_charges` (one document per order by its id) cannot show one.
    const ledgers: Array<Array<{ orderId?: unknown }>> = [];
    if (collections.has('payment_captures')) ledgers.push(await db.collection<{ orderId?: string }>('payment_captures').find({}, { projection: { orderId: 1 } }).toArray());
    if (collections.has('payment_charges')) {
      ledgers.push(await db.collection<{ orderId?: string; status?: string }>('payment_charges').find({ status: 'captured' }, { projection: { orderId: 1 } }).toArray());
      if (!collections.has('payment_captures')) findings.notices.push('no payment_captures ledger: duplicate charges counted from payment_charges, which holds one document per order and cannot show one');
    }
    findings.duplicateChargeOrders = duplicateCaptureOrders(ledgers);
    findings.duplicateCharges = findings.duplicateChargeOrders.length;
    // Shipments of this run's acknowledged orders only (a shipment's id is its order's): a cluster's database keeps earlier runs.
    if (collections.has('shipments')) {
      for (let i = 0; i < options.acknowledged.length; i += 500) {
        findings.shipped += await db.collection<{ _id: string }>('shipments').countDocuments({ _id: { $in: options.acknowledged.slice(i, i + 500) } });
      }
    }
    if (collections.has('stock')) {
      for await (const stock of db.collection<StockRow>('stock').find({}, { projection: { initial: 1, adjustments: 1, available: 1, reserved: 1, sold: 1 } })) {
        const units = oversoldUnits({ initial: stock.initial ?? 0, adjustments: stock.adjustments ?? 0, available: stock.available ?? 0, reserved: stock.reserved ?? 0, sold: stock.sold ?? 0 });
        if (units > 0) {
          findings.oversoldUnits += units;
          findings.oversoldSkus.push(String(stock._id));
        }
      }
    }
  } finally {
    await connection.close();
  }
  findings.stockInvariant = await checkStockInvariant(options);
  const redis = new Redis(options.redisUrl, { lazyConnect: true, maxRetriesPerRequest: 2 });
  try {
    await redis.connect();
    const names = new Set<string>();
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', 'bull:*:id', 'COUNT', 500);
      cursor = next;
      for (const key of keys) names.add(key.slice('bull:'.length, -':id'.length));
    } while (cursor !== '0');
    for (const name of names) {
      const [waiting, active, failed, delayed] = await Promise.all([redis.llen(`bull:${name}:wait`), redis.llen(`bull:${name}:active`), redis.zcard(`bull:${name}:failed`), redis.zcard(`bull:${name}:delayed`)]);
      findings.queues[name] = { waiting, active, failed, delayed };
    }
  } catch (error) {
    findings.notices.push(`queues not read: ${(error as Error).message}`);
  } finally {
    redis.disconnect();
  }
  return findings;
}
