/**
 * Per-owner lists of hold ids (`hold_owners`, one document per SKU and owner),
 * so the per-customer usage on the add-to-cart path reads by `_id` instead of
 * filtering holds by owner and SKU, which FerretDB 1.24 does by scanning every
 * hold (see kit/guarded-write.ts). The list is a superset: an id is added before the hold
 * gets the owner (reserve, or a change of owner), and the reader checks each
 * hold's owner and SKU. Ids leave the list only once their hold has ended
 * (released, expired, rejected: such a hold never counts again), on read and
 * when the reconciler deletes old holds. All writes to one list take a lock,
 * since FerretDB loses concurrent updates to one document.
 */
import { findByIds } from '../../kit/index.js';
import type { HoldDoc, HoldState, InventoryModels } from '../models.js';
import type { HoldDeps } from './holds.js';

const ENDED: HoldState[] = ['released', 'expired', 'rejected'];
const keyOf = (sku: string, owner: string) => `${sku}/${owner}`;

type OwnerDeps = Pick<HoldDeps, 'models' | 'clock' | 'lock'>;

function withList<T>(deps: OwnerDeps, key: string, fn: () => Promise<T>): Promise<T> {
  return deps.lock(`owner/${key}`, fn);
}

/** Lists `holdId` under `owner` for `sku`; call before the hold gets that owner. Idempotent. */
export async function noteOwner(deps: OwnerDeps, owner: string, sku: string, holdId: string): Promise<void> {
  const key = keyOf(sku, owner);
  await withList(deps, key, () =>
    deps.models.HoldOwner.updateOne({ _id: key }, { $addToSet: { holds: holdId }, $set: { updatedAt: new Date(deps.clock.now()) } }, { upsert: true }),
  );
}

/** The holds `owner` has for `sku` (any state but ended), each read by `_id`; drops ended ones from the list. */
export async function heldBy(deps: OwnerDeps, owner: string, sku: string): Promise<HoldDoc[]> {
  const key = keyOf(sku, owner);
  const list = await deps.models.HoldOwner.findById(key).lean();
  if (!list || list.holds.length === 0) return [];
  const read = await readHolds(deps.models, list.holds);
  // An ended hold never changes owner again, so it goes from this list even if it ended under another owner (moved, e.g. by a cart merge).
  const ended = read.filter((hold) => ENDED.includes(hold.state)).map((hold) => hold._id);
  if (ended.length > 0) await forget(deps, key, ended);
  return read.filter((hold) => hold.owner === owner && hold.sku === sku && !ENDED.includes(hold.state));
}

/** Removes ended holds from their owner's list (the reconciler, before it deletes them). */
export async function forgetEnded(deps: OwnerDeps, holds: Pick<HoldDoc, '_id' | 'owner' | 'sku'>[]): Promise<void> {
  const byKey = new Map<string, string[]>();
  for (const hold of holds) {
    if (!hold.owner) continue;
    const key = keyOf(hold.sku, hold.owner);
    byKey.set(key, [...(byKey.get(key) ?? []), hold._id]);
  }
  for (const [key, ids] of byKey) await forget(deps, key, ids);
}

async function forget(deps: OwnerDeps, key: string, ids: string[]): Promise<void> {
  await withList(deps, key, async () => {
    const list = await deps.models.HoldOwner.findByIdAndUpdate(key, { $pullAll: { holds: ids } }, { new: true, lean: true });
    // Under the lock nobody adds meanwhile, so an empty list can go.
    if (list && list.holds.length === 0) await deps.models.HoldOwner.deleteOne({ _id: key });
  });
}

/** Point reads (kit/guarded-write.ts): FerretDB 1.24 pushes down `{ _id: <string> }` but not `$in`. */
const readHolds = (models: InventoryModels, ids: string[]) => findByIds<HoldDoc>(models.Hold, ids);
