/**
 * The local platform as one reusable piece: data tier (PostgreSQL, FerretDB,
 * Redis), every service's replicas under a supervisor, and the edge proxy.
 * `npm start` and `npm run gameday` both start it through `startPlatform()`.
 * The data tier can be faulted (stopped for a while, then started again) for
 * chaos; `npm start` exposes that and the replicas on a loopback control port.
 */
import fs from 'node:fs';
import path from 'node:path';
import { ensureStack, postgresUrl, stackPorts, startFerretdb, startPostgres, startRedis, type Stack } from './stack.js';
import type { Managed } from './procs.js';
import { startEdge, type Edge } from './edge.js';
import { Supervisor, type ReplicaInfo } from './supervisor.js';
import { localServices } from './services.js';
import { dataDir } from './paths.js';
import { localSecretsEnv } from './admin-token.js';
import { startControlServer, type ControlServer } from './chaos/control.js';
import { startRedisHa, type RedisHa } from './redis-ha.js';

export const DATA_COMPONENTS = ['redis', 'postgres', 'ferretdb'] as const;
export type DataComponent = (typeof DATA_COMPONENTS)[number];

export interface PlatformOptions {
  replicas: number;
  /** Shifts data-tier, replica and edge ports (STACK_PORT_OFFSET). */
  portOffset: number;
  /** Default 8080 + portOffset. */
  edgePort?: number;
  /**
   * `shared`: the dev profile's stack (reused when already running, or MONGODB_URI/REDIS_URL).
   * `own`: a private data tier in `.data/<ownDir>` on the dev ports shifted by portOffset, always started here.
   */
  dataTier: 'shared' | 'own';
  ownDir?: string;
  /**
   * With `own`: Redis as in prod, a primary, a replica and three sentinels
   * (scripts/lib/redis-ha.ts); a `redis` fault then SIGKILLs the current primary
   * and the sentinels fail over.
   */
  redisHa?: boolean;
  /** Database name in MONGODB_URI (default: the stack's). */
  dbName?: string;
  /** Where replica logs, replicas.json and control.json go (default .data/dev). */
  stateDir?: string;
  /** Start the loopback control server and write control.json (npm start). */
  control?: boolean;
  env?: NodeJS.ProcessEnv;
  /** Runs once the data tier is up, before any replica starts (the gameday empties its Redis here). */
  beforeReplicas?: (urls: { mongoUri: string; redisUrl: string }) => Promise<void>;
  log: (line: string) => void;
}

export interface ReplicaView extends ReplicaInfo {
  /** Ready in the edge's view (its /readyz polls). */
  ready: boolean;
}

export interface Platform {
  edgeUrl: string;
  mongoUri: string;
  redisUrl: string;
  edge: Edge;
  supervisor: Supervisor;
  logDir: string;
  replicasFile: string;
  control?: ControlServer;
  /** Replicas with pid and readiness as the edge sees it. */
  replicas(): ReplicaView[];
  /** Data-tier components this platform started (and so can fault). */
  faultable(): DataComponent[];
  /** Stops a data-tier component, waits `downMs`, starts it again; resolves when it listens. */
  fault(component: DataComponent, downMs: number): Promise<void>;
  /** Replicas drain first, then the edge, then the data tier (FerretDB before PostgreSQL). */
  stop(): Promise<void>;
}

function withDb(uri: string, dbName: string | undefined): string {
  if (!dbName) return uri;
  const url = new URL(uri);
  url.pathname = `/${dbName}`;
  return url.toString();
}

