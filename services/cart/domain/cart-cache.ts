/**
 * Carts in Redis next to MongoDB (issue 8, add-to-cart): the cart a write
 * needs is read from here instead of the database, so an add costs one
 * database write and no read. MongoDB stays the only authority; this is a copy.
 *
 * Why it cannot make a write wrong: every save is guarded by the version read
 * (carts.ts `save`). A copy that is behind the database (a write that bypassed
 * it, a Redis that came back from its append-only file one write short) fails
 * that guard; the write then drops the copy and runs again from the database.
 *
 * Why a read sees no older cart than the database has:
 * - the copy is written only under the cart's lock, after the database write
 *   (`put`), or dropped there (sweep, merge); every writer of a cart document
 *   takes that lock, so the copy follows the database's order;
 * - `put` never replaces a copy with an older version (Lua, atomic in Redis);
 * - each copy carries the Redis server's `run_id`: after a Redis restart every
 *   copy made before it is ignored, so a copy restored from the append-only
 *   file (possibly missing its last writes) is never served.
 * A write made to the database by hand needs `redis-cli DEL <prefix>:<cart id>`
 * (or waits out CART_CACHE_TTL_S).
 *
 * Stored as V8 serialization (keeps Dates), one hash per cart: `v` version,
 * `r` run_id, `d` the document.
 */
import { deserialize, serialize } from 'node:v8';
import type { Metrics, Redis } from '../../kit/index.js';
import type { CartDoc } from '../models.js';

/** KEYS[1] copy; ARGV version, run_id, document, ttlMs. 1 stored, 0 a newer copy is there. */
const PUT = `
local v = redis.call('hget', KEYS[1], 'v')
if v and redis.call('hget', KEYS[1], 'r') == ARGV[2] and tonumber(v) > tonumber(ARGV[1]) then return 0 end
redis.call('hset', KEYS[1], 'v', ARGV[1], 'r', ARGV[2], 'd', ARGV[3])
redis.call('pexpire', KEYS[1], ARGV[4])
return 1`;

export interface CartCache {
  /** The copy of cart `id`, or undefined when there is none to trust (never stored, expired, made before a Redis restart, Redis down). */
  get(id: string): Promise<CartDoc | undefined>;
  /** Under the cart's lock, after its database write: the copy becomes `cart` unless it holds a newer version. */
  put(cart: CartDoc): Promise<void>;
  /** Under the cart's lock, after a database write that ends or hides the cart (claim, delete). */
  drop(id: string): Promise<void>;
}

export interface CartCacheOptions {
  /** Key namespace (tests use one per database). */
  prefix: string;
  /** Life of a copy after its last write (0: no cache). */
  ttlMs: number;
  metrics?: Metrics;
}

/** No copies at all (CART_CACHE_TTL_S=0): every read goes to the database. */
const none: CartCache = { get: async () => undefined, put: async () => undefined, drop: async () => undefined };

export function createCartCache(redis: Redis, options: CartCacheOptions): CartCache {
  if (options.ttlMs <= 0) return none;
  const key = (id: string) => `${options.prefix}:${id}`;
  const reads = options.metrics?.counter('cart_cache_reads_total', 'Carts a request read from the Redis copy (hit) or from the database (miss)', ['result']);
  const hit = reads?.labels({ result: 'hit' });
  const miss = reads?.labels({ result: 'miss' });
  // The server's run_id, learnt on every (re)connection: copies made under another one are not trusted.
  let runId: string | undefined;
  const learn = () => {
    runId = undefined;
    redis.info('server').then(
      (info) => {
        runId = /run_id:([0-9a-f]+)/.exec(info)?.[1];
      },
      () => undefined,
    );
  };
  redis.on('ready', learn);
  if (redis.status === 'ready') learn();
  return {
    async get(id) {
      const current = runId;
      if (!current) return undefined;
      try {
        const [r, d] = await redis.hmgetBuffer(key(id), 'r', 'd');
        if (r && d && r.toString() === current) {
          hit?.inc();
          return deserialize(d) as CartDoc;
        }
      } catch {
        // Redis is unreachable: the database answers.
      }
      miss?.inc();
      return undefined;
    },
    async put(cart) {
      const current = runId;
      if (!current) return;
      await redis.eval(PUT, 1, key(cart._id), cart.version, current, serialize(cart), options.ttlMs).catch(() => redis.del(key(cart._id)).catch(() => undefined));
    },
    async drop(id) {
      await redis.del(key(id)).catch(() => undefined);
    },
  };
}
