/**
 * `npm start`: the whole platform on this machine.
 * Dependencies (FerretDB + Redis on loopback, or MONGODB_URI / REDIS_URL),
 * every service with REPLICAS replicas (default 2), restarted when they exit,
 * and the edge proxy on http://localhost:8080 routing the Ingress's paths to
 * ready replicas. Ctrl-C stops everything.
 */
import fs from 'node:fs';
import path from 'node:path';
import { ensureStack } from './lib/stack.js';
import { startEdge } from './lib/edge.js';
import { Supervisor } from './lib/supervisor.js';
import { localServices } from './lib/services.js';
import { dataDir } from './lib/paths.js';
import { adminTokenFile, localAdminToken } from './lib/admin-token.js';

const replicas = Number(process.env.REPLICAS ?? 2);
// STACK_PORT_OFFSET moves every local port (stack, replicas, edge) so two checkouts can run side by side.
const portOffset = Number(process.env.STACK_PORT_OFFSET ?? 0);
const edgePort = Number(process.env.EDGE_PORT ?? 8080 + portOffset);
if (!Number.isInteger(replicas) || replicas < 1 || replicas > 8) {
  console.error('invalid configuration: REPLICAS must be an integer from 1 to 8');
  process.exit(1);
}
const log = (line: string) => console.log(`${new Date().toISOString().slice(11, 19)} ${line}`);
const logDir = path.join(dataDir, 'dev', 'logs');
fs.mkdirSync(logDir, { recursive: true });

log('starting dependencies');
const stack = await ensureStack({ profile: 'dev', log }).catch((error: Error) => {
  console.error(`npm start: ${error.message}`);
  process.exit(1);
});
const edgeUrl = `http://127.0.0.1:${edgePort}`;
const common: NodeJS.ProcessEnv = {
  PATH: process.env.PATH,
  NODE_ENV: process.env.NODE_ENV ?? 'development',
  LOG_LEVEL: process.env.LOG_LEVEL ?? 'info',
  MONGODB_URI: stack.mongoUri,
  REDIS_URL: stack.redisUrl,
  ...(stack.redisSentinels ? { REDIS_SENTINELS: stack.redisSentinels } : {}),
  ADMIN_TOKEN: localAdminToken(),
  // Locally nothing needs time to notice readiness except the edge (1 s polls).
  SHUTDOWN_DELAY_MS: process.env.SHUTDOWN_DELAY_MS ?? '1500',
  SHUTDOWN_TIMEOUT_MS: process.env.SHUTDOWN_TIMEOUT_MS ?? '10000',
};

const supervisor = new Supervisor(log);
for (const service of localServices) {
  const calls = Object.fromEntries(Object.keys(service.calls ?? {}).map((envVar) => [envVar, edgeUrl]));
  for (let index = 0; index < replicas; index += 1) {
    supervisor.start({ service: service.name, index, port: service.basePort + portOffset + index, env: { ...common, ...calls }, logFile: path.join(logDir, `${service.name}-${index}.log`) });
  }
}
fs.writeFileSync(path.join(dataDir, 'dev', 'replicas.json'), JSON.stringify(supervisor.pids(), null, 2));

const edge = await startEdge({
  port: edgePort,
  routes: localServices.map((s) => ({ service: s.name, prefixes: s.prefixes, upstreams: Array.from({ length: replicas }, (_, i) => `http://127.0.0.1:${s.basePort + portOffset + i}`) })),
  log,
});

// Wait (bounded) for every service to have a ready replica, then say where things are.
const deadline = Date.now() + 60_000;
while (Date.now() < deadline && Object.values(edge.status()).some((s) => s.healthy === 0)) await new Promise((r) => setTimeout(r, 250));
const status = edge.status();
console.log(`
  edge (Ingress stand-in)  ${edgeUrl}
${localServices.map((s) => `  ${s.name.padEnd(10)} ${s.prefixes.join(', ').padEnd(16)} replicas on ${Array.from({ length: replicas }, (_, i) => s.basePort + portOffset + i).join(', ')}  ready ${status[s.name]?.healthy}/${replicas}`).join('\n')}
  MongoDB-compatible       ${stack.mongoUri}
  Redis                    ${stack.redisUrl}
  admin token              ${process.env.ADMIN_TOKEN ? '$ADMIN_TOKEN' : path.relative(process.cwd(), adminTokenFile)}
  logs                     ${path.relative(process.cwd(), logDir)}/<service>-<n>.log
  try                      curl ${edgeUrl}/api/catalog/products?limit=3   (empty? run: npm run seed)
  Ctrl-C stops everything.
`);
for (const [name, s] of Object.entries(status)) if (s.healthy === 0) log(`WARNING: no ready replica of ${name} after 60 s; see ${logDir}/${name}-0.log`);

let stopping = false;
async function shutdown(signal: string): Promise<void> {
  if (stopping) return;
  stopping = true;
  log(`${signal}: stopping replicas, edge and dependencies`);
  await supervisor.stop(Number(common.SHUTDOWN_DELAY_MS) + Number(common.SHUTDOWN_TIMEOUT_MS) + 2_000);
  await edge.close();
  await stack.stop();
  log('stopped; nothing left running');
  process.exit(0);
}
process.once('SIGINT', () => void shutdown('SIGINT'));
process.once('SIGTERM', () => void shutdown('SIGTERM'));
