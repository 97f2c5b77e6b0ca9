/**
 * Holds: reservations of stock with an expiry. A hold document records the
 * intent (state machine below); its effect on stock is applied by effects.ts,
 * keyed by hold id. Every transition is one conditional update on the hold,
 * every effect one conditional update on the stock document.
 *
 *   pending ──► active ──► releasing ──► released
 *      │          ├──────► committing ─► committed
 *      │          └──────► expiring ───► expired      (sweeper, or eagerly on access)
 *      ├──────────────────► expiring                   (reserve never finished; after a grace period)
 *      └──► rejected                                   (not enough stock)
 *
 * Transitional states (releasing, committing, expiring) already decide the
 * outcome; finishing them is idempotent, so anyone may finish them again.
 */
import { createHash } from 'node:crypto';
import { conflict, createBucketMarks, driverCollection, notFound, sweepDueBuckets, updateByIdIf, updateOneByIdIf, type Clock, type WithLock } from '../../kit/index.js';
import { HOLD_EXPIRY_BUCKET_MS, holdExpiry, type HoldDoc, type HoldState, type InventoryModels } from '../models.js';
import { admit, settleTicket, applyRemove, applyReserve, applyResize, type EffectDeps } from './effects.js';
import { heldBy } from './owners.js';
import { adjustStock, type AdjustmentView, type StockDeps, type StockView } from './stock.js';

export interface HoldDeps extends EffectDeps {
  models: InventoryModels;
  clock: Clock;
  lock: WithLock;
  /** Name of this replica, stored on claims for diagnostics. */
  replica: string;
  /** Told of each hold outcome once, by the replica whose conditional update made it (the `inventory_holds_total` counter). */
  onOutcome?: (outcome: HoldOutcome) => void;
}

/**
 * What became of a hold: `created` (units reserved, the hold is active), `rejected`
 * (not enough stock: a refused reserve), then one of `released`, `expired`, `committed`.
 */
export type HoldOutcome = 'created' | 'rejected' | 'released' | 'expired' | 'committed';
export const HOLD_OUTCOMES: readonly HoldOutcome[] = ['created', 'rejected', 'released', 'expired', 'committed'];

export type PublicHoldState = 'pending' | 'active' | 'released' | 'committed' | 'expired' | 'rejected';

export interface HoldView {
  id: string;
  sku: string;
  qty: number;
  owner: string | null;
  state: PublicHoldState;
  expiresAt: string;
  createdAt: string;
  endedAt: string | null;
}

const TRANSITIONAL: Partial<Record<HoldState, { final: HoldState; to: 'available' | 'sold' }>> = {
  releasing: { final: 'released', to: 'available' },
  expiring: { final: 'expired', to: 'available' },
  committing: { final: 'committed', to: 'sold' },
};
const LIVE: HoldState[] = ['pending', 'active'];
/** Hold writes are guarded by state (kit/guarded-write.ts). */
const holdsIn = (models: InventoryModels) => models.Hold;

/** The state a client sees: a transitional state shows its decided outcome; a live hold past its expiry is expired. */
export function publicState(hold: HoldDoc, now: number): PublicHoldState {
  const transition = TRANSITIONAL[hold.state];
  if (transition) return transition.final as PublicHoldState;
  if (LIVE.includes(hold.state) && hold.expiresAt.getTime() <= now) return 'expired';
  return hold.state as PublicHoldState;
}

export function toHoldView(hold: HoldDoc, now: number): HoldView {
  return {
    id: hold._id,
    sku: hold.sku,
    qty: hold.qty,
    owner: hold.owner,
    state: publicState(hold, now),
    expiresAt: hold.expiresAt.toISOString(),
    createdAt: hold.createdAt.toISOString(),
    endedAt: hold.endedAt ? hold.endedAt.toISOString() : null,
  };
}

export interface ReserveInput {
  id: string;
  sku: string;
  qty: number;
  ttlS: number;
  owner: string | null;
}

/**
 * Reserves `qty` units under a caller-chosen hold id. A retry with the same id
 * and parameters returns the same hold and never reserves twice.
 */
