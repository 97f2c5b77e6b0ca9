/**
 * The kit's Redis lock (services/kit/lock.ts) against the test Redis: mutual
 * exclusion, lease renewal for long sections, and a release lost to a Redis
 * outage given back once Redis answers again. The gameday found the last one:
 * checkout's flow lock outlived a 3 s Redis restart (AOF kept the key) and a
 * shopper's retries met their own stale lock for 28 s.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { AppError, createLocker, sleep } from '../../services/kit/index.js';
import { testServers } from '../helpers/env.js';

const prefix = `lock:test:${randomBytes(4).toString('hex')}`;
const redis = new Redis(testServers().redisUrl, { maxRetriesPerRequest: 1, lazyConnect: true });
before(() => redis.connect());
after(() => redis.disconnect());

test('two holders of one key never overlap, and a busy key past the wait answers 503 busy', async () => {
  const withLock = createLocker(redis, { prefix, ttlMs: 2_000, waitMs: 3_000 });
  const other = createLocker(redis, { prefix, ttlMs: 2_000, waitMs: 200 });
  let inside = 0;
  let overlap = false;
  const section = async () => {
    inside += 1;
    if (inside > 1) overlap = true;
    await sleep(50);
    inside -= 1;
  };
  await Promise.all(Array.from({ length: 8 }, () => withLock('a', section)));
  assert.equal(overlap, false);
  const slow = withLock('b', () => sleep(600));
  await sleep(50);
  const error = await other('b', async () => undefined).then(() => undefined, (e: unknown) => e);
  assert.ok(error instanceof AppError && error.status === 503 && error.code === 'busy', String(error));
  await slow;
});

test('a section longer than the lease keeps the key while it runs when maxHoldMs allows, and loses it without', async () => {
  const renewed = createLocker(redis, { prefix, ttlMs: 600, maxHoldMs: 5_000 });
  let ttlSeen = -2;
  await renewed('long', async () => {
    await sleep(1_500);
    ttlSeen = await redis.pttl(`${prefix}:long`);
  });
  assert.ok(ttlSeen > 0, `key still held after 2.5 leases (pttl ${ttlSeen})`);
  assert.equal(await redis.exists(`${prefix}:long`), 0, 'released at the end');

  const plain = createLocker(redis, { prefix, ttlMs: 600 });
  let plainTtl = 0;
  await plain('short', async () => {
    await sleep(1_000);
    plainTtl = await redis.pttl(`${prefix}:short`);
  });
  assert.equal(plainTtl, -2, 'without renewal the lease ran out');
});

test('renewal stops at maxHoldMs, so a stuck holder frees the key', async () => {
  const capped = createLocker(redis, { prefix, ttlMs: 300, maxHoldMs: 600 });
  let ttl = 0;
  await capped('stuck', async () => {
    await sleep(1_300);
    ttl = await redis.pttl(`${prefix}:stuck`);
  });
  assert.equal(ttl, -2);
});

test('a release that fails while Redis is unreachable is retried, so the key is free well before its lease ends', async () => {
  const key = `${prefix}:outage`;
  // A second client the test can cut off: the section runs, then "Redis goes away" before the release.
  const flaky = new Redis(testServers().redisUrl, { maxRetriesPerRequest: 0, enableOfflineQueue: false, retryStrategy: () => 200, lazyConnect: true });
  flaky.on('error', () => undefined);
  await flaky.connect();
  const withLock = createLocker(flaky, { prefix, ttlMs: 30_000 });
  await withLock('outage', async () => {
    assert.equal(await redis.exists(key), 1);
    flaky.disconnect(true); // drops the connection and reconnects after retryStrategy's 200 ms
  });
  assert.equal(await redis.exists(key), 1, 'the release was lost with the connection');
  let freed = false;
  for (let i = 0; i < 50 && !freed; i++) {
    await sleep(100);
    freed = (await redis.exists(key)) === 0;
  }
  flaky.disconnect();
  assert.ok(freed, 'the key was given back after Redis answered again, not after its 30 s lease');
});
