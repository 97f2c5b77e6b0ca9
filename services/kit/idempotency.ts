/**
 * Idempotency keys (IETF draft "The Idempotency-Key HTTP Header Field"): a
 * client that retries a write with the same `Idempotency-Key` gets the first
 * answer again instead of a second effect. One record per (scope, key) in
 * MongoDB; its unique `_id` decides which of two concurrent first requests
 * runs (an insert, atomic on MongoDB and on FerretDB's primary key). The record
 * is the in-progress marker while the first request runs, with a lease so a
 * crashed owner's key can be taken over. No TTL index (FerretDB has none): keys
 * are swept by `sweep()` run from the kit sweeper.
 */
import { createHash, randomUUID } from 'node:crypto';
import type { Context, Middleware, Next } from 'koa';
import { Schema, type Connection, type Model } from 'mongoose';
import { AppError, badRequest, unprocessable } from './errors.js';
import { deleteByIdIf } from './guarded-write.js';
import { bucketOf, createBucketMarks, sweepDueBuckets } from './time-buckets.js';
import { sleep } from './timeout.js';

export interface IdempotencyRecord {
  /** `<scope>:<key>`. */
  _id: string;
  fingerprint: string;
  state: 'in_progress' | 'done';
  /** Who runs it now; a takeover writes a new owner. */
  owner: string;
  /** An in-progress record older than this was left by a crashed request. */
  leaseUntil: Date;
  status?: number;
  body?: unknown;
  location?: string;
  createdAt: Date;
  expiresAt: Date;
  /** `expiresAt` to the minute (kit/time-buckets.ts): the sweep asks for due keys by equality. */
  expiryBucket?: number;
}

const KEY_BUCKET_MS = 60_000;

export interface IdempotencyStoreOptions {
  /** How long a finished key replays its answer (24 h by default). */
  ttlMs?: number;
  /**
   * How long an in-progress record protects its key before another request may take it over
   * (10 s). The running request renews it every third of that, so only a crashed owner's
   * lease runs out: a shopper's retry after a crash waits seconds, not a long fixed lease.
   */
  leaseMs?: number;
  /** Collection name (`idempotency_keys`). */
  collection?: string;
  now?: () => number;
}

export type Begin =
  | { kind: 'run'; owner: string }
  | { kind: 'replay'; status: number; body: unknown; location?: string }
  | { kind: 'busy' }
  | { kind: 'mismatch' };

/** The store behind the middleware; services may also call it directly. */
export interface IdempotencyStore {
  model: Model<IdempotencyRecord>;
  /** The in-progress lease; the middleware renews it every third. */
  leaseMs: number;
  /** Claims the key, or says what to answer instead. */
  begin(id: string, fingerprint: string): Promise<Begin>;
  /** Records the answer of the request that owns the key. */
  finish(id: string, owner: string, answer: { status: number; body: unknown; location?: string }): Promise<void>;
  /** Extends the owner's in-progress lease (no-op once it is done, taken over or gone). */
  renew(id: string, owner: string): Promise<void>;
  /** Gives the key up (the request failed before an answer worth replaying): a retry runs again. */
  abandon(id: string, owner: string): Promise<void>;
  /** Deletes expired keys, at most `batch`; returns how many. */
  sweep(batch?: number): Promise<number>;
  /** True when a record of this key exists (running or done): a request with it must go through the middleware. */
  seen(id: string): Promise<boolean>;
}

const DAY_MS = 86_400_000;

/**
 * An idempotency-key store on `connection`. Its guarantee rests on the unique
 * `_id`, which needs no index build; the `expiresAt` index (for sweeps) is built
 * in the background by mongoose.
 */
