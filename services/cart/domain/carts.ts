/**
 * Carts: addressing (token or customer), loading, saving, and the view with its
 * hold bookkeeping. Writes replace the lines as a whole under a per-cart lock,
 * guarded by `version` (single-document, no transactions). Every lookup is by
 * `_id`, derived from the token or the customer (see models.ts for why).
 */
import { createHash, randomBytes } from 'node:crypto';
import { AppError, conflict, driverCollection, neverSent, notFound, updateByIdIf } from '../../kit/index.js';
import type { Product } from '../clients.js';
import { cartExpiry, cartsIn, type CartDoc, type CartLine, type LineHold, type Money } from '../models.js';
import type { CartDeps } from './context.js';
import { releaseAll } from './sweep.js';
import { hashCartToken, newCartToken } from './tokens.js';

const DAY_MS = 86_400_000;
/** A GET refreshes the sliding expiry at most this often (saves a write per view). */
const TOUCH_EVERY_MS = 3_600_000;
const ANON = 'a-';

export interface Caller {
  cartToken?: string;
  customerId?: string;
}

export const newId = () => randomBytes(12).toString('base64url');

/** The guest cart a token opens: `a-` and the token's SHA-256 (the token is never stored). */
export const anonCartId = (token: string) => `${ANON}${hashCartToken(token)}`;
/** A customer's one cart. */
export const customerCartId = (customerId: string) => `c-${customerId}`;

export function expiryFor(deps: CartDeps, customerId: string | null, now: number): Date {
  const days = customerId ? deps.config.CART_CUSTOMER_TTL_DAYS : deps.config.CART_ANON_TTL_DAYS;
  return new Date(now + days * DAY_MS);
}

/** Whose usage a hold counts toward: the customer, else the guest cart's client key (per-client cap), else the cart. */
export const holdOwner = (cart: Pick<CartDoc, '_id' | 'customerId' | 'clientKey'>) =>
  cart.customerId ? `customer:${cart.customerId}` : cart.clientKey ? `client:${cart.clientKey}` : `cart:${cart._id}`;

function freshCart(deps: CartDeps, id: string, customerId: string | null, version = 0): CartDoc {
  const now = new Date(deps.clock.now());
  return {
    _id: id, customerId, lines: [], state: 'open', version, mergedFrom: [],
    createdAt: now, updatedAt: now, lastActivityAt: now, ...cartExpiry(expiryFor(deps, customerId, now.getTime())),
  };
}

/** An anonymous cart, or the customer's one cart (created on first use). */
export async function createCart(deps: CartDeps, customerId: string | null): Promise<{ cart: CartDoc; token: string | null; created: boolean }> {
  if (customerId) return openCustomerCart(deps, customerId);
  const { token, hash } = newCartToken();
  const cart = freshCart(deps, `${ANON}${hash}`, null);
  // Straight to the driver, as `save` (the document is built here, field by field as the schema has it).
  await driverCollection(deps.models.Cart).insertOne(cart);
  // Nobody else knows the token yet: no lock needed for the copy (cart-cache.ts).
  await deps.cache.put(cart);
  return { cart, token, created: true };
}

async function openCustomerCart(deps: CartDeps, customerId: string): Promise<{ cart: CartDoc; token: null; created: boolean }> {
  const id = customerCartId(customerId);
  const existing = await deps.models.Cart.findById(id).lean<CartDoc>();
  if (existing && isLive(deps, existing)) return { cart: existing, token: null, created: false };
  if (existing) return renewDead(deps, id, customerId);
  try {
    const cart = freshCart(deps, id, customerId);
    await deps.models.Cart.create(cart);
    // Version 0: a put that lands after a later write's is refused (cart-cache.ts).
    await deps.cache.put(cart);
    return { cart, token: null, created: true };
  } catch (error) {
    // Two first requests of one customer raced; the unique _id kept one cart.
    if ((error as { code?: number }).code !== 11000) throw error;
    const winner = await deps.models.Cart.findById(id).lean<CartDoc>();
    if (winner && isLive(deps, winner)) return { cart: winner, token: null, created: false };
    throw error;
  }
}

/**
 * The customer's cart expired but the sweeper has not deleted it yet: its id is
 * taken, so it is emptied into a new cart in place (its live holds released, as
 * the sweeper would; any left over expire on their own).
 */
