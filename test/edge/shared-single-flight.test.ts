import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { connectRedis, createRedis, SharedCache, sleep } from '../../services/kit/index.js';
import { testLogger, testServers, uniqueName } from '../helpers/env.js';

const logger = testLogger();
const { redisUrl } = testServers();
const connections = await Promise.all([0, 1, 2, 3].map((i) => connectRedis(createRedis(redisUrl, logger, i % 2 ? { enableOfflineQueue: true, commandTimeout: undefined } : {}))));
after(() => Promise.all(connections.map((c) => c.quit())));

test('when two replicas miss the same cold key under a spike, then the database is asked once and both serve its value', async () => {
  const name = uniqueName(import.meta.url);
  const replicas = [new SharedCache<{ price: number }>({ name, redis: connections[0]!, subscriber: connections[1]!, logger }), new SharedCache<{ price: number }>({ name, redis: connections[2]!, subscriber: connections[3]!, logger })];
  await Promise.all(replicas.map((cache) => cache.start()));
  let loads = 0;
  const load = async () => {
    loads += 1;
    await sleep(80);
    return { price: 1999 };
  };
  try {
    const results = await Promise.all(Array.from({ length: 40 }, (_, i) => replicas[i % 2]!.get('p:kettle', load)));
    assert.equal(loads, 1);
    assert.ok(results.every((result) => result.value.price === 1999));
    assert.equal(new Set(results.map((result) => result.etag)).size, 1);
    assert.ok(results.some((result) => result.state === 'shared'), 'the other replica took the stored entry');
  } finally {
    await Promise.all(replicas.map((cache) => cache.stop()));
  }
});

test('when the replica that loads a cold key is too slow, then the others stop waiting after the bound and load themselves', async () => {
  const name = uniqueName(import.meta.url);
  const a = new SharedCache<number>({ name, redis: connections[0]!, subscriber: connections[1]!, logger, fillWaitMs: 50 });
  const b = new SharedCache<number>({ name, redis: connections[2]!, subscriber: connections[3]!, logger, fillWaitMs: 50 });
  await Promise.all([a.start(), b.start()]);
  let loads = 0;
  try {
    const slow = a.get('k', async () => {
      loads += 1;
      await sleep(400);
      return 1;
    });
    await sleep(20);
    const started = Date.now();
    const fast = await b.get('k', async () => {
      loads += 1;
      return 2;
    });
    assert.equal(fast.value, 2);
    assert.ok(Date.now() - started < 350, 'b did not wait for a');
    assert.equal((await slow).value, 1);
    assert.equal(loads, 2);
  } finally {
    await Promise.all([a.stop(), b.stop()]);
  }
});
