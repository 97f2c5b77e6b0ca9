/**
 * `npm start`: the whole platform on this machine (scripts/lib/platform.ts).
 * Dependencies (FerretDB + Redis on loopback, or MONGODB_URI / REDIS_URL),
 * every service with REPLICAS replicas (default 2), restarted when they exit,
 * and the edge proxy on http://localhost:8080 routing the Ingress's paths to
 * ready replicas. Ctrl-C stops everything: replicas drain first, databases last.
 * `.data/dev/replicas.json` lists current pids; `.data/dev/control.json` names
 * the loopback control port that `npm run chaos` uses (docs/gameday.md).
 */
import path from 'node:path';
import { startPlatform } from './lib/platform.js';
import { localServices } from './lib/services.js';
import { adminTokenFile } from './lib/admin-token.js';

const replicas = Number(process.env.REPLICAS ?? 2);
// STACK_PORT_OFFSET moves every local port (stack, replicas, edge) so two checkouts can run side by side.
const portOffset = Number(process.env.STACK_PORT_OFFSET ?? 0);
const edgePort = Number(process.env.EDGE_PORT ?? 8080 + portOffset);
if (!Number.isInteger(replicas) || replicas < 1 || replicas > 8) {
  console.error('invalid configuration: REPLICAS must be an integer from 1 to 8');
  process.exit(1);
}
const log = (line: string) => console.log(`${new Date().toISOString().slice(11, 19)} ${line}`);

const platform = await startPlatform({ replicas, portOffset, edgePort, dataTier: 'shared', control: true, log }).catch((error: Error) => {
  console.error(`npm start: ${error.message}`);
  process.exit(1);
});
const status = platform.edge.status();
console.log(`
  edge (Ingress stand-in)  ${platform.edgeUrl}
${localServices.map((s) => `  ${s.name.padEnd(10)} ${s.prefixes.join(', ').padEnd(16)} replicas on ${Array.from({ length: replicas }, (_, i) => s.basePort + portOffset + i).join(', ')}  ready ${status[s.name]?.healthy}/${replicas}`).join('\n')}
  MongoDB-compatible       ${platform.mongoUri}
  Redis                    ${platform.redisUrl}
  admin token              ${process.env.ADMIN_TOKEN ? '$ADMIN_TOKEN' : path.relative(process.cwd(), adminTokenFile)}
  logs                     ${path.relative(process.cwd(), platform.logDir)}/<service>-<n>.log
  chaos control            ${platform.control?.url} (npm run chaos -- --help)
  try                      curl ${platform.edgeUrl}/api/catalog/products?limit=3   (empty? run: npm run seed)
  Ctrl-C stops everything.
`);
for (const [name, s] of Object.entries(status)) if (s.healthy === 0) log(`WARNING: no ready replica of ${name} after 60 s; see ${platform.logDir}/${name}-0.log`);

let stopping = false;
async function shutdown(signal: string): Promise<void> {
  if (stopping) return;
  stopping = true;
  log(`${signal}: draining replicas, then edge, then dependencies`);
  await platform.stop();
  log('stopped; nothing left running');
  process.exit(0);
}
process.once('SIGINT', () => void shutdown('SIGINT'));
process.once('SIGTERM', () => void shutdown('SIGTERM'));