async function renewDead(deps: CartDeps, id: string, customerId: string): Promise<{ cart: CartDoc; token: null; created: boolean }> {
  return deps.lock(id, async () => {
    const dead = await deps.models.Cart.findById(id).lean<CartDoc>();
    if (dead && isLive(deps, dead)) return { cart: dead, token: null, created: false };
    const { _id, ...fresh } = freshCart(deps, id, customerId, (dead?.version ?? 0) + 1);
    // The sweeper deleted it meanwhile.
    if (!dead) {
      await deps.models.Cart.create({ _id, ...fresh });
      await deps.cache.put({ _id, ...fresh });
      return { cart: { _id, ...fresh }, token: null, created: true };
    }
    await releaseAll(deps, dead);
    const cart = await updateByIdIf(cartsIn(deps.models), _id, { version: dead.version, state: dead.state }, { $set: fresh });
    if (!cart) throw conflict('cart_changed', 'the cart changed meanwhile; try again');
    await deps.cache.put(cart);
    return { cart, token: null, created: true };
  });
}

/** The id a request addresses: the customer's cart, else the token's; 404 when it names none. */
export function cartIdOf(caller: Caller): string {
  if (caller.customerId) return customerCartId(caller.customerId);
  if (caller.cartToken) return anonCartId(caller.cartToken);
  throw notFound('no such cart');
}

/**
 * The cart a request addresses. A customer's cart needs the customer's token; a
 * cart token alone opens anonymous carts only (their ids differ by construction).
 * Unknown, expired and not-yours all answer the same 404, so a token reveals
 * nothing about other carts.
 */
export async function resolveCart(deps: CartDeps, caller: Caller): Promise<CartDoc> {
  const cart = await findLive(deps, cartIdOf(caller));
  if (!cart) throw notFound('no such cart');
  return cart;
}

export async function findByToken(deps: CartDeps, token: string): Promise<CartDoc | null> {
  return findLive(deps, anonCartId(token));
}

/**
 * The live cart with this id, if its owner is the one its id names: the Redis copy when there is one
 * (cart-cache.ts), else the database's. `underLock`: the caller holds the cart's lock, so a database
 * read may become the copy. `fromDb`: skip the copy (a guarded save just found it behind).
 */
async function findLive(deps: CartDeps, id: string, options: { underLock?: boolean; fromDb?: boolean } = {}): Promise<CartDoc | null> {
  let cart: CartDoc | null | undefined = options.fromDb ? undefined : await deps.cache.get(id);
  if (!cart) {
    cart = await deps.models.Cart.findById(id).lean<CartDoc>();
    if (cart && options.underLock) await deps.cache.put(cart);
  }
  if (!cart || !isLive(deps, cart)) return null;
  const idOfOwner = cart.customerId ? customerCartId(cart.customerId) : cart._id.startsWith(ANON) ? cart._id : null;
  return idOfOwner === cart._id ? cart : null;
}

/** Past its sliding expiry a cart is gone for its owner, even before the sweeper deletes it. */
const isLive = (deps: CartDeps, cart: CartDoc) => cart.state === 'open' && cart.expiresAt.getTime() > deps.clock.now();

/**
 * Runs `change` on a fresh copy of the cart under its lock and saves the result
 * (lines, sliding expiry) with a version guard. Returns the saved cart.
 */
export async function mutateCart(deps: CartDeps, cartId: string, change: (cart: CartDoc) => Promise<void>, opKey?: string): Promise<CartDoc> {
  // The change of this Idempotency-Key is already in the cart: its first run saved it, but its answer was
  // lost (the key's lease ran out while that run was slow, and a retry took the key over). Nothing to do again.
  const applied = opKey ? keyHash(opKey) : undefined;
  return withLockedCart(deps, cartId, async (cart) => {
    if (applied && cart.appliedKeys?.includes(applied)) return cart;
    await change(cart);
    if (applied) cart.appliedKeys = [...(cart.appliedKeys ?? []), applied].slice(-APPLIED_KEYS);
    return save(deps, cart);
  });
}