export async function reserve(deps: HoldDeps, input: ReserveInput): Promise<{ hold: HoldView; created: boolean }> {
  const { models, clock } = deps;
  const now = new Date(clock.now());
  let hold: HoldDoc;
  let created = true;
  // Sold out is answered from the gate, before anything is written or locked (a retry of a live hold has its ticket).
  const admission = await admit(deps, input.id, input.sku, input.qty);
  if (admission.kind === 'sold_out') {
    deps.onOutcome?.('rejected');
    throw soldOut(input.sku, input.qty, admission.available);
  }
  try {
    // Straight to the driver, as the cart's hot writes (cart/domain/carts.ts `save`): a mongoose document per reserve cost more CPU than the insert.
    hold = {
      _id: input.id, sku: input.sku, qty: input.qty, requestedQty: input.qty, owner: input.owner ?? null, state: 'pending',
      ...holdExpiry(new Date(now.getTime() + input.ttlS * 1_000)), createdAt: now, updatedAt: now, endedAt: null, claimedBy: null,
    };
    await driverCollection(models.Hold).insertOne(hold);
  } catch (error) {
    if ((error as { code?: number }).code !== 11000) throw error;
    const existing = await models.Hold.findById(input.id).lean<HoldDoc>();
    if (!existing) throw error;
    // A replay: the ticket admit() gave it must match what the database holds for this id.
    await settleTicket(deps, input.id, input.sku);
    // A tombstone: the caller released this id before its reserve arrived (it gave up waiting).
    if (existing.state === 'released' && existing.sku === '') throw conflict('hold_ended', `hold ${input.id} was released`, { holdId: input.id, state: 'released' });
    if (existing.sku !== input.sku || existing.requestedQty !== input.qty) {
      throw conflict('hold_id_conflict', `hold ${input.id} already exists for different stock`, { holdId: input.id });
    }
    hold = existing;
    created = false;
  }
  if (hold.state === 'rejected') throw await insufficient(deps, input.sku, input.qty);
  if (hold.state !== 'pending') return { hold: toHoldView(hold, clock.now()), created };

  const outcome = await applyReserve(deps, input.id, input.sku, input.qty);
  if (outcome.kind === 'applied' || outcome.kind === 'already') {
    const activatedAt = new Date(clock.now());
    if (await updateOneByIdIf(holdsIn(models), input.id, { state: 'pending' }, { $set: { state: 'active', updatedAt: activatedAt } })) {
      deps.onOutcome?.('created');
      return { hold: toHoldView({ ...hold, state: 'active', updatedAt: activatedAt }, clock.now()), created };
    }
    // Released (the caller gave up) or expired while the units were being reserved: return them now, not at the next reconcile.
    const ended = await mustFind(models, input.id);
    if (ended.state !== 'active') {
      await applyRemove(deps, input.id, input.sku, 'available');
      throw await endedError(deps, input.id);
    }
    return { hold: toHoldView(ended, clock.now()), created };
  }
  if (await updateOneByIdIf(holdsIn(models), input.id, { state: 'pending' }, { $set: { state: 'rejected', endedAt: new Date(clock.now()), updatedAt: new Date(clock.now()) } })) deps.onOutcome?.('rejected');
  throw soldOut(input.sku, input.qty, outcome.kind === 'insufficient' ? outcome.available : 0);
}

const soldOut = (sku: string, requested: number, available: number) =>
  conflict('insufficient_stock', `only ${available} of ${sku} available`, { sku, requested, available });

export async function getHold(deps: HoldDeps, id: string): Promise<HoldView> {
  return toHoldView(await mustFind(deps.models, id), deps.clock.now());
}

export interface ModifyInput {
  qty?: number;
  ttlS?: number;
  owner?: string | null;
}

/** Resizes and/or extends a live hold. Growing needs the extra units available (409 otherwise). */
export async function modify(deps: HoldDeps, id: string, input: ModifyInput): Promise<HoldView> {
  const { models, clock } = deps;
  const hold = await requireLive(deps, id);
  if (input.qty !== undefined && input.qty !== hold.qty) {
    const outcome = await applyResize(deps, id, hold.sku, input.qty);
    if (outcome.kind === 'missing') throw await endedError(deps, id);
    if (outcome.kind === 'insufficient') {
      throw conflict('insufficient_stock', `only ${outcome.available} more of ${hold.sku} available`, { sku: hold.sku, requested: input.qty, held: outcome.from, available: outcome.available });
    }
  }
  const set: Record<string, unknown> = { updatedAt: new Date(clock.now()) };
  if (input.qty !== undefined) set.qty = input.qty;
  if (input.ttlS !== undefined) Object.assign(set, holdExpiry(new Date(clock.now() + input.ttlS * 1_000)));
  if (input.owner !== undefined) set.owner = input.owner;
  const updated = await updateByIdIf(holdsIn(models), id, { state: 'active', expiresAt: { $gt: new Date(clock.now()) } }, { $set: set });
  // If it expired in between, the sweeper returns whatever the entry holds now; the reconciler fixes a stale qty.
  if (!updated) throw await endedError(deps, id);
  return toHoldView(updated, clock.now());
}

