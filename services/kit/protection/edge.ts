import type { Context, Middleware, Next } from 'koa';
import client from 'prom-client';
import { LRUCache } from 'lru-cache';
import type { Redis } from 'ioredis';
import type { Logger } from '../log.js';
import type { Metrics } from '../metrics.js';
import { classifyBot, type BotRules, type BotVerdict } from './bots.js';
import { CidrSet, deriveClientKey, resolveClientIp } from './client-key.js';
import type { EdgeConfig, RouteClass } from './config.js';
import { createAdmission, goodBotShare, type Admission, type LoadSignal } from './admission.js';
import { createLimiters, limitHeaders, type LimitDecision, type Limiters } from './rate-limit.js';
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
}

export interface EdgeProtection {
  middleware: Middleware;
  admission: Admission;
  limiters: Limiters;
}

const QUIET = new Set(['/healthz', '/readyz', '/metrics']);
const READS = new Set(['GET', 'HEAD']);
type Decision = 'allowed' | 'exempt' | 'blocked_bad_bot' | 'blocked_route' | 'blocked_behaviour' | 'limited' | 'shed' | 'error';

function deny(ctx: Context, status: number, code: string, title: string, detail: string, headers: Record<string, string> = {}): void {
  ctx.state.route = `edge:${code}`;
  ctx.status = status;
  ctx.type = 'application/problem+json';
  ctx.set('cache-control', 'no-store');
  for (const [name, value] of Object.entries(headers)) ctx.set(name, value);
  ctx.body = { type: `urn:problem:${code}`, title, status, detail, requestId: ctx.state.requestId };
}

/**
 * Edge protection as one middleware (docs/edge-protection.md): resolves the
 * client address and key, blocks bad bots, keeps good bots on browse routes
 * within a budget that shrinks under load, sheds by route class under
 * overload, applies per-class rate limits, and sets the cache policy on the
 * way out. Health and metrics endpoints and CORS preflights pass untouched.
 */
