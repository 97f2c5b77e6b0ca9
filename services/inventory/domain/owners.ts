/**
 * The holds of one owner (a customer, a guest client, a cart) for one SKU, for
 * the per-customer and per-client caps on the add-to-cart path. One query on
 * `{ owner, sku }`: FerretDB 1.24 pushes both equalities down and PostgreSQL
 * answers them from the two fields' indexes (a BitmapAnd; MongoDB from the
 * `{ owner: 1, sku: 1 }` index), see test/inventory/explain.test.ts.
 *
 * Per-owner lists of hold ids (`hold_owners`, read by `_id`) did this while
 * FerretDB ran on SQLite, which scanned for any filter but `_id`; they cost each
 * reserve a lock and a write. A hold gets its owner in the document written before
 * its units move (reserve) or in the guarded update that changes it (modify), so a
 * hold that holds units for an owner is always found under that owner.
 */
import type { HoldDoc, HoldState } from '../models.js';
import type { HoldDeps } from './holds.js';

const ENDED: HoldState[] = ['released', 'expired', 'rejected'];

/** The holds `owner` has for `sku` that have not ended (live, transitional or committed). */
export async function heldBy(deps: Pick<HoldDeps, 'models'>, owner: string, sku: string): Promise<HoldDoc[]> {
  const holds = await deps.models.Hold.find({ owner, sku }).lean<HoldDoc[]>();
  return holds.filter((hold) => !ENDED.includes(hold.state));
}
