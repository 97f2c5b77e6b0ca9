/**
 * One local gameday: start the platform (own data tier, fresh database), seed a
 * small catalog, run shopper load and chaos together, then verify against the
 * databases and write reports/gameday/<timestamp>/{report.json,report.html}.
 */
import fs from 'node:fs';
import path from 'node:path';
import mongoose from 'mongoose';
import { Redis } from 'ioredis';
import { startPlatform } from '../platform.js';
import { localAdminToken } from '../admin-token.js';
import { demoCategories } from '../demo-catalog.js';
import { dataDir, repoRoot } from '../paths.js';
import { runChaos, type ChaosBackend, type PodAction } from '../chaos/engine.js';
import { localBackend } from '../chaos/local.js';
import { loadProducts } from '../load/catalog.js';
import { runLoad } from '../load/runner.js';
import { DEFAULT_MIX } from '../load/shopper.js';
import { judge, type Thresholds } from './verdict.js';
import { verifyDatabases } from './verify.js';
import { renderHtml, summaryText, type GamedayReport } from './report.js';

export interface GamedayOptions {
  durationS: number;
  rps: number;
  replicas: number;
  portOffset: number;
  killEveryMs: number;
  /** Stop Redis once (at 40 % of the run) for this long; 0 = no data-tier fault. */
  redisDownMs: number;
  /** Also stop FerretDB once (at 70 %) for this long; 0 = no. */
  ferretdbDownMs: number;
  /** Redis as in prod (primary, replica, 3 sentinels): the Redis fault SIGKILLs the primary and Sentinel fails over. */
  redisHa?: boolean;
  thresholds: Thresholds;
  seedProducts: number;
  thinkMs: number;
  outRoot?: string;
  log: (line: string) => void;
  progress?: (line: string) => void;
}

export async function runGameday(options: GamedayOptions): Promise<{ report: GamedayReport; dir: string }> {
  const { log } = options;
  const stamp = new Date().toISOString().replace(/[:.]/g, '-');
  const dir = path.join(options.outRoot ?? path.join(repoRoot, 'reports', 'gameday'), stamp);
  fs.mkdirSync(dir, { recursive: true });
  const platformLog = fs.createWriteStream(path.join(dir, 'platform.log'));
  const dbName = `gameday_${Date.now().toString(36)}`;
  const platform = await startPlatform({
    replicas: options.replicas,
    portOffset: options.portOffset,
    dataTier: 'own',
    ownDir: 'gameday',
    redisHa: options.redisHa === true,
    dbName,
    stateDir: path.join(dataDir, 'gameday', 'state'),
    beforeReplicas: async ({ mongoUri, redisUrl }) => {
      // Earlier runs' databases stay for inspection until the next run; drop them now.
      const connection = await mongoose.createConnection(mongoUri, { serverSelectionTimeoutMS: 15_000 }).asPromise();
      const { databases } = await connection.db!.admin().listDatabases();
      for (const { name } of databases) if (name.startsWith('gameday_') && name !== dbName) await connection.useDb(name).dropDatabase();
      await connection.close();
      const redis = new Redis(redisUrl, { maxRetriesPerRequest: 2 });
      await redis.flushall(); // our own Redis: no cache or lock from an earlier run may leak in
      redis.disconnect();
    },
    log: (line) => platformLog.write(`${new Date().toISOString()} ${line}\n`),
  });
  let report: GamedayReport;
  try {
    const notReady = Object.entries(platform.edge.status()).filter(([, s]) => s.healthy === 0).map(([n]) => n);
    if (notReady.length) throw new Error(`no ready replica of ${notReady.join(', ')} after 60 s; see ${platform.logDir}`);
    log(`platform up: edge ${platform.edgeUrl}, ${options.replicas} replicas per service, database ${dbName}; logs in ${path.relative(process.cwd(), platform.logDir)}`);
    report = await exercise({
      ...options,
      mode: 'local',
      baseUrl: platform.edgeUrl,
      adminToken: localAdminToken(),
      mongoUri: platform.mongoUri,
      redisUrl: platform.redisUrl,
      backend: localBackend({ replicas: () => platform.replicas(), signal: (s, i, sig) => platform.supervisor.signal(s, i, sig), fault: (c, ms) => platform.fault(c as 'redis', ms) }),
      actions: ['delete', 'kill'],
      dir,
    });
  } finally {
    log('stopping the platform (replicas drain, then the data tier)');
    await platform.stop();
    platformLog.end();
  }
  return { report, dir };
}

export interface ExerciseOptions extends GamedayOptions {
  mode: GamedayReport['mode'];
  /** Where shoppers go: the local edge, or the Ingress controller. */
  baseUrl: string;
  /** Inventory's admin API for seeding stock, when it is not behind `baseUrl` (a cluster's Service IP). */
  inventoryUrl?: string;
  adminToken: string;
  /** The databases the verdict reads (reachable from this machine). */
  mongoUri: string;
  redisUrl: string;
  backend: ChaosBackend;
  actions: PodAction[];
  dir: string;
}

