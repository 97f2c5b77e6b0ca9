/**
 * The Redis primary dies under load (docs/redis-failover.md): a real primary + replica +
 * 3 sentinels on loopback (scripts/lib/redis-ha.ts), an inventory app whose kit client goes
 * through Sentinel, SIGKILL of the primary mid-traffic. Measured figures are printed as
 * diagnostics; the asserted bound is generous (a liveness bound, not a speed claim).
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import os from 'node:os';
import path from 'node:path';
import fs from 'node:fs';
import request from 'supertest';
import { Redis } from 'ioredis';
import { createLocker, sleep } from '../../services/kit/index.js';
import { applyReserve } from '../../services/inventory/domain/effects.js';
import { SENTINEL_MASTER_NAME, startRedisHa, type RedisHa } from '../../scripts/lib/redis-ha.js';
import { stackPorts } from '../../scripts/lib/stack.js';
import { TEST_ADMIN_TOKEN, uniqueName } from '../helpers/env.js';
import { lockPrefixFor, startInventory, type InventoryUnderTest } from '../inventory/helpers.js';

const dbName = uniqueName(import.meta.url);
const auth = { authorization: `Bearer ${TEST_ADMIN_TOKEN}` };
/** Clients must be back on the new primary within this bound (down-after 1 s + election + reconnect take a few s). */
const RESUME_BOUND_MS = 30_000;
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'redis-ha-'));
let ha: RedisHa;
let inv: InventoryUnderTest;
const direct: Redis[] = [];

/** A plain client to one server or sentinel, bypassing Sentinel discovery. */
function connectTo(port: number): Redis {
  const client = new Redis({ host: '127.0.0.1', port, lazyConnect: false, maxRetriesPerRequest: 1, retryStrategy: () => null });
  client.on('error', () => undefined);
  direct.push(client);
  return client;
}

async function primaryPortPerSentinel(): Promise<number> {
  const [, port] = (await connectTo(ha.sentinelPorts[1]!).call('SENTINEL', 'get-master-addr-by-name', SENTINEL_MASTER_NAME)) as [string, string];
  return Number(port);
}

async function waitForReplicaAck(port: number): Promise<void> {
  const primary = connectTo(port);
  for (let i = 0; i < 100 && (await primary.wait(1, 100)) < 1; i++) await sleep(100);
}

before(async () => {
  // Ports beside the test profile's Redis, so the main test Redis is untouched.
  ha = await startRedisHa(stackPorts('test').redisPort + 5, dir, { downAfterMs: 1_000, failoverTimeoutMs: 5_000 });
  inv = await startInventory({ dbName, env: { REDIS_URL: ha.url, REDIS_SENTINELS: ha.sentinels, REDIS_LOCK_REPLICAS: '1', STOCK_LOCK_WAIT_MS: '10000' } });
  await waitForReplicaAck(ha.primaryPort);
});

after(async () => {
  for (const client of direct) client.disconnect();
  await inv?.close();
  await ha?.stop();
  fs.rmSync(dir, { recursive: true, force: true });
});