/**
 * Under the cart's lock: `work` on the live cart (its Redis copy, else the database's), undoing its hold
 * changes if it does not save. A save that finds the copy behind the database (a write that bypassed it)
 * drops the copy and runs `work` once more on the database's cart.
 */
function withLockedCart<T>(deps: CartDeps, cartId: string, work: (cart: CartDoc) => Promise<T>): Promise<T> {
  return deps.lock(cartId, async () => {
    const attempt = async (fromDb: boolean) => {
      const cart = await findLive(deps, cartId, { underLock: true, fromDb });
      if (!cart) throw notFound('no such cart');
      return undoUnlessSaved(cart, () => work(cart));
    };
    try {
      return await attempt(false);
    } catch (error) {
      if (!(error instanceof StaleCopy)) throw error;
      await deps.cache.drop(cartId);
      return attempt(true);
    }
  });
}

/** A guarded save failed: the cart read (copy or database) is not the database's current version. */
class StaleCopy extends AppError {
  constructor() {
    super(409, 'cart_changed', 'Conflict', { detail: 'the cart changed meanwhile; reload it and try again' });
  }
}

/** How many recent Idempotency-Keys a cart remembers as applied. */
const APPLIED_KEYS = 20;
const keyHash = (key: string) => createHash('sha256').update(key).digest('base64url').slice(0, 16);

/** Inventory changes made for a cart document that is not saved yet (ensureHold registers them). */
const unsaved = new WeakMap<CartDoc, Array<() => Promise<unknown>>>();

/**
 * Runs `work` (changes to `cart`, then its save). If it fails, every hold change it made is undone:
 * a hold reserved for a line that was never saved is released, a resized one goes back to the
 * line's saved quantity. Cart and inventory then agree on every hold id and its units, also when a
 * save fails after inventory said yes (a gap found while tracing the doorbuster's orphaned holds:
 * such a hold would count units for a line that does not exist until it expires).
 */
async function undoUnlessSaved<T>(cart: CartDoc, work: () => Promise<T>): Promise<T> {
  const undo: Array<() => Promise<unknown>> = [];
  unsaved.set(cart, undo);
  try {
    return await work();
  } catch (error) {
    // A release inventory cannot take now is owed and retried (owed-releases.ts); a resize back that fails leaves the hold to expire.
    await Promise.all(undo.map((step) => step().catch(() => undefined)));
    throw error;
  } finally {
    unsaved.delete(cart);
  }
}

/**
 * Saves lines and sliding expiry if the cart is still at the version read (under the cart's lock),
 * then makes it the Redis copy. An update without a returned document (FerretDB's findAndModify
 * costs more): the saved cart is the one written.
 *
 * The two hot writes of a cart (this one and a new guest cart's insert) go to the driver's
 * collection, not through mongoose: casting a cart's lines against the schema cost 0.9-1.5 ms of
 * CPU per save, three times the write itself (measured, 3-line cart, 1,200 saves on FerretDB). The
 * documents are built here from validated input, field by field as the schema has them.
 */
export async function save(deps: CartDeps, cart: CartDoc): Promise<CartDoc> {
  const now = deps.clock.now();
  const next = { lines: cart.lines, mergedFrom: cart.mergedFrom, appliedKeys: cart.appliedKeys ?? [], clientKey: cart.clientKey ?? null, version: cart.version + 1, updatedAt: new Date(now), lastActivityAt: new Date(now), ...cartExpiry(expiryFor(deps, cart.customerId, now)) };
  const written = await driverCollection(deps.models.Cart).updateOne({ _id: cart._id, version: cart.version, state: 'open' }, { $set: next });
  if (written.matchedCount === 0) throw new StaleCopy();
  const saved: CartDoc = { ...cart, ...next };
  await deps.cache.put(saved);
  return saved;
}

/**
 * Gives a limited line a live hold of `qty` units: extends and resizes its
 * current hold, or reserves a new one (new id) when it has none or it ended.
 * Throws 409 insufficient_stock when the units are not there, 503 when
 * inventory is down.
 */
