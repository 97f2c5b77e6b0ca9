import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { spawn, type ChildProcess } from 'node:child_process';
import type Koa from 'koa';
import request from 'supertest';
import type { Connection } from 'mongoose';
import { connectMongo, connectRedis, createLocker, createRedis, loadConfig, type Clock, type Redis } from '../../services/kit/index.js';
import { inventoryConfigShape, type InventoryConfig } from '../../services/inventory/config.js';
import { createInventoryModels, type InventoryModels } from '../../services/inventory/models.js';
import { addInventoryChecks, createInventoryApp } from '../../services/inventory/app.js';
import { createGate } from '../../services/inventory/domain/gate.js';
import type { InventorySweeps } from '../../services/inventory/sweepers.js';
import type { HoldDeps } from '../../services/inventory/domain/holds.js';
import { freePort } from '../helpers/ferretdb.js';
import { TEST_ADMIN_TOKEN, TEST_ADMIN_TOKEN_SHA256, TEST_INTERNAL_TOKEN, TEST_INTERNAL_TOKEN_SHA256, testObservability, testServers } from '../helpers/env.js';

export interface InventoryUnderTest {
  app: Koa;
  models: InventoryModels;
  sweeps: InventorySweeps;
  connection: Connection;
  redis: Redis;
  config: InventoryConfig;
  /** Domain dependencies, for calling domain functions directly. */
  deps: HoldDeps;
  /** Set when started with `listen: true`. */
  url: string;
  close(options?: { keepDatabase?: boolean }): Promise<void>;
}

/** A real inventory app on the test FerretDB, with its own database; optionally listening on a loopback port. */
export async function startInventory(options: { dbName: string; clock?: Clock; listen?: boolean; env?: Record<string, string>; digestsOnly?: boolean }): Promise<InventoryUnderTest> {
  const { mongoUri, redisUrl } = testServers();
  const config = loadConfig(inventoryConfigShape, {
    // These tests are about the service, not edge protection (test/edge/): every client is exempt from bot rules, limits and shedding.
    EDGE_EXEMPT_CIDRS: '0.0.0.0/0,::/0', MONGODB_URI: mongoUri, REDIS_URL: redisUrl,
    // digestsOnly: as in the manifests, only the SHA-256 of the tokens inventory verifies; else the tokens (local runs).
    ...(options.digestsOnly ? { ADMIN_TOKEN_SHA256: TEST_ADMIN_TOKEN_SHA256, INTERNAL_TOKEN_SHA256: TEST_INTERNAL_TOKEN_SHA256 } : { ADMIN_TOKEN: TEST_ADMIN_TOKEN, INTERNAL_TOKEN: TEST_INTERNAL_TOKEN }),
    ...options.env });
  const { logger, metrics, health } = testObservability('inventory');
  const connection = await connectMongo(mongoUri, { logger, dbName: options.dbName, serverSelectionTimeoutMs: 2_000 });
  const redis = await connectRedis(createRedis(config, logger)); // REDIS_SENTINELS in env reaches the client too
  const models = await createInventoryModels(connection);
  // The readiness checks main.ts registers, so /readyz answers as in production.
  addInventoryChecks(health, connection, redis);
  const lockPrefix = lockPrefixFor(options.dbName);
  const { app, sweeps } = createInventoryApp({ config, logger, metrics, health, models, redis, lockPrefix, clock: options.clock, replica: 'test' });
  let server: http.Server | undefined;
  let url = '';
  if (options.listen) {
    server = http.createServer(app.callback());
    await new Promise<void>((resolve) => server?.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  }
  return {
    app, models, sweeps, connection, config, url,
    redis,
    deps: { models, clock: options.clock ?? { now: () => Date.now() }, replica: 'test', lock: createLocker(redis, { prefix: lockPrefix }), gate: createGate(redis, { prefix: `${lockPrefix}:gate`, ttlMs: config.STOCK_GATE_TTL_S * 1_000 }) },
    async close(closeOptions = {}) {
      if (server) {
        server.closeAllConnections();
        await new Promise<void>((resolve) => server?.close(() => resolve()));
      }
      await sweeps.stop();
      health.close();
      if (!closeOptions.keepDatabase) await connection.dropDatabase().catch(() => undefined);
      await redis.quit();
      await connection.close();
    },
  };
}

/** Lock namespace for a test database, shared with child processes via STOCK_LOCK_PREFIX. */
export const lockPrefixFor = (dbName: string) => `lock:${dbName}`;

export const admin = { authorization: `Bearer ${TEST_ADMIN_TOKEN}` };

/** MONGODB_URI of the test server pointing at `dbName` (for child processes). */
export function mongoUriFor(dbName: string): string {
  const url = new URL(testServers().mongoUri);
  url.pathname = `/${dbName}`;
  return url.toString();
}

export { freePort } from '../helpers/ferretdb.js';

export interface ChildService {
  child: ChildProcess;
  url: string;
  output: () => string;
  /** SIGTERM (or the given signal) and wait for exit. */
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

/** Runs `services/main.ts` as a real process (one replica) and waits until /readyz answers 200. */
export async function spawnService(service: string, env: Record<string, string>): Promise<ChildService> {
  const port = await freePort();
  const child = spawn(process.execPath, ['--import', 'tsx', 'services/main.ts'], {
    env: { ...process.env, INTERNAL_TOKEN: TEST_INTERNAL_TOKEN, SERVICE: service, PORT: String(port), HOST: '127.0.0.1', LOG_LEVEL: 'warn', SHUTDOWN_DELAY_MS: '0', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 30_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`${service} exited early: ${output}`);
    const ready = await fetch(`${url}/readyz`).then((r) => r.status === 200, () => false);
    if (ready) break;
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`${service} not ready in time: ${output}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return {
    child,
    url,
    output: () => output,
    async stop(signal = 'SIGTERM') {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      return exited;
    },
  };
}

/**
 * The inventory admin calls tests make again and again, against an app in this
 * process (supertest, no port).
 */
export function inventoryCalls(inv: () => InventoryUnderTest) {
  const api = () => request(inv().app.callback());
  return {
    api,
    /** Sets on-hand units; fails the test unless the API accepted it. */
    async setStock(sku: string, onHand: number) {
      const res = await api().put(`/api/inventory/stock/${sku}`).set(admin).send({ onHand, reason: 'test' });
      assert.ok(res.status === 200 || res.status === 201, JSON.stringify(res.body));
      return res.body;
    },
    stock: async (sku: string) => (await api().get(`/api/inventory/stock/${sku}`).set(admin)).body,
    reserve: (body: Record<string, unknown>) => api().post('/api/inventory/holds').set(admin).send(body),
    usage: async (owner: string, sku: string) => (await api().get('/api/inventory/usage').query({ owner, sku }).set(admin)).body,
    holdState: async (id: string) => (await api().get(`/api/inventory/holds/${id}`).set(admin)).body.state,
    check: async () => (await api().get('/api/inventory/check').set(admin)).body,
  };
}