export function createEdgeProtection(options: EdgeOptions & { logger: Logger; metrics: Metrics }): EdgeProtection {
  const config = options.config;
  const log = options.logger.child({ module: 'edge' });
  const on = config.EDGE_PROTECTION === 'on';
  const proxies = { trustedProxies: new CidrSet(config.EDGE_TRUSTED_PROXIES), hops: config.EDGE_PROXY_HOPS };
  const exempt = new CidrSet(config.EDGE_EXEMPT_CIDRS);
  const rules: BotRules = { goodAgents: config.EDGE_GOOD_BOT_AGENTS, goodCidrs: new CidrSet(config.EDGE_GOOD_BOT_CIDRS), badAgents: config.EDGE_BAD_BOT_AGENTS };
  const classify = createRouteClassifier([...(options.routes ?? []), ...DEFAULT_ROUTE_CLASSES]);
  const admission = createAdmission({ loopDelayMs: config.EDGE_SHED_LOOP_DELAY_MS, maxInFlight: config.EDGE_SHED_IN_FLIGHT, loadSignal: options.loadSignal });
  const prefix = options.keyPrefix ?? 'edge';
  const limiters = createLimiters({ config, redis: options.redis, prefix });
  const flagged = new LRUCache<string, string>({ max: 10_000, ttl: config.EDGE_BEHAVIOUR_COOLDOWN_S * 1000 });
  const policy = publicCacheControl(config);
  const retryAfter = String(config.EDGE_SHED_RETRY_AFTER_S);
  const counted = options.metrics.counter('edge_requests_total', 'Edge decisions by route class, bot class and decision', ['route_class', 'bot_class', 'decision']);
  registerGauges(options.metrics, admission, limiters);
  const count = (routeClass: RouteClass, bot: string, decision: Decision) => counted.inc({ route_class: routeClass, bot_class: bot, decision });

  /** Marked as a bot for the cool-down: in this process at once, in every replica through Redis. */
  async function isFlagged(key: string): Promise<string | undefined> {
    const local = flagged.get(key);
    if (local || !options.redis) return local;
    try {
      const shared = await options.redis.get(`${prefix}:flag:${key}`);
      if (shared) flagged.set(key, shared);
      return shared ?? undefined;
    } catch {
      return undefined;
    }
  }
  async function flag(key: string, reason: string): Promise<void> {
    flagged.set(key, reason);
    await options.redis?.set(`${prefix}:flag:${key}`, reason, 'EX', config.EDGE_BEHAVIOUR_COOLDOWN_S).catch(() => undefined);
  }

  /** Bot rules and limits for one non-exempt request; returns the limit decision, or undefined when it already answered. */
  async function check(ctx: Context, routeClass: RouteClass, ip: string, verdict: BotVerdict): Promise<LimitDecision | undefined> {
    const block = (decision: Decision, reason: string, detail: string) => {
      count(routeClass, verdict.class, decision);
      log.warn({ reason, botClass: verdict.class, routeClass, ip, method: ctx.method, path: ctx.path }, 'edge blocked request');
      deny(ctx, 403, 'forbidden', 'Forbidden', detail);
      return undefined;
    };
    if (verdict.class === 'bad-bot') return block('blocked_bad_bot', verdict.reason ?? 'bad-bot', 'automated clients of this kind are not allowed');
    const key = deriveClientKey(ctx, ip, options.customerKey, Date.now());
    ctx.state.clientKey = key;
    if (verdict.class === 'good-bot') {
      if (routeClass !== 'browse') return block('blocked_route', `good-bot-route:${routeClass}`, 'crawlers may only browse');
      return limiters.consumeGoodBot(verdict.name ?? 'crawler', 1 / goodBotShare(admission.pressure()));
    }
    if (routeClass !== 'browse') {
      const reason = await isFlagged(key);
      if (reason) return block('blocked_behaviour', reason, 'too many attempts; try again later');
      const kind = routeClass === 'checkout' && ctx.method === 'POST' ? 'checkout' : routeClass === 'cart' && !READS.has(ctx.method) ? 'cart' : undefined;
      if (kind && !(await limiters.behaviour(kind, key))) {
        await flag(key, `behaviour:${kind}`);
        return block('blocked_behaviour', `behaviour:${kind}`, 'too many attempts; try again later');
      }
    }
    const decision = await limiters.consume(routeClass, key);
    if (!decision.allowed || !key.startsWith('cart:')) return decision;
    // Cart tokens are minted by clients: the address keeps a (larger) ceiling too.
    const ceiling = await limiters.consumeCeiling(routeClass, ip);
    return ceiling.allowed ? decision : ceiling;
  }

  async function edgeProtectionMiddleware(ctx: Context, next: Next): Promise<void> {
    if (QUIET.has(ctx.path) || ctx.method === 'OPTIONS') return next();
    const routeClass = classify(ctx.method, ctx.path);
    const ip = resolveClientIp(ctx.req.socket.remoteAddress ?? '', ctx.get('x-forwarded-for') || undefined, proxies);
    ctx.state.clientIp = ip;
    ctx.state.routeClass = routeClass;
    // Exempt callers (in-cluster services, local tools) skip bots, limits and shedding: their requests serve an admitted one.
    const isExempt = exempt.has(ip);
    const guarded = on && !isExempt;
    const verdict: BotVerdict = guarded ? classifyBot(ctx.get('user-agent'), ip, rules) : { class: 'human' };
    ctx.state.botClass = verdict.class;
    if (!isExempt && verdict.class !== 'bad-bot' && !admission.enter(routeClass)) {
      count(routeClass, verdict.class, 'shed');
      deny(ctx, 503, 'overloaded', 'Service overloaded', `${routeClass} requests are shed while the service is overloaded`, { 'retry-after': retryAfter });
      return;
    }
    const entered = !isExempt && verdict.class !== 'bad-bot';
    try {
      if (guarded) {
        const decision = await check(ctx, routeClass, ip, verdict).catch((error: unknown) => {
          // Both the store and its in-memory insurance failed: serve rather than fail the shop.
          log.error({ err: error, routeClass }, 'edge limiter failed; request let through');
          count(routeClass, verdict.class, 'error');
          return 'failed' as const;
        });
        if (!decision) return;
        if (decision !== 'failed') {
          for (const [name, value] of Object.entries(limitHeaders(decision))) ctx.set(name, value);
          if (!decision.allowed) {
            count(routeClass, verdict.class, 'limited');
            deny(ctx, 429, 'rate_limited', 'Too many requests', `the ${routeClass} limit of ${decision.limit} requests is used up`);
            return;
          }
          count(routeClass, verdict.class, 'allowed');
        }
      } else {
        count(routeClass, verdict.class, 'exempt');
      }
      await next();
      applyCachePolicy(ctx, routeClass, config, policy);
    } finally {
      if (entered) admission.leave();
    }
  }
  return { middleware: edgeProtectionMiddleware, admission, limiters };
}

/** Load pressure and the limiter's degraded flag, read when /metrics is scraped. */
function registerGauges(metrics: Metrics, admission: Admission, limiters: Limiters): void {
  if (metrics.registry.getSingleMetric('edge_limiter_degraded')) return;
  new client.Gauge({ name: 'edge_limiter_degraded', help: '1 while Redis is unreachable and rate limits are per process', registers: [metrics.registry], collect() { this.set(limiters.degraded() ? 1 : 0); } });
  new client.Gauge({ name: 'edge_load_pressure', help: 'Admission pressure: 1 = at a shedding threshold', registers: [metrics.registry], collect() { this.set(admission.pressure()); } });
  new client.Gauge({ name: 'edge_in_flight', help: 'Requests admitted and not yet answered', registers: [metrics.registry], collect() { this.set(admission.inFlight()); } });
}