/** Starts what `own` asks for: a private PostgreSQL + FerretDB + Redis (or a Redis HA group). */
async function ownStack(base: string, log: (line: string) => void, redisHa: boolean): Promise<Stack & { ha?: RedisHa }> {
  const { mongoPort, redisPort, postgresPort } = stackPorts('dev');
  fs.mkdirSync(base, { recursive: true });
  const managed: Managed[] = [];
  let ha: RedisHa | undefined;
  try {
    log(`data tier in ${path.relative(process.cwd(), base)}: PostgreSQL :${postgresPort}, FerretDB :${mongoPort}, Redis :${redisPort}${redisHa ? ' (primary, replica :' + (redisPort + 1) + ', 3 sentinels)' : ''}`);
    managed.push(await startPostgres(postgresPort, path.join(base, 'postgres'), path.join(base, 'postgres.log'), { fsync: false }));
    managed.push(await startFerretdb(mongoPort, postgresUrl(postgresPort), path.join(base, 'ferretdb'), path.join(base, 'ferretdb.log')));
    // The HA group is kept apart from `managed`: a fault replaces its members.
    if (redisHa) ha = await startRedisHa(redisPort, path.join(base, 'redis-ha'));
    else managed.push(await startRedis(redisPort, path.join(base, 'redis'), path.join(base, 'redis.log')));
  } catch (error) {
    await ha?.stop();
    for (const proc of managed.reverse()) await proc.stop();
    throw error;
  }
  return {
    mongoUri: `mongodb://127.0.0.1:${mongoPort}/shop`,
    redisUrl: `redis://127.0.0.1:${redisPort}`,
    ...(ha ? { redisSentinels: ha.sentinels, ha } : {}),
    postgresUrl: postgresUrl(postgresPort),
    managed,
    async stop() {
      await ha?.stop();
      for (const proc of [...managed].reverse()) await proc.stop();
    },
  };
}

/** How to start a data-tier component again, with the same ports and folders as the stack used. */
function restarter(component: DataComponent, base: string, profileFsync: boolean): () => Promise<Managed> {
  const { mongoPort, redisPort, postgresPort } = stackPorts('dev');
  if (component === 'redis') return () => startRedis(redisPort, path.join(base, 'redis'), path.join(base, 'redis.log'));
  if (component === 'postgres') return () => startPostgres(postgresPort, path.join(base, 'postgres'), path.join(base, 'postgres.log'), { fsync: profileFsync });
  return () => startFerretdb(mongoPort, postgresUrl(postgresPort), path.join(base, 'ferretdb'), path.join(base, 'ferretdb.log'));
}

/**
 * Starts data tier, replicas and edge; waits (bounded, 60 s) until every
 * service has a ready replica. Throws when the data tier cannot start.
 */
