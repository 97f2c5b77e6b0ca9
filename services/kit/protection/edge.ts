import type { Context, Middleware, Next } from 'koa';
import type { IncomingMessage } from 'node:http';
import client from 'prom-client';
import { LRUCache } from 'lru-cache';
import type { Redis } from 'ioredis';
import type { Logger } from '../log.js';
import type { Metrics } from '../metrics.js';
import { requestIdFrom } from '../middleware.js';
import { createBotClassifier, type BotVerdict } from './bots.js';
import { CidrSet, deriveClientKey, resolveClientIp } from './client-key.js';
import { systemClock, type Clock } from '../clock.js';
import { createRefusalLog, type RefusalLog } from './refusal-log.js';
import type { EdgeConfig, RouteClass } from './config.js';
import { createAdmission, goodBotShare, type Admission, type LoadSignal } from './admission.js';
import { createLimiters, setLimitHeaders, type LimitDecision, type Limiters } from './rate-limit.js';
import type { SyncedLimitStats } from './synced-limit.js';
import { createRouteClassifier, DEFAULT_ROUTE_CLASSES, type RouteClassRule } from './route-class.js';
import { applyCachePolicy, publicCacheControl } from './cache-policy.js';

/** What a service passes to `createKoaApp({ edge })`: its config (it contains the EDGE_* settings) and its Redis. */
export interface EdgeOptions {
  config: EdgeConfig;
  /** Shared limits across replicas; without it limits are per process. */
  redis?: Redis;
  /** Route-class rules of this service, before the kit's defaults (route-class.ts). */
  routes?: readonly RouteClassRule[];
  /** Verifies customer tokens so a signed-in customer is keyed by id (customerTokenKey()). */
  customerKey?: Buffer;
  /** Replaces the measured load (tests, benches). */
  loadSignal?: LoadSignal;
  /** Redis key namespace (tests use one per file). */
  keyPrefix?: string;
  /** Time for the flag cache and the refusal log's windows (tests move it by hand). */
  clock?: Clock;
}

/** What the kit adds when it builds the protection for an app (createKoaApp). */
export interface EdgeWiring {
  logger: Logger;
  metrics: Metrics;
  /** Headers every answer carries (the API security headers): the screen's 403 sets them itself. */
  answerHeaders?: ReadonlyArray<readonly [string, string]>;
  /** True while the process drains: the screen's 403 then closes the connection, as other answers do. */
  draining?: () => boolean;
}

export interface EdgeProtection {
  /**
   * First in the chain: answers bad bots with 403 before the request id,
   * metrics, headers and everything after (see `middleware` for the rest).
   */
  screen: Middleware;
  /** The protection itself: crawlers, shedding, behaviour, limits, cache policy. */
  middleware: Middleware;
  admission: Admission;
  limiters: Limiters;
  /** The aggregated log of refused requests (flush it at shutdown or in tests). */
  refusals: RefusalLog;
}

/**
 * How long "not flagged" is believed for a client key before Redis is asked
 * again: a flag set by another replica reaches this one at most this late (the
 * replica that sets it knows at once).
 */
export const FLAG_RECHECK_MS = 1_000;

const QUIET = new Set(['/healthz', '/readyz', '/metrics']);
const READS = new Set(['GET', 'HEAD']);
const HUMAN: BotVerdict = { class: 'human' };
type Decision = 'allowed' | 'exempt' | 'blocked_bad_bot' | 'blocked_route' | 'blocked_behaviour' | 'limited' | 'shed' | 'error';
const BAD_BOT_DETAIL = 'automated clients of this kind are not allowed';

/** Route class, client address and bot class of a request: worked out once, by the screen. */
interface Seen {
  routeClass: RouteClass;
  ip: string;
  exempt: boolean;
  verdict: BotVerdict;
}

/** A refusal decided by the checks: 403 with a reason for the log. */
interface Block {
  decision: 'blocked_bad_bot' | 'blocked_route' | 'blocked_behaviour';
  reason: string;
  detail: string;
}
const BEHAVIOUR_DETAIL = 'too many attempts; try again later';

/**
 * Answers a refused request here: a problem body and `no-store`, nothing else
 * of the chain runs. `edgeRefused` tells the access log that the edge's own
 * (aggregated) log line covers it.
 */
function deny(ctx: Context, status: number, code: string, title: string, detail: string, retryAfter?: string): void {
  ctx.state.route = `edge:${code}`;
  ctx.state.edgeRefused = true;
  ctx.status = status;
  ctx.type = 'application/problem+json';
  ctx.res.setHeader('cache-control', 'no-store');
  if (retryAfter) ctx.res.setHeader('retry-after', retryAfter);
  ctx.body = { type: `urn:problem:${code}`, title, status, detail, requestId: ctx.state.requestId };
}