/**
 * Seed (or reuse) the catalog, run shopper load and chaos together, verify
 * against the databases, write the reports into `dir`. Both modes share it.
 */
export async function exercise(options: ExerciseOptions): Promise<GamedayReport> {
  const { log, adminToken } = options;
  const products = await loadProducts(options.baseUrl, { adminToken, seedCount: options.seedProducts, log, inventoryUrl: options.inventoryUrl });
  log(`${products.length} products (${products.filter((p) => p.limited).length} limited); load ${options.rps} ops/s and chaos for ${options.durationS} s`);

  const durationMs = options.durationS * 1000;
  const faults = [
    ...(options.redisDownMs > 0 ? [{ component: 'redis', atMs: Math.round(durationMs * 0.4), downMs: options.redisDownMs }] : []),
    ...(options.ferretdbDownMs > 0 ? [{ component: 'ferretdb', atMs: Math.round(durationMs * 0.7), downMs: options.ferretdbDownMs }] : []),
  ];
  const chaos = runChaos(options.backend, {
    actions: options.actions,
    intervalMs: options.killEveryMs,
    jitter: 0.2,
    count: 1,
    radius: { maxDown: 1 },
    optOut: { key: 'chaos.shop/opt-out', value: 'true' },
    // Leave the last few seconds for recoveries to be observed under load.
    durationMs: Math.max(0, durationMs - 8_000),
    dryRun: false,
    faults,
    recoveryTimeoutMs: 60_000,
    log,
  });
  const load = await runLoad({ baseUrl: options.baseUrl, rps: options.rps, durationMs, maxRequests: 1_000_000, maxSessions: 2000, thinkMs: options.thinkMs, mix: DEFAULT_MIX, products, categories: demoCategories.map((c) => c.slug), log, progress: options.progress });
  const chaosResult = await chaos;
  log('load and chaos done; verifying against the databases');
  const acknowledged = load.checkout.acknowledged.map((a) => a.orderId);
  const db = await verifyDatabases({ mongoUri: options.mongoUri, redisUrl: options.redisUrl, acknowledged, edgeUrl: options.inventoryUrl ?? options.baseUrl, adminToken: options.adminToken });
  const verdict = judge(
    { acknowledged, persisted: db.persisted, duplicateCharges: db.duplicateCharges, oversoldUnits: db.oversoldUnits, stockInvariantOk: db.stockInvariant.ok, successRate: load.successRate, recoveries: chaosResult.recoveries, unrecovered: chaosResult.unrecovered, requests: load.requests.total },
    options.thresholds,
  );
  const notices = [...load.notices, ...db.notices];
  if (db.stockInvariant.ok === undefined) notices.push(`inventory invariant not checked: ${db.stockInvariant.detail}`);
  const report: GamedayReport = {
    mode: options.mode,
    redis: options.redisHa ? 'sentinel' : 'single',
    startedAt: load.startedAt,
    durationS: load.durationS,
    targetRps: options.rps,
    requests: load.requests,
    latencyMs: load.latencyMs,
    checkout: { available: load.checkout.available, acknowledged: acknowledged.length, persisted: db.persisted.length, lost: verdict.lost.length, lostIds: verdict.lost, duplicateCharges: db.duplicateCharges, shipped: db.shipped, declined: load.checkout.declined, failedAfterRetries: load.checkout.failures.length, ordersByStatus: db.ordersByStatus },
    inventory: { oversoldUnits: db.oversoldUnits, oversoldSkus: db.oversoldSkus, invariantOk: db.stockInvariant.ok ?? null },
    chaos: { kills: chaosResult.kills, faults: chaosResult.events.filter((e) => e.kind === 'fault' && e.action === 'stop').length, refusals: chaosResult.refusals, events: chaosResult.events },
    recoveryS: { max: Math.round(verdict.recoveryMaxS * 10) / 10, each: chaosResult.recoveries.map((s) => Math.round(s * 10) / 10), unrecovered: chaosResult.unrecovered },
    slo: { successRate: load.successRate, target: options.thresholds.minSuccessRate, met: load.successRate >= options.thresholds.minSuccessRate },
    queues: db.queues,
    thresholds: options.thresholds,
    endpoints: load.endpoints,
    timeline: load.timeline,
    notices,
    reasons: verdict.reasons,
    verdict: verdict.verdict,
  };
  fs.writeFileSync(path.join(options.dir, 'report.json'), JSON.stringify(report, null, 2));
  fs.writeFileSync(path.join(options.dir, 'report.html'), renderHtml(report));
  fs.writeFileSync(path.join(options.dir, 'summary.txt'), `${summaryText(report)}\n`);
  return report;
}