export function createIdempotencyStore(connection: Connection, options: IdempotencyStoreOptions = {}): IdempotencyStore {
  const ttlMs = options.ttlMs ?? DAY_MS;
  const leaseMs = options.leaseMs ?? 10_000;
  const now = options.now ?? Date.now;
  const collection = options.collection ?? 'idempotency_keys';
  const schema = new Schema<IdempotencyRecord>(
    {
      _id: { type: String, required: true },
      fingerprint: { type: String, required: true },
      state: { type: String, required: true },
      owner: { type: String, required: true },
      leaseUntil: { type: Date, required: true },
      status: Number,
      body: Schema.Types.Mixed,
      location: String,
      createdAt: { type: Date, required: true },
      expiresAt: { type: Date, required: true },
      expiryBucket: Number,
    },
    { collection, versionKey: false },
  );
  const marks = createBucketMarks(connection);
  schema.index({ expiresAt: 1 });
  schema.index({ expiryBucket: 1 });
  const name = `Idempotency_${options.collection ?? 'keys'}`;
  const model = connection.models[name] ? (connection.models[name] as Model<IdempotencyRecord>) : connection.model<IdempotencyRecord>(name, schema);

  async function begin(id: string, fingerprint: string): Promise<Begin> {
    const owner = randomUUID();
    const at = now();
    try {
      await model.create({ _id: id, fingerprint, state: 'in_progress', owner, leaseUntil: new Date(at + leaseMs), createdAt: new Date(at), expiresAt: new Date(at + ttlMs), expiryBucket: bucketOf(at + ttlMs, KEY_BUCKET_MS) });
      return { kind: 'run', owner };
    } catch (error) {
      if ((error as { code?: number }).code !== 11000) throw error;
    }
    const seen = await model.findById(id).lean<IdempotencyRecord>();
    if (!seen) return begin(id, fingerprint); // swept or abandoned meanwhile
    if (seen.fingerprint !== fingerprint) return { kind: 'mismatch' };
    if (seen.state === 'done') return { kind: 'replay', status: seen.status ?? 200, body: seen.body, location: seen.location };
    if (seen.leaseUntil.getTime() > at) return { kind: 'busy' };
    // The owner died mid-request: take the key over if nobody else did (guard on the owner seen).
    const taken = await model.findOneAndUpdate({ _id: id, owner: seen.owner, state: 'in_progress' }, { $set: { owner, leaseUntil: new Date(at + leaseMs) } }, { new: true, lean: true });
    return taken?.owner === owner ? { kind: 'run', owner } : { kind: 'busy' };
  }

  return {
    model,
    leaseMs,
    begin,
    async renew(id, owner) {
      await model.updateOne({ _id: id, owner, state: 'in_progress' }, { $set: { leaseUntil: new Date(now() + leaseMs) } });
    },
    async finish(id, owner, answer) {
      await model.updateOne({ _id: id, owner }, { $set: { state: 'done', status: answer.status, body: answer.body, location: answer.location } });
    },
    async abandon(id, owner) {
      await model.deleteOne({ _id: id, owner, state: 'in_progress' });
    },
    async seen(id) {
      return (await model.exists({ _id: id })) !== null;
    },
    /**
     * Due keys by expiry bucket from the sweep's mark on, one equality query per minute bucket
     * (kit/time-buckets.ts), each deleted by `_id` if still expired. A range query on
     * `expiresAt` read every key of the collection on FerretDB each minute (a day of a sale's
     * checkouts); it now runs only for a database without a mark (the first pass, which also
     * takes the keys already expired when buckets came in). Keys written before then that expire
     * later have no bucket and stay: delete `{ expiryBucket: { $exists: false } }` once they expired.
     */
    async sweep(batch = 500) {
      const at = now();
      const expired = { expiresAt: { $lte: new Date(at) } };
      let deleted = 0;
      await sweepDueBuckets<Pick<IdempotencyRecord, '_id' | 'expiresAt'>>({
        name: `idempotency:${collection}`, marks, sizeMs: KEY_BUCKET_MS, dueAt: at, batch,
        load: (bucket) => model.find({ expiryBucket: bucket }, { expiresAt: 1 }).lean<Array<Pick<IdempotencyRecord, '_id' | 'expiresAt'>>>(),
        loadAllDue: () => model.find(expired, { expiresAt: 1 }).lean<Array<Pick<IdempotencyRecord, '_id' | 'expiresAt'>>>(),
        timeOf: (record) => record.expiresAt,
        handle: async (record) => {
          if (await deleteByIdIf(model, record._id, expired)) deleted += 1;
        },
      });
      return deleted;
    },
  };
}