/**
 * Edge protection as one middleware (docs/edge-protection.md): resolves the
 * client address and key, blocks bad bots, keeps good bots on browse routes
 * within a budget that shrinks under load, sheds by route class under
 * overload, applies per-class rate limits, and sets the cache policy on the
 * way out. Health and metrics endpoints and CORS preflights pass untouched.
 */
export function createEdgeProtection(options: EdgeOptions & EdgeWiring): EdgeProtection {
  const config = options.config;
  const log = options.logger.child({ module: 'edge' });
  const clock = options.clock ?? systemClock;
  const on = config.EDGE_PROTECTION === 'on';
  const proxies = { trustedProxies: new CidrSet(config.EDGE_TRUSTED_PROXIES), hops: config.EDGE_PROXY_HOPS };
  const exempt = new CidrSet(config.EDGE_EXEMPT_CIDRS);
  const classifyBot = createBotClassifier({ goodAgents: config.EDGE_GOOD_BOT_AGENTS, goodCidrs: new CidrSet(config.EDGE_GOOD_BOT_CIDRS), badAgents: config.EDGE_BAD_BOT_AGENTS });
  const classify = createRouteClassifier([...(options.routes ?? []), ...DEFAULT_ROUTE_CLASSES]);
  const admission = createAdmission({ loopDelayMs: config.EDGE_SHED_LOOP_DELAY_MS, maxInFlight: config.EDGE_SHED_IN_FLIGHT, loadSignal: options.loadSignal });
  const prefix = options.keyPrefix ?? 'edge';
  const limiters = createLimiters({ config, redis: options.redis, prefix });
  const perf = { now: () => clock.now() };
  // ttlResolution 0: expiry follows `clock` exactly (no cached time, no timer per lookup).
  const flagged = new LRUCache<string, string>({ max: 10_000, ttl: config.EDGE_BEHAVIOUR_COOLDOWN_S * 1000, ttlResolution: 0, perf });
  // Keys Redis recently said are not flagged: a cart request reads the flag once a second per key, not every time.
  const notFlagged = new LRUCache<string, true>({ max: 10_000, ttl: FLAG_RECHECK_MS, ttlResolution: 0, perf });
  const refusals = createRefusalLog(log, { clock });
  const policy = publicCacheControl(config);
  const retryAfter = String(config.EDGE_SHED_RETRY_AFTER_S);
  const counted = options.metrics.counter('edge_requests_total', 'Edge decisions by route class, bot class and decision', ['route_class', 'bot_class', 'decision']);
  registerGauges(options.metrics, admission, limiters);
  // The labelled children, looked up once: prom-client hashes the label set on every inc() otherwise.
  const children = new Map<string, client.Counter.Internal>();
  function count(routeClass: RouteClass, bot: string, decision: Decision): void {
    const key = `${routeClass}|${bot}|${decision}`;
    let child = children.get(key);
    if (!child) {
      child = counted.labels({ route_class: routeClass, bot_class: bot, decision });
      children.set(key, child);
    }
    child.inc();
  }
  function refuse(ctx: Context, routeClass: RouteClass, bot: string, decision: Decision, reason: string): void {
    count(routeClass, bot, decision);
    refusals.record({ decision, reason, routeClass, botClass: bot, ip: String(ctx.state.clientIp), method: ctx.method, path: ctx.path });
  }

  /** Marked as a bot for the cool-down: in this process at once, in every replica through Redis. */
  async function isFlagged(key: string): Promise<string | undefined> {
    const local = flagged.get(key);
    if (local || !options.redis || notFlagged.has(key)) return local;
    try {
      const shared = await options.redis.get(`${prefix}:flag:${key}`);
      if (shared) flagged.set(key, shared);
      else notFlagged.set(key, true);
      return shared ?? undefined;
    } catch {
      return undefined;
    }
  }
  async function flag(key: string, reason: string): Promise<void> {
    flagged.set(key, reason);
    notFlagged.delete(key);
    await options.redis?.set(`${prefix}:flag:${key}`, reason, 'EX', config.EDGE_BEHAVIOUR_COOLDOWN_S).catch(() => undefined);
  }

  /**
   * Bot rules and limits for one non-exempt request that is not a bad bot: a 403
   * to give, or the limit decision. A browse request without a cart token is one
   * limit check, answered from memory when the limit is synced (synced-limit.ts),
   * so that path allocates no promise.
   */
  function check(ctx: Context, routeClass: RouteClass, ip: string, verdict: BotVerdict): LimitDecision | Block | Promise<LimitDecision | Block> {
    const key = deriveClientKey(ctx, ip, options.customerKey, Date.now());
    ctx.state.clientKey = key;
    if (verdict.class === 'good-bot') {
      if (routeClass !== 'browse') return { decision: 'blocked_route', reason: `good-bot-route:${routeClass}`, detail: 'crawlers may only browse' };
      return limiters.consumeGoodBot(verdict.name ?? 'crawler', 1 / goodBotShare(admission.pressure()));
    }
    if (routeClass === 'browse' && !key.startsWith('cart:')) return limiters.consume(routeClass, key);
    return checkWrites(ctx, routeClass, ip, key);
  }

  /** The rest of `check`: behaviour flags on cart, checkout and other non-browse routes, and the per-address ceiling of cart tokens. */
  async function checkWrites(ctx: Context, routeClass: RouteClass, ip: string, key: string): Promise<LimitDecision | Block> {
    if (routeClass !== 'browse') {
      const reason = await isFlagged(key);
      if (reason) return { decision: 'blocked_behaviour', reason, detail: BEHAVIOUR_DETAIL };
      const kind = routeClass === 'checkout' && ctx.method === 'POST' ? 'checkout' : routeClass === 'cart' && !READS.has(ctx.method) ? 'cart' : undefined;
      if (kind && !(await limiters.behaviour(kind, key))) {
        await flag(key, `behaviour:${kind}`);
        return { decision: 'blocked_behaviour', reason: `behaviour:${kind}`, detail: BEHAVIOUR_DETAIL };
      }
    }
    const decision = await limiters.consume(routeClass, key);
    if (!decision.allowed || !key.startsWith('cart:')) return decision;
    // Cart tokens are minted by clients: the address keeps a (larger) ceiling too.
    const ceiling = await limiters.consumeCeiling(routeClass, ip);
    return ceiling.allowed ? decision : ceiling;
  }

  /**
   * The checks' outcome applied: a 403 or 429 answered here (false), or the
   * limit headers set and the request let on (true). Errors of the store and
   * its insurance let the request through.
   */
  function admit(ctx: Context, routeClass: RouteClass, ip: string, verdict: BotVerdict): boolean | Promise<boolean> {
    let checked: ReturnType<typeof check>;
    try {
      checked = check(ctx, routeClass, ip, verdict);
    } catch (error) {
      return letThrough(routeClass, verdict, error);
    }
    if (checked instanceof Promise) return checked.then((outcome) => apply(ctx, routeClass, verdict, outcome), (error: unknown) => letThrough(routeClass, verdict, error));
    return apply(ctx, routeClass, verdict, checked);
  }

  function apply(ctx: Context, routeClass: RouteClass, verdict: BotVerdict, outcome: LimitDecision | Block): boolean {
    if ('decision' in outcome) {
      refuse(ctx, routeClass, verdict.class, outcome.decision, outcome.reason);
      deny(ctx, 403, 'forbidden', 'Forbidden', outcome.detail);
      return false;
    }
    setLimitHeaders(ctx.res, outcome);
    if (!outcome.allowed) {
      refuse(ctx, routeClass, verdict.class, 'limited', `limit:${routeClass}`);
      deny(ctx, 429, 'rate_limited', 'Too many requests', `the ${routeClass} limit of ${outcome.limit} requests is used up`);
      return false;
    }
    count(routeClass, verdict.class, 'allowed');
    return true;
  }

  /** Both the store and its in-memory insurance failed: serve rather than fail the shop. */
  function letThrough(routeClass: RouteClass, verdict: BotVerdict, error: unknown): true {
    log.error({ err: error, routeClass }, 'edge limiter failed; request let through');
    count(routeClass, verdict.class, 'error');
    return true;
  }

  function see(ctx: Context): Seen {
    const routeClass = classify(ctx.method, ctx.path);
    const headers = ctx.req.headers;
    const forwardedFor = headers['x-forwarded-for'];
    const ip = resolveClientIp(ctx.req.socket.remoteAddress ?? '', typeof forwardedFor === 'string' && forwardedFor ? forwardedFor : undefined, proxies);
    // Exempt callers (in-cluster services, local tools) skip bots, limits and shedding: their requests serve an admitted one.
    const isExempt = exempt.has(ip);
    const verdict: BotVerdict = on && !isExempt ? classifyBot(headers['user-agent'] ?? '', ip) : HUMAN;
    ctx.state.clientIp = ip;
    ctx.state.routeClass = routeClass;
    ctx.state.botClass = verdict.class;
    return { routeClass, ip, exempt: isExempt, verdict };
  }

  const answerHeaders = options.answerHeaders ?? [];
  /** The 403 of a bad bot, written here: one writeHead and one end, no Koa response machinery. */
  function screenOut(ctx: Context, seen: Seen): void {
    refuse(ctx, seen.routeClass, 'bad-bot', 'blocked_bad_bot', seen.verdict.reason ?? 'bad-bot');
    const requestId = requestIdFrom(firstHeader(ctx.req, 'x-request-id'));
    const body = `{"type":"urn:problem:forbidden","title":"Forbidden","status":403,"detail":"${BAD_BOT_DETAIL}","requestId":${JSON.stringify(requestId)}}`;
    const res = ctx.res;
    for (const [name, value] of answerHeaders) res.setHeader(name, value);
    res.setHeader('x-request-id', requestId);
    res.setHeader('cache-control', 'no-store');
    res.setHeader('content-type', 'application/problem+json');
    res.setHeader('content-length', Buffer.byteLength(body));
    if (options.draining?.()) res.setHeader('connection', 'close');
    ctx.respond = false;
    res.statusCode = 403;
    res.end(ctx.method === 'HEAD' ? undefined : body);
  }

  function edgeScreenMiddleware(ctx: Context, next: Next): unknown {
    if (!on || QUIET.has(ctx.path) || ctx.method === 'OPTIONS') return next();
    const seen = see(ctx);
    if (seen.verdict.class === 'bad-bot') return screenOut(ctx, seen);
    ctx.state.edgeSeen = seen;
    return next();
  }

  async function edgeProtectionMiddleware(ctx: Context, next: Next): Promise<void> {
    if (QUIET.has(ctx.path) || ctx.method === 'OPTIONS') return next();
    const seen = (ctx.state.edgeSeen as Seen | undefined) ?? see(ctx);
    const { routeClass, ip, verdict } = seen;
    if (verdict.class === 'bad-bot') {
      // Without the screen in front (an app wired by hand): the same 403, through Koa.
      refuse(ctx, routeClass, verdict.class, 'blocked_bad_bot', verdict.reason ?? 'bad-bot');
      deny(ctx, 403, 'forbidden', 'Forbidden', BAD_BOT_DETAIL);
      return;
    }
    if (seen.exempt) {
      count(routeClass, verdict.class, 'exempt');
      await next();
      applyCachePolicy(ctx, routeClass, config, policy);
      return;
    }
    if (!admission.enter(routeClass)) {
      refuse(ctx, routeClass, verdict.class, 'shed', `pressure:${routeClass}`);
      deny(ctx, 503, 'overloaded', 'Service overloaded', `${routeClass} requests are shed while the service is overloaded`, retryAfter);
      return;
    }
    try {
      if (on) {
        // No await unless a check had to wait (a synced browse limit answers at once).
        const admitted = admit(ctx, routeClass, ip, verdict);
        if (!(admitted instanceof Promise ? await admitted : admitted)) return;
      } else count(routeClass, verdict.class, 'exempt');
      await next();
      applyCachePolicy(ctx, routeClass, config, policy);
    } finally {
      admission.leave();
    }
  }
  return { screen: edgeScreenMiddleware, middleware: edgeProtectionMiddleware, admission, limiters, refusals };
}

