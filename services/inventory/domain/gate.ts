/**
 * The availability gate: a copy in Redis of each SKU's available units and of
 * the units each live hold has, so that in a rush the requests that cannot get
 * a unit are answered 409 without touching the database or queueing on the
 * SKU's lock. The database stays the authority for what is reserved and sold
 * (see docs/carts.md, "Doorbusters"):
 *
 * - `take` (no lock) lets a reserve through only with a ticket for its units;
 *   without one it is sold out. A missing gate (new SKU, expired, Redis lost it)
 *   is rebuilt from the stock document under the SKU's lock.
 * - Every stock effect, under the SKU's lock and after its database write, sets
 *   the hold's ticket to the units the database now holds for it (`set`), or
 *   drops it without returning units (`sell`, a commit).
 * - Admin stock changes drop the gate (`forget`); the next reserve rebuilds it.
 * - Each gate lives GATE_TTL_S at most, then is rebuilt: a ticket left behind by
 *   a replica that died between taking it and the database write is gone then.
 *
 * One Redis hash per SKU: field `a` = available units, `h:<holdId>` = units of a
 * ticket. Each script runs atomically in Redis.
 */
import type { Redis, WithLock } from '../../kit/index.js';
import type { InventoryModels, StockDoc } from '../models.js';

/** KEYS[1] gate; ARGV holdId, qty. 1 ticket (new or already there), 0 sold out (ARGV: available), -1 no gate. */
const TAKE = `
if redis.call('exists', KEYS[1]) == 0 then return {-1, 0} end
local t = 'h:' .. ARGV[1]
if redis.call('hexists', KEYS[1], t) == 1 then return {1, 0} end
local a = tonumber(redis.call('hget', KEYS[1], 'a'))
local q = tonumber(ARGV[2])
if a < q then return {0, a} end
redis.call('hincrby', KEYS[1], 'a', -q)
redis.call('hset', KEYS[1], t, q)
return {1, a - q}`;

/** KEYS[1] gate; ARGV holdId, units (0 = no ticket), returnUnits (1: the difference goes back to `a`). */
const SET = `
if redis.call('exists', KEYS[1]) == 0 then return 0 end
local t = 'h:' .. ARGV[1]
local old = tonumber(redis.call('hget', KEYS[1], t) or '0')
local q = tonumber(ARGV[2])
if ARGV[3] == '1' then redis.call('hincrby', KEYS[1], 'a', old - q) end
if q == 0 then redis.call('hdel', KEYS[1], t) else redis.call('hset', KEYS[1], t, q) end
return 1`;

/** KEYS[1] gate; ARGV ttlMs, available, then holdId/units pairs. Replaces the gate. */
const REBUILD = `
redis.call('del', KEYS[1])
redis.call('hset', KEYS[1], 'a', ARGV[2])
for i = 3, #ARGV, 2 do redis.call('hset', KEYS[1], 'h:' .. ARGV[i], ARGV[i + 1]) end
redis.call('pexpire', KEYS[1], ARGV[1])
return 1`;

export type TakeResult = { kind: 'ticket' } | { kind: 'sold_out'; available: number } | { kind: 'no_gate' };

export interface Gate {
  /** A ticket for `qty` units for `holdId`, if the gate has them; never waits on a lock or the database. */
  take(sku: string, holdId: string, qty: number): Promise<TakeResult>;
  /** Call under the SKU's lock after a database effect: the hold now has `units` reserved (0: none); the difference goes back to available. */
  set(sku: string, holdId: string, units: number): Promise<void>;
  /** Call under the SKU's lock after a commit: the ticket goes, its units are sold (not available again). */
  sell(sku: string, holdId: string): Promise<void>;
  /** Copies available units and hold entries from the stock document, under the SKU's lock (`lock`). False for an unknown SKU. */
  rebuild(models: InventoryModels, sku: string, lock: WithLock): Promise<boolean>;
  /** Drops the gate (stock changed by an admin); the next reserve rebuilds it. */
  forget(sku: string): Promise<void>;
}

export interface GateOptions {
  /** Key namespace (tests use one per database). */
  prefix: string;
  /** Longest life of a gate before it is rebuilt from the database. */
  ttlMs: number;
}

export function createGate(redis: Redis, options: GateOptions): Gate {
  const key = (sku: string) => `${options.prefix}:${sku}`;
  const rebuilding = new Map<string, Promise<boolean>>();
  return {
    async take(sku, holdId, qty) {
      const [code, available] = (await redis.eval(TAKE, 1, key(sku), holdId, qty)) as [number, number];
      if (code === -1) return { kind: 'no_gate' };
      return code === 1 ? { kind: 'ticket' } : { kind: 'sold_out', available };
    },
    async set(sku, holdId, units) {
      await redis.eval(SET, 1, key(sku), holdId, units, 1);
    },
    async sell(sku, holdId) {
      await redis.eval(SET, 1, key(sku), holdId, 0, 0);
    },
    rebuild(models, sku, lock) {
      // One rebuild per SKU at a time in this process: a rush that finds no gate waits for one database read, not one each.
      const running = rebuilding.get(sku);
      if (running) return running;
      const run = lock(sku, async () => {
        // Another replica may have rebuilt it while we waited for the lock.
        if ((await redis.exists(key(sku))) === 1) return true;
        const stock = await models.Stock.findById(sku, { available: 1, holds: 1 }).lean<Pick<StockDoc, 'available' | 'holds'>>();
        if (!stock) return false;
        const entries = Object.entries(stock.holds ?? {}).flatMap(([id, units]) => [id, String(units)]);
        await redis.eval(REBUILD, 1, key(sku), options.ttlMs, stock.available, ...entries);
        return true;
      }).finally(() => rebuilding.delete(sku));
      rebuilding.set(sku, run);
      return run;
    },
    async forget(sku) {
      await redis.del(key(sku));
    },
  };
}