export async function startPlatform(options: PlatformOptions): Promise<Platform> {
  const { log, replicas: count, portOffset } = options;
  // stackPorts() reads STACK_PORT_OFFSET; set it so every port moves together.
  process.env.STACK_PORT_OFFSET = String(portOffset);
  const edgePort = options.edgePort ?? 8080 + portOffset;
  const stateDir = options.stateDir ?? path.join(dataDir, 'dev');
  const logDir = path.join(stateDir, 'logs');
  fs.mkdirSync(logDir, { recursive: true });
  const base = options.dataTier === 'own' ? path.join(dataDir, options.ownDir ?? 'gameday') : path.join(dataDir, 'dev');
  log('starting dependencies');
  const stack: Stack & { ha?: RedisHa } = options.dataTier === 'own' ? await ownStack(base, log, options.redisHa === true) : await ensureStack({ profile: 'dev', log });
  const mongoUri = withDb(stack.mongoUri, options.dbName);
  try {
    await options.beforeReplicas?.({ mongoUri, redisUrl: stack.redisUrl });
  } catch (error) {
    await stack.stop();
    throw error;
  }
  const edgeUrl = `http://127.0.0.1:${edgePort}`;
  const common: NodeJS.ProcessEnv = {
    PATH: process.env.PATH,
    NODE_ENV: process.env.NODE_ENV ?? 'development',
    LOG_LEVEL: process.env.LOG_LEVEL ?? 'info',
    MONGODB_URI: mongoUri,
    REDIS_URL: stack.redisUrl,
    ...(stack.redisSentinels ? { REDIS_SENTINELS: stack.redisSentinels } : {}),
    ...localSecretsEnv(),
    // Locally nothing needs time to notice readiness except the edge (1 s polls).
    SHUTDOWN_DELAY_MS: process.env.SHUTDOWN_DELAY_MS ?? '1500',
    SHUTDOWN_TIMEOUT_MS: process.env.SHUTDOWN_TIMEOUT_MS ?? '10000',
    // Synced rate limits split their allowed overshoot between this many replicas (docs/edge-protection.md).
    EDGE_LIMIT_REPLICAS: String(count),
    ...options.env,
  };

  const replicasFile = path.join(stateDir, 'replicas.json');
  const supervisor = new Supervisor(log, (list) => fs.writeFileSync(replicasFile, JSON.stringify(list, null, 2)));
  for (const service of localServices) {
    const calls = Object.fromEntries(Object.keys(service.calls ?? {}).map((envVar) => [envVar, edgeUrl]));
    for (let index = 0; index < count; index += 1) {
      supervisor.start({ service: service.name, index, port: service.basePort + portOffset + index, env: { ...common, ...calls }, logFile: path.join(logDir, `${service.name}-${index}.log`) });
    }
  }
  const edge = await startEdge({
    port: edgePort,
    routes: localServices.map((s) => ({ service: s.name, prefixes: s.prefixes, upstreams: Array.from({ length: count }, (_, i) => `http://127.0.0.1:${s.basePort + portOffset + i}`) })),
    log,
  });
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline && Object.values(edge.status()).some((s) => s.healthy === 0)) await new Promise((r) => setTimeout(r, 250));

  const faulting = new Set<DataComponent>();
  const platform: Platform = {
    edgeUrl,
    mongoUri,
    redisUrl: stack.redisUrl,
    edge,
    supervisor,
    logDir,
    replicasFile,
    replicas() {
      // Ready only when a probe sent after this process started said so (not a stale answer of its predecessor).
      const view = new Map(edge.readiness().map((r) => [r.target, r]));
      return supervisor.pids().map((r) => {
        const seen = view.get(`http://127.0.0.1:${r.port}`);
        return { ...r, ready: r.pid !== undefined && seen?.ready === true && seen.checkedAt >= Date.parse(r.startedAt) };
      });
    },
    faultable() {
      if (stack.ha) return ['redis', ...stack.managed.map((m) => m.name).filter((n): n is DataComponent => n === 'postgres' || n === 'ferretdb')];
      return stack.managed.map((m) => m.name).filter((n): n is DataComponent => (DATA_COMPONENTS as readonly string[]).includes(n));
    },
    async fault(component, downMs) {
      if (component === 'redis' && stack.ha) {
        if (faulting.has(component)) throw new Error('redis is already down for a fault');
        faulting.add(component);
        try {
          const { killedPort, primaryPort } = await stack.ha.killPrimary(downMs);
          log(`redis primary :${killedPort} SIGKILLed; after ${downMs} ms the sentinels name :${primaryPort}; :${killedPort} restarted${primaryPort === killedPort ? '' : ' as its replica'}`);
        } finally {
          faulting.delete(component);
        }
        return;
      }
      const index = stack.managed.findIndex((m) => m.name === component);
      if (index < 0) throw new Error(`${component} was not started by this platform (reused or external), so it cannot be faulted`);
      if (faulting.has(component)) throw new Error(`${component} is already down for a fault`);
      faulting.add(component);
      try {
        await stack.managed[index]!.stop();
        await new Promise((r) => setTimeout(r, downMs));
        stack.managed[index] = await restarter(component, base, options.dataTier === 'shared')();
      } finally {
        faulting.delete(component);
      }
    },
    async stop() {
      await platform.control?.close();
      await supervisor.stop(Number(common.SHUTDOWN_DELAY_MS) + Number(common.SHUTDOWN_TIMEOUT_MS) + 2_000);
      await edge.close();
      await stack.stop();
    },
  };
  if (options.control) platform.control = await startControlServer(platform, path.join(stateDir, 'control.json'));
  return platform;
}
