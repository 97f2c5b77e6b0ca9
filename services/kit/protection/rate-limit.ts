import { RateLimiterMemory, RateLimiterRedis, RateLimiterRes, type RateLimiterAbstract } from 'rate-limiter-flexible';
import type { Redis } from 'ioredis';
import { systemClock } from '../clock.js';
import { classLimit, ROUTE_CLASSES, type EdgeConfig, type LimitSpec, type RouteClass } from './config.js';
import { SyncedLimit, type SyncedLimitStats } from './synced-limit.js';

export interface LimitDecision {
  allowed: boolean;
  /** The budget of the window (RateLimit-Limit). */
  limit: number;
  remaining: number;
  /** Until the window resets (RateLimit-Reset, Retry-After). */
  resetMs: number;
}

export interface Limiters {
  /** Counts one request (or `weight`) of `key` against the class budget; a synced limit may answer at once. */
  consume(routeClass: RouteClass, key: string, weight?: number): LimitDecision | Promise<LimitDecision>;
  /** Counts against the per-address ceiling of a class (for keys a client can mint, e.g. cart tokens). */
  consumeCeiling(routeClass: RouteClass, ip: string): Promise<LimitDecision>;
  /** Counts against a crawler's budget; `weight` > 1 while the service is under load. */
  consumeGoodBot(name: string, weight: number): Promise<LimitDecision>;
  /** Counts a checkout attempt or cart write; false when the client is far beyond human rates. */
  behaviour(kind: 'checkout' | 'cart', key: string): Promise<boolean>;
  /** True while Redis is unreachable and limits are per process. */
  degraded(): boolean;
  /** Decisions from memory and from Redis, and syncs, summed over the synced limits (metrics). */
  syncStats(): SyncedLimitStats;
}

export interface LimitersOptions {
  config: EdgeConfig;
  /** Shared store; without it every limit is per process. */
  redis?: Redis;
  /** Key namespace in Redis (tests use one per file). */
  prefix?: string;
}

/**
 * Redis limiters (rate-limiter-flexible) shared by every replica, each insured
 * by an in-memory limiter with the same budget: when Redis is unreachable a
 * replica keeps limiting on its own (so the effective limit is N replicas x the
 * budget) instead of failing requests or letting everything through. Class
 * limits large enough are synced rather than asked per request (synced-limit.ts).
 */
export function createLimiters(options: LimitersOptions): Limiters {
  const { config, redis } = options;
  const prefix = options.prefix ?? 'edge';
  const make = (name: string, spec: LimitSpec, blockS = 0): RateLimiterAbstract => {
    const base = { keyPrefix: `${prefix}:${name}`, points: spec.points, duration: spec.durationS, blockDuration: blockS };
    const memory = new RateLimiterMemory(base);
    if (!redis) return memory;
    // A key over its budget is refused from memory until its window ends: a flood past its
    // limit costs no Redis round trip per request (each replica learns it on its first refusal).
    return new RateLimiterRedis({ ...base, storeClient: redis, rejectIfRedisNotReady: true, insuranceLimiter: memory, inMemoryBlockOnConsumed: spec.points + 1 });
  };
  const synced: SyncedLimit[] = [];
  /**
   * A class limit: counted in memory and synced every EDGE_LIMIT_SYNC_MS when a
   * replica's share of the allowed overshoot is at least one request
   * (synced-limit.ts), else asked of Redis per request.
   */
  const makeClass = (name: string, spec: LimitSpec): Limit => {
    const exact = make(name, spec);
    const localPoints = Math.floor((spec.points * config.EDGE_LIMIT_OVERSHOOT) / config.EDGE_LIMIT_REPLICAS);
    if (!redis || config.EDGE_LIMIT_SYNC_MS === 0 || localPoints < 1) return exactLimit(exact);
    const limit = new SyncedLimit({ redis, exact, durationS: spec.durationS, syncMs: config.EDGE_LIMIT_SYNC_MS, localPoints, clock: systemClock });
    synced.push(limit);
    return limit;
  };
  const byClass = new Map<RouteClass, Limit>();
  const ceilings = new Map<RouteClass, Limit>();
  for (const routeClass of ROUTE_CLASSES) {
    const spec = classLimit(config, routeClass);
    byClass.set(routeClass, makeClass(routeClass, spec));
    ceilings.set(routeClass, makeClass(`${routeClass}-ip`, { points: spec.points * config.EDGE_IP_CEILING_FACTOR, durationS: spec.durationS }));
  }
  // A crawler's budget and the behaviour counts stay exact: few keys, each with many requests.
  const goodBot = exactLimit(make('good-bot', config.EDGE_LIMIT_GOOD_BOT));
  const behaviours = {
    checkout: exactLimit(make('behaviour-checkout', config.EDGE_BEHAVIOUR_CHECKOUT, config.EDGE_BEHAVIOUR_COOLDOWN_S)),
    cart: exactLimit(make('behaviour-cart', config.EDGE_BEHAVIOUR_CART, config.EDGE_BEHAVIOUR_COOLDOWN_S)),
  };

  return {
    consume: (routeClass, key, weight = 1) => decide(byClass.get(routeClass), key, weight),
    consumeCeiling: async (routeClass, ip) => decide(ceilings.get(routeClass), ip, 1),
    consumeGoodBot: async (name, weight) => decide(goodBot, name, weight),
    behaviour: async (kind, key) => (await decide(behaviours[kind], key, 1)).allowed,
    degraded: () => redis !== undefined && redis.status !== 'ready',
    syncStats: () => {
      const total: SyncedLimitStats = { local: 0, exact: 0, syncs: 0, syncFailures: 0 };
      for (const { stats } of synced) for (const name of Object.keys(total) as Array<keyof SyncedLimitStats>) total[name] += stats[name];
      return total;
    },
  };
}

/** One budget: a decision for `points` of `key`. */
interface Limit {
  consume(key: string, points: number): LimitDecision | Promise<LimitDecision>;
}

/** A rate-limiter-flexible limiter asked once per request. */
function exactLimit(limiter: RateLimiterAbstract): Limit {
  return {
    async consume(key, points) {
      try {
        const res = await limiter.consume(key, points);
        return { allowed: true, limit: limiter.points, remaining: res.remainingPoints, resetMs: res.msBeforeNext };
      } catch (rejection) {
        // A RateLimiterRes is "over the limit"; anything else is a store failure the insurance could not absorb.
        if (rejection instanceof RateLimiterRes) return { allowed: false, limit: limiter.points, remaining: 0, resetMs: rejection.msBeforeNext };
        throw rejection;
      }
    },
  };
}

function decide(limit: Limit | undefined, key: string, weight: number): LimitDecision | Promise<LimitDecision> {
  if (!limit) throw new Error('no limiter');
  return limit.consume(key, Math.max(1, Math.ceil(weight)));
}

/** RateLimit-* headers (IETF draft) and, when refused, Retry-After, set on the response. */
export function setLimitHeaders(response: { setHeader(name: string, value: string): unknown }, decision: LimitDecision): void {
  const resetS = String(Math.max(1, Math.ceil(decision.resetMs / 1000)));
  response.setHeader('ratelimit-limit', String(decision.limit));
  response.setHeader('ratelimit-remaining', String(decision.remaining));
  response.setHeader('ratelimit-reset', resetS);
  if (!decision.allowed) response.setHeader('retry-after', resetS);
}