/** Ends a hold and returns its units. Idempotent: releasing an ended hold answers its final state. */
export async function release(deps: HoldDeps, id: string): Promise<HoldView> {
  const { models, clock } = deps;
  const claimed = await updateByIdIf(holdsIn(models), id, { state: { $in: LIVE } }, { $set: { state: 'releasing', updatedAt: new Date(clock.now()), claimedBy: deps.replica } });
  const hold = claimed ?? (await models.Hold.findById(id).lean<HoldDoc>()) ?? (await tombstone(deps, id));
  if (hold.state === 'committing' || hold.state === 'committed') throw conflict('hold_ended', `hold ${id} is committed`, { holdId: id, state: 'committed' });
  return toHoldView(await finish(deps, hold), clock.now());
}

/**
 * Releasing an id inventory has not seen: its reserve may still be on the way
 * (the caller timed out and gave up). A released hold with no SKU is left under
 * that id, so the reserve, when it arrives, finds it and reserves nothing. The
 * reconciler deletes it with other old released holds.
 */
async function tombstone(deps: HoldDeps, id: string): Promise<HoldDoc> {
  const now = new Date(deps.clock.now());
  try {
    const doc = await deps.models.Hold.create({ _id: id, sku: '', qty: 0, requestedQty: 0, owner: null, state: 'released', ...holdExpiry(now), createdAt: now, updatedAt: now, endedAt: now, claimedBy: deps.replica });
    return doc.toObject();
  } catch (error) {
    if ((error as { code?: number }).code !== 11000) throw error;
    // The reserve created it meanwhile: release that hold as usual.
    return release(deps, id).then(() => mustFind(deps.models, id));
  }
}

/** Turns a live hold into sold units (checkout). Idempotent; an expired hold cannot be committed. */
export async function commit(deps: HoldDeps, id: string): Promise<HoldView> {
  const { models, clock } = deps;
  const claimed = await updateByIdIf(
    holdsIn(models),
    id,
    { state: 'active', expiresAt: { $gt: new Date(clock.now()) } },
    { $set: { state: 'committing', updatedAt: new Date(clock.now()), claimedBy: deps.replica } },
  );
  const hold = claimed ?? (await mustFind(models, id));
  if (hold.state === 'committing' || hold.state === 'committed') return toHoldView(await finish(deps, hold), clock.now());
  throw await endedError(deps, id);
}

/**
 * Puts the units a committed hold sold back on the shelf (an order that did not
 * sell after all: cancelled, or failed after its commit), at most once per
 * hold: the audit id is derived from the hold id, so a repeat replays the same
 * adjustment. This is what services get instead of the admin's free-form stock
 * adjustments: they can only return what a hold really sold. A hold that is not
 * committed is a 409 (`hold_not_committed`; release a live hold instead).
 */
export async function restockCommitted(deps: HoldDeps & StockDeps, id: string): Promise<{ hold: HoldView; adjustment: AdjustmentView; stock: StockView; replayed: boolean }> {
  let hold = await mustFind(deps.models, id);
  if (hold.state === 'committing') hold = await finish(deps, hold);
  if (hold.state !== 'committed' || hold.qty < 1) {
    throw conflict('hold_not_committed', `hold ${id} is ${publicState(hold, deps.clock.now())}, not committed: nothing was sold to restock`, { holdId: id, state: publicState(hold, deps.clock.now()) });
  }
  const adjustmentId = `rh_${createHash('sha256').update(id).digest('hex').slice(0, 40)}`;
  const result = await adjustStock(deps, hold.sku, hold.qty, { reason: `committed hold ${id} returned`, actor: 'service' }, adjustmentId);
  return { hold: toHoldView(hold, deps.clock.now()), ...result };
}

/**
 * Applies the decided outcome of a transitional hold and records the final
 * state. Safe to run any number of times, by anyone, concurrently.
 */
export async function finish(deps: HoldDeps, hold: HoldDoc): Promise<HoldDoc> {
  const transition = TRANSITIONAL[hold.state];
  if (!transition) return hold;
  const moved = await applyRemove(deps, hold._id, hold.sku, transition.to);
  const set: Record<string, unknown> = { state: transition.final, endedAt: new Date(deps.clock.now()), updatedAt: new Date(deps.clock.now()) };
  // A commit sells exactly what was reserved; record it (it differs from qty only after a half-done resize).
  if (transition.to === 'sold' && moved > 0) set.qty = moved;
  const done = await updateByIdIf(holdsIn(deps.models), hold._id, { state: hold.state }, { $set: set });
  if (done) deps.onOutcome?.(transition.final as HoldOutcome);
  return done ?? (await mustFind(deps.models, hold._id));
}

