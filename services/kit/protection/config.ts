import { z } from 'zod';

/** The route classes a request can fall in; limits, shedding, bot rules and cache policy key on them. */
export const ROUTE_CLASSES = ['browse', 'cart', 'checkout', 'ticket', 'account', 'admin'] as const;
export type RouteClass = (typeof ROUTE_CLASSES)[number];

/** `points/seconds`, e.g. `600/60`: at most 600 requests per client key per 60 s. */
export interface LimitSpec {
  points: number;
  durationS: number;
}

const limit = (fallback: string) =>
  z
    .string()
    .regex(/^\d{1,9}\/\d{1,6}$/, 'must look like 600/60 (requests/seconds)')
    .default(fallback)
    .transform((text): LimitSpec => {
      const [points, durationS] = text.split('/').map(Number);
      return { points: points ?? 1, durationS: durationS ?? 1 };
    });

const list = (fallback: string) =>
  z
    .string()
    .default(fallback)
    .transform((text) => text.split(',').map((item) => item.trim()).filter(Boolean));

/** A `|`-separated list of case-insensitive substrings, compiled once. */
const signatures = (fallback: string) =>
  z
    .string()
    .default(fallback)
    .transform((text) => text.split('|').map((s) => s.trim()).filter(Boolean));

/**
 * Example crawler ranges (published by the operators; verify before relying on
 * them): Googlebot 66.249.64.0/19, Bingbot 157.55.39.0/24, 207.46.13.0/24,
 * 40.77.167.0/24, Applebot 17.0.0.0/8. Reverse DNS is not checked (not
 * available offline), so the allowlist is what makes a crawler "verified".
 */
const GOOD_BOT_CIDRS = '66.249.64.0/19,157.55.39.0/24,207.46.13.0/24,40.77.167.0/24,17.0.0.0/8';
const GOOD_BOT_AGENTS = 'Googlebot|bingbot|Applebot|DuckDuckBot|YandexBot';
const BAD_BOT_AGENTS = 'sqlmap|nikto|masscan|zgrab|nmap|nuclei|acunetix|wpscan|dirbuster|gobuster|scrapy|HeadlessChrome|PhantomJS|Puppeteer|Selenium';
const LOOPBACK = '127.0.0.0/8,::1';

const ms = (fallback: number) => z.coerce.number().int().min(0).max(600_000).default(fallback);
const int = (min: number, max: number, fallback: number) => z.coerce.number().int().min(min).max(max).default(fallback);

/**
 * Edge-protection settings every service shares (docs/edge-protection.md).
 * Part of baseConfigShape, so each service gets them by configuration.
 */
export const edgeConfigShape = {
  /** `off` turns bot rules and rate limits off (admission control and cache policy stay). */
  EDGE_PROTECTION: z.enum(['on', 'off']).default('on'),
  /** Peers whose X-Forwarded-For is believed (the Ingress controller's pods). */
  EDGE_TRUSTED_PROXIES: list(LOOPBACK),
  /** Most trusted proxies walked back through X-Forwarded-For. */
  EDGE_PROXY_HOPS: int(0, 10, 1),
  /** Client addresses exempt from bot rules, limits and shedding (in-cluster callers, local tools). */
  EDGE_EXEMPT_CIDRS: list(LOOPBACK),
  EDGE_GOOD_BOT_AGENTS: signatures(GOOD_BOT_AGENTS),
  EDGE_GOOD_BOT_CIDRS: list(GOOD_BOT_CIDRS),
  EDGE_BAD_BOT_AGENTS: signatures(BAD_BOT_AGENTS),
  EDGE_LIMIT_BROWSE: limit('600/60'),
  EDGE_LIMIT_CART: limit('120/60'),
  EDGE_LIMIT_CHECKOUT: limit('20/60'),
  EDGE_LIMIT_TICKET: limit('10/60'),
  EDGE_LIMIT_ACCOUNT: limit('60/60'),
  EDGE_LIMIT_ADMIN: limit('6000/60'),
  /** Per crawler (all its addresses together), at no load; shrinks as load rises. */
  EDGE_LIMIT_GOOD_BOT: limit('300/60'),
  /**
   * Class limits are counted in memory and sent to Redis in one call this often
   * (synced-limit.ts); 0 asks Redis on every request.
   */
  EDGE_LIMIT_SYNC_MS: int(0, 10_000, 100),
  /**
   * How far past its budget a client spread over every replica may get, as a
   * share of the budget: each replica may admit EDGE_LIMIT_OVERSHOOT x budget /
   * EDGE_LIMIT_REPLICAS requests of a client between two syncs without asking
   * Redis. Where that is under one request the limit is asked of Redis per request.
   */
  EDGE_LIMIT_OVERSHOOT: z.coerce.number().min(0).max(1).default(0.1),
  /** The most replicas of this service that can serve one client (the HPA's maxReplicas; charts-ts sets it). */
  EDGE_LIMIT_REPLICAS: int(1, 10_000, 2),
  /** Requests with a cart token are also counted per address, at this multiple of the class limit. */
  EDGE_IP_CEILING_FACTOR: int(1, 1_000, 10),
  /** Checkout attempts beyond a human rate: the client is treated as a bot for the cool-down. */
  EDGE_BEHAVIOUR_CHECKOUT: limit('30/600'),
  /** Cart writes beyond a human rate, likewise. */
  EDGE_BEHAVIOUR_CART: limit('600/600'),
  EDGE_BEHAVIOUR_COOLDOWN_S: int(1, 86_400, 900),
  /** Pressure 1.0 when the event loop's p90 delay over the last second reaches this. */
  EDGE_SHED_LOOP_DELAY_MS: ms(250),
  /** Pressure 1.0 at this many requests in flight in one process. */
  EDGE_SHED_IN_FLIGHT: int(1, 1_000_000, 512),
  EDGE_SHED_RETRY_AFTER_S: int(1, 3_600, 2),
  /** Cache-Control of public browse responses (CDN and browser). */
  EDGE_CACHE_MAX_AGE_S: int(0, 86_400, 30),
  EDGE_CACHE_S_MAXAGE_S: int(0, 86_400, 60),
  EDGE_CACHE_SWR_S: int(0, 86_400, 60),
  EDGE_CACHE_SIE_S: int(0, 604_800, 86_400),
} as const;

export type EdgeConfig = Readonly<z.infer<z.ZodObject<typeof edgeConfigShape>>>;

/** The edge settings with every default, plus `overrides` (env-style strings): for tests and benches. */
export function edgeConfig(overrides: Record<string, string> = {}): EdgeConfig {
  return Object.freeze(z.object(edgeConfigShape).parse(overrides));
}

/** The configured limit of a route class. */
export function classLimit(config: EdgeConfig, routeClass: RouteClass): LimitSpec {
  const byClass: Record<RouteClass, LimitSpec> = {
    browse: config.EDGE_LIMIT_BROWSE,
    cart: config.EDGE_LIMIT_CART,
    checkout: config.EDGE_LIMIT_CHECKOUT,
    ticket: config.EDGE_LIMIT_TICKET,
    account: config.EDGE_LIMIT_ACCOUNT,
    admin: config.EDGE_LIMIT_ADMIN,
  };
  return byClass[routeClass];
}