export async function ensureHold(deps: CartDeps, cart: CartDoc, line: Pick<CartLine, 'id' | 'sku' | 'hold' | 'quantity'>, qty: number): Promise<LineHold> {
  const ttlS = deps.config.CART_HOLD_TTL_S;
  const owner = holdOwner(cart);
  const current = line.hold;
  const undo = unsaved.get(cart);
  if (current && current.status === 'active' && current.expiresAt.getTime() > deps.clock.now()) {
    const result = await deps.clients.modifyHold(current.id, { qty, ttlS, owner }, line.sku);
    if (result.ok) {
      // Back to the units the saved line has, if this cart is not saved after all.
      const saved = line.quantity;
      if (saved !== qty) undo?.push(() => deps.clients.modifyHold(current.id, { qty: saved }, line.sku));
      return { ...current, expiresAt: new Date(result.hold.expiresAt) };
    }
    if (result.code === 'insufficient_stock') throw soldOutNoted(deps, line.sku, qty, result.available);
  }
  // The old hold is over (expired or lost): end it now so its units count as available before we ask again.
  if (current) await deps.clients.releaseHold(current.id);
  const gen = current ? current.gen + 1 : 0;
  const id = `h_${cart._id}_${line.id}_${gen}`;
  let result: Awaited<ReturnType<typeof deps.clients.reserve>>;
  const askedAt = deps.soldOut.mark();
  try {
    result = await deps.clients.reserve({ id, sku: line.sku, qty, ttlS, owner });
  } catch (error) {
    // We give up on this id (timeout, 503): the line will not be saved with it, so release it. Inventory
    // answers a release that arrives before its reserve with a tombstone that refuses the reserve later.
    // If inventory cannot take the release now (its breaker open in a rush), it is owed and retried.
    if (!neverSent(error)) void deps.releases.release(id);
    throw error;
  }
  // Only inventory's own "not enough units" is remembered; another refusal (hold_ended: a tombstone) says nothing of stock.
  if (!result.ok) throw result.code === 'insufficient_stock' ? soldOutNoted(deps, line.sku, qty, result.available) : insufficient(line.sku, qty, result.available);
  deps.soldOut.forget(line.sku, askedAt);
  undo?.push(() => deps.releases.release(id));
  return { id, gen, expiresAt: new Date(result.hold.expiresAt), status: 'active' };
}

export const insufficient = (sku: string, requested: number, available: number) =>
  conflict('insufficient_stock', `only ${available} of this item can be reserved`, { sku, requested, available });

/** Inventory said not enough units: when none are left, this replica remembers it for a moment (sold-out.ts). */
function soldOutNoted(deps: Pick<CartDeps, 'soldOut'>, sku: string, requested: number, available: number) {
  if (available <= 0) deps.soldOut.note(sku);
  return insufficient(sku, requested, available);
}

export type HoldStatus = 'active' | 'expired' | 'lost';
export interface Notice {
  lineId: string;
  code: 'hold_renewed' | 'hold_lost' | 'hold_pending';
  detail: string;
  available?: number;
}

/**
 * Q1: when the owner comes back, a limited line whose hold expired tries to
 * re-reserve; the notices say which lines lost their hold and which got it back.
 * Live holds past half their time are extended. Saves only if something changed.
 */
export async function refreshHolds(deps: CartDeps, cartId: string, justSaved?: CartDoc): Promise<{ cart: CartDoc; notices: Notice[] }> {
  const notices: Notice[] = [];
  // The cart this request just saved needs no second lock and read (each read scans on FerretDB) unless a hold is due.
  if (justSaved && !justSaved.lines.some((line) => holdIsDue(deps, line, deps.clock.now()))) return { cart: justSaved, notices };
  const cart = await withLockedCart(deps, cartId, (current) => {
    notices.length = 0;
    return renewDueHolds(deps, current, notices);
  });
  return { cart, notices };
}