/**
 * Claims live holds past their expiry (pending ones only after a grace period), at
 * most `batch`, found bucket by bucket (kit/time-buckets.ts) so no pass reads the
 * holds that are not due; `onClaimed` returns each one's units. Returns how many it claimed.
 */
export async function claimDue(deps: HoldDeps, options: { pendingGraceMs: number; batch: number }, onClaimed: (hold: HoldDoc) => Promise<unknown>): Promise<number> {
  const now = deps.clock.now();
  const marks = createBucketMarks(deps.models.Hold.db);
  let claimed = 0;
  for (const [state, dueAt] of [['active', now], ['pending', now - options.pendingGraceMs]] as const) {
    await sweepDueBuckets<Pick<HoldDoc, '_id' | 'expiresAt'>>({
      name: `holds:${state}`, marks, sizeMs: HOLD_EXPIRY_BUCKET_MS, dueAt, batch: options.batch - claimed,
      load: (bucket) => deps.models.Hold.find({ state, expiryBucket: bucket }, { expiresAt: 1 }).lean<Array<Pick<HoldDoc, '_id' | 'expiresAt'>>>(),
      loadAllDue: () => deps.models.Hold.find({ state, expiresAt: { $lte: new Date(dueAt) } }, { expiresAt: 1 }).lean<Array<Pick<HoldDoc, '_id' | 'expiresAt'>>>(),
      timeOf: (hold) => hold.expiresAt,
      handle: async (hold) => {
        const set = { $set: { state: 'expiring', updatedAt: new Date(deps.clock.now()), claimedBy: deps.replica } };
        const won = await updateByIdIf(holdsIn(deps.models), hold._id, { state, expiresAt: { $lte: new Date(dueAt) } }, set);
        if (!won) return;
        claimed += 1;
        await onClaimed(won);
      },
    });
    if (claimed >= options.batch) break;
  }
  return claimed;
}

/** Claims one live hold past its expiry (pending ones only after a grace period) and leaves it `expiring` (tests stop a sweeper there). */
export async function claimExpired(deps: HoldDeps, pendingGraceMs: number): Promise<HoldDoc | null> {
  let first: HoldDoc | null = null;
  await claimDue(deps, { pendingGraceMs, batch: 1 }, async (hold) => (first = hold));
  return first;
}

/** Units held and sold for one owner (e.g. a customer) and SKU, for per-customer limits. Reads by `_id` only (owners.ts). */
export async function usage(deps: HoldDeps, owner: string, sku: string): Promise<{ owner: string; sku: string; held: number; committed: number }> {
  const now = deps.clock.now();
  let held = 0;
  let committed = 0;
  for (const hold of await heldBy(deps, owner, sku)) {
    const state = publicState(hold, now);
    if (state === 'committed') committed += hold.qty;
    else if (state === 'active' || state === 'pending') held += hold.qty;
  }
  return { owner, sku, held, committed };
}

async function requireLive(deps: HoldDeps, id: string): Promise<HoldDoc> {
  const hold = await mustFind(deps.models, id);
  if (hold.state === 'active' && hold.expiresAt.getTime() > deps.clock.now()) return hold;
  throw await endedError(deps, id);
}

/** The 409 for a hold that is no longer live; an expired one is expired right away so its units return now. */
async function endedError(deps: HoldDeps, id: string) {
  let hold = await mustFind(deps.models, id);
  if (LIVE.includes(hold.state) && hold.expiresAt.getTime() <= deps.clock.now()) {
    const claimed = await updateByIdIf(
      holdsIn(deps.models),
      id,
      { state: hold.state, expiresAt: { $lte: new Date(deps.clock.now()) } },
      { $set: { state: 'expiring', updatedAt: new Date(deps.clock.now()), claimedBy: deps.replica } },
    );
    if (claimed) hold = await finish(deps, claimed);
  }
  const state = publicState(hold, deps.clock.now());
  if (state === 'expired') return conflict('hold_expired', `hold ${id} expired at ${hold.expiresAt.toISOString()}`, { holdId: id, state });
  return conflict('hold_ended', `hold ${id} is ${state}`, { holdId: id, state });
}

async function insufficient(deps: HoldDeps, sku: string, qty: number) {
  const stock = await deps.models.Stock.findById(sku, { available: 1 }).lean<{ available: number }>();
  return conflict('insufficient_stock', `only ${stock?.available ?? 0} of ${sku} available`, { sku, requested: qty, available: stock?.available ?? 0 });
}

async function mustFind(models: InventoryModels, id: string): Promise<HoldDoc> {
  const hold = await models.Hold.findById(id).lean<HoldDoc>();
  if (!hold) throw notFound(`no hold ${id}`);
  return hold;
}