describe('Redis primary + replica + 3 sentinels, clients through Sentinel', () => {
  test('when a lock is taken with replicaAck and the replica is healthy, then the lock is on the replica before the section runs', async () => {
    const missing: string[] = [];
    const withLock = createLocker(inv.redis, { prefix: `${lockPrefixFor(dbName)}:ack`, replicaAck: { replicas: 1, timeoutMs: 1_000, onUnreplicated: (k) => missing.push(k) } });
    const onReplica = await withLock('a', async () => connectTo(ha.replicaPort).get(`${lockPrefixFor(dbName)}:ack:a`));
    assert.ok(onReplica, 'lock token readable on the replica inside the section');
    assert.deepEqual(missing, []);
  });

  test('when the replica is frozen, then the section still runs and the lock is reported unreplicated', async () => {
    const missing: string[] = [];
    const withLock = createLocker(inv.redis, { prefix: `${lockPrefixFor(dbName)}:frozen`, replicaAck: { replicas: 1, timeoutMs: 200, onUnreplicated: (k) => missing.push(k) } });
    ha.replica.child.kill('SIGSTOP');
    try {
      assert.equal(await withLock('b', async () => 'ran'), 'ran');
    } finally {
      ha.replica.child.kill('SIGCONT');
    }
    assert.deepEqual(missing, [`${lockPrefixFor(dbName)}:frozen:b`]);
    await waitForReplicaAck(ha.primaryPort);
  });

  test('when the primary is killed under reserve traffic, then requests resume on the promoted replica, a replicated lock survives, and stock is not oversold', async (t) => {
    const app = inv.app.callback();
    const onHand = 400;
    assert.equal((await request(app).put('/api/inventory/stock/HA-1').set(auth).send({ onHand, reason: 'gameday' })).status, 201);

    // A holder keeps a lock across the failover; the lock was acknowledged by the replica (REDIS_LOCK_REPLICAS=1).
    const heldPrefix = `${lockPrefixFor(dbName)}:held`;
    const holder = createLocker(inv.redis, { prefix: heldPrefix, ttlMs: 300_000, replicaAck: { replicas: 1, timeoutMs: 1_000 } });
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    let entered!: () => void;
    const inside = new Promise<void>((resolve) => (entered = resolve));
    const holding = holder('survivor', async () => {
      entered();
      await held;
    });
    await inside;

    const byStatus: Record<number, number> = {};
    let killedAt = 0;
    let resumedAt = 0;
    let sent = 0;
    const started = Date.now();
    // Bounded: at most 300 requests and 60 s; the primary dies after the 45th, the loop ends 60 after recovery.
    let stopAt = 300;
    while (sent < stopAt && Date.now() - started < 60_000) {
      const batch = await Promise.all([0, 1, 2].map(async () => {
        const id = `ha-hold-${String(sent++).padStart(4, '0')}`;
        return (await request(app).post('/api/inventory/holds').set(auth).send({ id, sku: 'HA-1', qty: 1 })).status;
      }));
      for (const status of batch) byStatus[status] = (byStatus[status] ?? 0) + 1;
      if (!killedAt && sent >= 45) {
        ha.primary.child.kill('SIGKILL');
        killedAt = Date.now();
      } else if (killedAt && !resumedAt && batch.includes(201)) {
        resumedAt = Date.now();
        stopAt = Math.min(stopAt, sent + 60);
      }
      await sleep(20);
    }
    const outageMs = resumedAt - killedAt;
    t.diagnostic(`requests ${sent}, by status ${JSON.stringify(byStatus)}, primary killed -> first 201 after ${outageMs} ms`);
    assert.ok(killedAt > 0 && resumedAt > 0, `resumed after the kill (${JSON.stringify(byStatus)})`);
    assert.ok(outageMs < RESUME_BOUND_MS, `resumed within ${RESUME_BOUND_MS} ms (took ${outageMs})`);
    assert.equal(await primaryPortPerSentinel(), ha.replicaPort, 'Sentinel promoted the replica');

    // The replicated lock outlived its primary: a second holder is refused while the first still holds it.
    const rival = createLocker(inv.redis, { prefix: heldPrefix, waitMs: 300 });
    try {
      await assert.rejects(rival('survivor', async () => 'stolen'), (error: { status?: number }) => error.status === 503);
    } finally {
      release();
      await holding;
    }
    assert.equal(await rival('survivor', async () => 'after release'), 'after release');

    const stock = (await request(app).get('/api/inventory/stock/HA-1').set(auth)).body as Record<string, number>;
    t.diagnostic(`stock after failover: ${JSON.stringify(stock)}`);
    assert.equal(stock.available! + stock.reserved!, onHand, 'no unit created or lost');
    assert.equal(stock.reserved, byStatus[201], 'every 201 holds exactly one reserved unit');
    assert.ok(stock.available! >= 0);
  });

  test('when a lock grant is lost with its primary (simulated), then a second holder gets in and the guarded write refuses the oversell', async () => {
    const app = inv.app.callback();
    assert.equal((await request(app).put('/api/inventory/stock/HA-LAST').set(auth).send({ onHand: 1, reason: 'last unit' })).status, 201);
    const prefix = `${lockPrefixFor(dbName)}:lost`;
    const first = createLocker(inv.redis, { prefix });
    const second = createLocker(inv.redis, { prefix });
    const outcomes = await first('HA-LAST', async () => {
      // What an unreplicated grant looks like after a failover: the new primary has no such key.
      await inv.redis.del(`${prefix}:HA-LAST`);
      const b = await applyReserve({ ...inv.deps, lock: second }, 'hold-b', 'HA-LAST', 1);
      // The first holder continues under its (lost) lock; its write is still guarded by `available >= qty`.
      const a = await applyReserve({ ...inv.deps, lock: (_key, fn) => fn() }, 'hold-a', 'HA-LAST', 1);
      return { a: a.kind, b: b.kind };
    });
    assert.deepEqual(outcomes, { a: 'insufficient', b: 'applied' });
    const stock = (await request(app).get('/api/inventory/stock/HA-LAST').set(auth)).body as Record<string, number>;
    assert.deepEqual([stock.available, stock.reserved], [0, 1]);
  });
});