/** Renews due holds of `current` (under its lock) and saves it if anything changed. */
async function renewDueHolds(deps: CartDeps, current: CartDoc, notices: Notice[]): Promise<CartDoc> {
  const now = deps.clock.now();
  let changed = now - current.lastActivityAt.getTime() > TOUCH_EVERY_MS;
  for (const line of current.lines) {
    if (!line.hold || !holdIsDue(deps, line, now)) continue;
    const expired = line.hold.status === 'lost' || line.hold.expiresAt.getTime() <= now;
    try {
      line.hold = await ensureHold(deps, current, line, line.quantity);
      if (expired) notices.push({ lineId: line.id, code: 'hold_renewed', detail: 'the hold had expired; the units were reserved again' });
      changed = true;
    } catch (error) {
      const extra = (error as { extra?: { available?: number } }).extra;
      if ((error as { status?: number }).status === 409 && expired) {
        if (line.hold.status !== 'lost') changed = true;
        // The attempt used hold id gen+1 and inventory rejected it; the next attempt needs a fresh id.
        line.hold = { ...line.hold, gen: line.hold.gen + 1, status: 'lost' };
        notices.push({ lineId: line.id, code: 'hold_lost', detail: 'the hold expired and not enough stock is left', available: extra?.available ?? 0 });
      } else if (expired) {
        notices.push({ lineId: line.id, code: 'hold_pending', detail: 'the hold expired; inventory is unreachable, try again shortly' });
      }
    }
  }
  return changed ? save(deps, current) : current;
}

/** A limited line's hold is past half its time, expired or lost: the owner's next view renews it. */
function holdIsDue(deps: CartDeps, line: CartLine, now: number): boolean {
  if (!line.limited || !line.hold) return false;
  const remainingMs = line.hold.expiresAt.getTime() - now;
  return line.hold.status === 'lost' || remainingMs <= (deps.config.CART_HOLD_TTL_S * 1_000) / 2;
}

export function holdStatus(deps: CartDeps, hold: LineHold | null): HoldStatus | null {
  if (!hold) return null;
  if (hold.status === 'lost') return 'lost';
  return hold.expiresAt.getTime() > deps.clock.now() ? 'active' : 'expired';
}

export interface CartView {
  id: string;
  owner: 'anonymous' | 'customer';
  customerId: string | null;
  lines: Array<{
    id: string; productId: string; sku: string; name: string; quantity: number; limited: boolean;
    unitPrice: Money; currentUnitPrice: Money | null; priceChanged: boolean; lineTotal: Money;
    hold: { status: HoldStatus; expiresAt: string } | null;
  }>;
  totals: { lines: number; units: number; subtotal: Money; currentSubtotal: Money | null };
  limits: { maxLines: number; maxUnits: number };
  expiresAt: string;
  notices: Notice[];
}

/** The cart as its owner sees it, with current catalog prices next to the kept ones. */
export async function toView(deps: CartDeps, cart: CartDoc, notices: Notice[] = [], known: Product[] = []): Promise<CartView> {
  // A product this request already fetched from catalog is not asked for again.
  const current = await Promise.all(cart.lines.map((line) => known.find((product) => product.id === line.productId) ?? deps.clients.peekProduct(line.productId)));
  const currency = cart.lines[0]?.unitPrice.currency ?? 'EUR';
  let pricesKnown = true;
  let currentSubtotal = 0;
  const lines = cart.lines.map((line, i) => {
    const now = current[i]?.price ?? null;
    if (!now) pricesKnown = false;
    else currentSubtotal += now.amount * line.quantity;
    const hold = holdStatus(deps, line.hold);
    return {
      id: line.id, productId: line.productId, sku: line.sku, name: line.name, quantity: line.quantity, limited: line.limited,
      unitPrice: line.unitPrice, currentUnitPrice: now, priceChanged: now !== null && (now.amount !== line.unitPrice.amount || now.currency !== line.unitPrice.currency),
      lineTotal: { amount: line.unitPrice.amount * line.quantity, currency: line.unitPrice.currency },
      hold: hold && line.hold ? { status: hold, expiresAt: line.hold.expiresAt.toISOString() } : null,
    };
  });
  return {
    id: cart._id,
    owner: cart.customerId ? 'customer' : 'anonymous',
    customerId: cart.customerId,
    lines,
    totals: {
      lines: lines.length,
      units: lines.reduce((sum, line) => sum + line.quantity, 0),
      subtotal: { amount: lines.reduce((sum, line) => sum + line.lineTotal.amount, 0), currency },
      currentSubtotal: pricesKnown ? { amount: currentSubtotal, currency } : null,
    },
    limits: { maxLines: deps.config.CART_MAX_LINES, maxUnits: deps.config.CART_MAX_UNITS },
    expiresAt: cart.expiresAt.toISOString(),
    notices,
  };
}
