import { Redis, type RedisOptions } from 'ioredis';
import type { Logger } from './log.js';

export type { Redis } from 'ioredis';

/**
 * An ioredis client with bounded timeouts. Commands fail fast while Redis is
 * unreachable (no offline queue) so callers can fall back; it reconnects forever
 * with capped backoff.
 */
export function createRedis(url: string, logger: Logger, overrides: RedisOptions = {}): Redis {
  const client = new Redis(url, {
    connectTimeout: 2_000,
    commandTimeout: 1_000,
    maxRetriesPerRequest: 1,
    enableOfflineQueue: false,
    retryStrategy: (attempt) => Math.min(attempt * 100, 2_000),
    lazyConnect: true,
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