const KEY = /^[\x21-\x7e]{1,255}$/;
/** True when `key` is a well-formed Idempotency-Key (the middleware answers 400 to any other). */
export const isIdempotencyKey = (key: string) => KEY.test(key);

export interface IdempotencyOptions {
  store: IdempotencyStore;
  /** 400 when the header is missing (checkout); otherwise the request runs without protection (cart writes). */
  required: boolean;
  /** Whose key it is (a cart, a customer): the same key from two clients never collides. */
  scopeOf: (ctx: Context) => string;
  /** How long a retry waits for the first request to finish before answering 409 `in_progress`. */
  waitMs?: number;
  pollMs?: number;
}

/**
 * Koa middleware: same key + same request (method, path, body) → the first
 * answer replayed (header `Idempotent-Replayed: true`), also while the first
 * runs (waits up to `waitMs`, then 409 `in_progress` with Retry-After); same
 * key + different request → 422; no key → 400 when required. Answers below
 * 500 are recorded; errors and 5xx give the key up so a retry runs again (the
 * handler's own effects must then be idempotent, as checkout's are).
 */
export function idempotency(options: IdempotencyOptions): Middleware {
  const { store } = options;
  const waitMs = options.waitMs ?? 5_000;
  const pollMs = options.pollMs ?? 50;
  return async function idempotencyMiddleware(ctx: Context, next: Next) {
    const key = ctx.get('idempotency-key');
    if (!key) {
      if (options.required) throw badRequest('Idempotency-Key header is required', [{ field: 'header.idempotency-key', message: 'is required' }]);
      return next();
    }
    if (!KEY.test(key)) throw badRequest('Idempotency-Key is invalid', [{ field: 'header.idempotency-key', message: 'must be 1-255 visible ASCII characters' }]);
    const id = `${options.scopeOf(ctx)}:${key}`;
    const fingerprint = createHash('sha256').update(`${ctx.method} ${ctx.path}\n${JSON.stringify(ctx.request.body ?? null)}`).digest('base64url');
    const deadline = Date.now() + waitMs;
    let begun = await store.begin(id, fingerprint);
    // Waiting retries poll with growing pauses: twenty of them must not slow the first one down.
    for (let attempt = 0; begun.kind === 'busy' && Date.now() < deadline; attempt++) {
      await sleep(Math.min(pollMs * 2 ** attempt, 500, Math.max(0, deadline - Date.now())));
      begun = await store.begin(id, fingerprint);
    }
    if (begun.kind === 'mismatch') throw unprocessable('idempotency_key_reused', 'this Idempotency-Key was used with a different request');
    if (begun.kind === 'busy') throw new AppError(409, 'in_progress', 'Conflict', { detail: 'a request with this Idempotency-Key is still running; retry shortly', headers: { 'retry-after': '1' } });
    ctx.set('idempotency-key', key);
    if (begun.kind === 'replay') {
      ctx.status = begun.status;
      ctx.body = begun.body;
      if (begun.location) ctx.set('location', begun.location);
      ctx.set('idempotent-replayed', 'true');
      return;
    }
    const { owner } = begun;
    // Keeps the key ours while the request runs; a crash stops the renewals and the lease runs out.
    const renewal = setInterval(() => void store.renew(id, owner).catch(() => undefined), store.leaseMs / 3);
    renewal.unref();
    try {
      await next();
    } catch (error) {
      await store.abandon(id, owner).catch(() => undefined);
      throw error;
    } finally {
      clearInterval(renewal);
    }
    if (ctx.status >= 500 || !(ctx.body === undefined || ctx.body === null || typeof ctx.body === 'object') || Buffer.isBuffer(ctx.body)) {
      await store.abandon(id, owner).catch(() => undefined);
      return;
    }
    const location = ctx.response.get('location') || undefined;
    await store.finish(id, owner, { status: ctx.status, body: ctx.body ?? null, location });
  };
}

/** True when `error` is the kit's 409 `in_progress` (a caller may want to wait longer). */
export const isInProgress = (error: unknown) => error instanceof AppError && error.code === 'in_progress';
