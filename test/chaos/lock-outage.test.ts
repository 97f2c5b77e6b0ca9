/**
 * Found by the gameday: while Redis restarted, cart writes answered 500 (the
 * lock's SET threw), which no client retries. A lock store outage is a 503 with
 * Retry-After, so the storefront's retry rides it out.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { Redis } from 'ioredis';
import { AppError, createLocker } from '../../services/kit/index.js';

test('a lock taken while Redis is unreachable fails with 503 and Retry-After, and the critical section does not run', async () => {
  // A real client pointed at a loopback port nobody listens on (reserved, then closed), as during a Redis restart.
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as net.AddressInfo).port;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  const redis = new Redis({ port, host: '127.0.0.1', enableOfflineQueue: false, maxRetriesPerRequest: 0, retryStrategy: () => null, lazyConnect: true });
  redis.on('error', () => undefined);
  await redis.connect().catch(() => undefined);
  const withLock = createLocker(redis, { prefix: 'lock:test' });
  let ran = false;
  const error = await withLock('sku-1', async () => {
    ran = true;
  }).then(() => undefined, (e: unknown) => e);
  redis.disconnect();
  assert.ok(error instanceof AppError, `expected an AppError, got ${String(error)}`);
  assert.equal(error.status, 503);
  assert.equal(error.headers['retry-after'], '1');
  assert.ok(error.cause instanceof Error, 'the cause is kept for the log');
  assert.equal(ran, false);
});
