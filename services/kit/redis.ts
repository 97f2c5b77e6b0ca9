import { Redis, type RedisOptions } from 'ioredis';
import type { Logger } from './log.js';

export type { Redis, RedisOptions } from 'ioredis';

/**
 * Where Redis is: a single URL, or Sentinel (docs/redis-failover.md). The keys are the
 * kit's config names, so a service passes its whole config (`createRedis(config, logger)`).
 */
export interface RedisConnectionConfig {
  /** `redis://[user:password@]host:port[/db]` or `rediss://`. In Sentinel mode only user, password, db and TLS are used. */
  readonly REDIS_URL: string;
  /** `host:port,host:port`: ask these sentinels for the primary instead of connecting to REDIS_URL's host. */
  readonly REDIS_SENTINELS?: string | undefined;
  /** The name the sentinels monitor the primary under. @default 'shop' */
  readonly REDIS_SENTINEL_NAME?: string | undefined;
  readonly REDIS_SENTINEL_PASSWORD?: string | undefined;
  /** Overrides the password in REDIS_URL. */
  readonly REDIS_PASSWORD?: string | undefined;
}

/** `host:port,host:port` -> ioredis' sentinel list. */
export function parseSentinels(list: string): { host: string; port: number }[] {
  return list.split(',').map((entry) => {
    const at = entry.trim().lastIndexOf(':');
    const port = Number(entry.slice(at + 1));
    if (at <= 0 || !Number.isInteger(port) || port < 1 || port > 65_535) throw new Error(`invalid sentinel address "${entry}": expected host:port`);
    return { host: entry.trim().slice(0, at), port };
  });
}

/**
 * The ioredis options for a config: host/port from REDIS_URL, or `sentinels` + `name`
 * in Sentinel mode, plus credentials, database and TLS. Anything that builds its own
 * ioredis client (a Bull queue's `createClient`, a script) uses this so it follows a
 * failover exactly like the kit's clients do:
 *
 * ```ts
 * new Bull('orders', { createClient: () => new Redis({ ...redisConnectionOptions(config), maxRetriesPerRequest: null, enableReadyCheck: false }) });
 * ```
 */
export function redisConnectionOptions(config: RedisConnectionConfig | string): RedisOptions {
  const c: RedisConnectionConfig = typeof config === 'string' ? { REDIS_URL: config } : config;
  const url = new URL(c.REDIS_URL);
  const db = Number(url.pathname.replace(/^\//, '') || 0);
  const tls = url.protocol === 'rediss:' ? {} : undefined;
  const options: RedisOptions = {
    username: url.username ? decodeURIComponent(url.username) : undefined,
    password: c.REDIS_PASSWORD ?? (url.password ? decodeURIComponent(url.password) : undefined),
    db: Number.isInteger(db) ? db : 0,
    tls,
  };
  if (!c.REDIS_SENTINELS) return { ...options, host: url.hostname, port: Number(url.port || 6379) };
  return {
    ...options,
    sentinels: parseSentinels(c.REDIS_SENTINELS),
    name: c.REDIS_SENTINEL_NAME ?? 'shop',
    sentinelPassword: c.REDIS_SENTINEL_PASSWORD,
    enableTLSForSentinelMode: Boolean(tls),
    // The sentinels answer fast or not at all; a dead one must not hold up finding the primary.
    connectTimeout: 2_000,
    sentinelCommandTimeout: 1_000,
    sentinelRetryStrategy: (attempt: number) => Math.min(attempt * 100, 1_000),
    // Not `failoverDetector`: ioredis 5 gives its sentinel subscribers no error listener and keeps
    // them reconnecting after quit(). A dead primary closes the socket, and a demoted one answers
    // READONLY (reconnectOnError below): both make the client ask the sentinels again.
  };
}

/** True when the config asks for Sentinel. */
export function usesSentinel(config: RedisConnectionConfig | string): boolean {
  return typeof config !== 'string' && Boolean(config.REDIS_SENTINELS);
}

/**
 * An ioredis client with bounded timeouts, to one URL or through Sentinel. Commands
 * fail fast while Redis is unreachable (no offline queue) so callers can fall back;
 * it reconnects forever with capped backoff, and after a failover to the new primary.
 */
export function createRedis(config: RedisConnectionConfig | string, logger: Logger, overrides: RedisOptions = {}): Redis {
  const client = new Redis({
    connectTimeout: 2_000,
    commandTimeout: 1_000,
    maxRetriesPerRequest: 1,
    enableOfflineQueue: false,
    retryStrategy: (attempt) => Math.min(attempt * 100, 2_000),
    // Commands issued in one tick (rate-limit checks, cache reads, lock calls of concurrent
    // requests) go out as one pipeline: one write and one read per tick, not per command.
    enableAutoPipelining: true,
    // A demoted primary answers writes with READONLY: reconnect (via Sentinel) and retry once.
    reconnectOnError: (error) => (error.message.startsWith('READONLY') ? 2 : false),
    lazyConnect: true,
    ...redisConnectionOptions(config),
    ...overrides,
  });
  let warned = false;
  client.on('error', (error) => {
    if (!warned) logger.warn({ err: error }, 'redis error');
    warned = true;
  });
  client.on('ready', () => {
    warned = false;
  });
  return client;
}

/** Connects and waits for the first `ready`. */
export async function connectRedis(client: Redis): Promise<Redis> {
  if (client.status === 'wait') await client.connect();
  return client;
}

/** Readiness check. */
export async function pingRedis(client: Redis): Promise<void> {
  await client.ping();
}