/** A request header that may come more than once, as one string (the first). */
function firstHeader(req: IncomingMessage, name: string): string | undefined {
  const value = req.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

/** Load pressure, the limiter's degraded flag and its sync totals, read when /metrics is scraped. */
function registerGauges(metrics: Metrics, admission: Admission, limiters: Limiters): void {
  if (metrics.registry.getSingleMetric('edge_limiter_degraded')) return;
  new client.Gauge({ name: 'edge_limiter_degraded', help: '1 while Redis is unreachable and rate limits are per process', registers: [metrics.registry], collect() { this.set(limiters.degraded() ? 1 : 0); } });
  new client.Gauge({ name: 'edge_load_pressure', help: 'Admission pressure: 1 = at a shedding threshold', registers: [metrics.registry], collect() { this.set(admission.pressure()); } });
  new client.Gauge({ name: 'edge_in_flight', help: 'Requests admitted and not yet answered', registers: [metrics.registry], collect() { this.set(admission.inFlight()); } });
  // Totals kept by the synced limits themselves (synced-limit.ts), copied when scraped.
  const copied = (name: string, help: string, label: string, values: (stats: SyncedLimitStats) => Record<string, number>) =>
    new client.Counter({
      name,
      help,
      labelNames: [label],
      registers: [metrics.registry],
      collect() {
        this.reset();
        for (const [value, n] of Object.entries(values(limiters.syncStats()))) this.inc({ [label]: value }, n);
      },
    });
  copied('edge_limiter_decisions_total', 'Class-limit decisions admitted from memory (synced to Redis later) or taken by asking Redis', 'path', (stats) => ({ memory: stats.local, redis: stats.exact }));
  copied('edge_limiter_syncs_total', 'Calls that sent the counts kept in memory to Redis, by outcome (a failed one loses its counts)', 'outcome', (stats) => ({ ok: stats.syncs, failed: stats.syncFailures }));
}
