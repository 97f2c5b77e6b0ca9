/**
 * `npm run gameday -- --duration 60`: the platform under shopper load and chaos,
 * then a verdict from the databases. Exit code 0 = pass, 1 = fail, 2 = could not run.
 */
import fs from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { DEFAULT_THRESHOLDS, type Thresholds } from './lib/gameday/verdict.js';
import { runGameday } from './lib/gameday/run.js';
import { runKubeGameday } from './lib/gameday/kube.js';
import { summaryText } from './lib/gameday/report.js';
import { parseDuration } from './lib/chaos/plan.js';

const HELP = `npm run gameday -- [options]

Starts the platform (own data tier in .data/gameday, fresh database), runs shopper load
and chaos together, verifies against the databases, writes
reports/gameday/<timestamp>/{report.json,report.html} and prints a summary.

  --duration 60          seconds of load and chaos (max 3600)
  --rps 15               target operations per second
  --replicas 2           replicas per service
  --port-offset N        shifts every port (default STACK_PORT_OFFSET or 0)
  --kill-every 5s        a replica SIGTERMed or SIGKILLed this often (blast radius: 1 per service)
  --redis-down 3s        stop Redis once at 40 % of the run for this long (0 = never)
  --ferretdb-down 0      stop FerretDB once at 70 % of the run for this long (0 = never)
  --kubernetes           against a cluster (current kubeconfig) instead of local replicas;
                         needs --base-url, --mongo-uri, --redis-url, --admin-token-file
                         (npm run cluster -- gameday fills them in for the local cluster)
    --base-url URL       the Ingress controller's address
    --inventory-url URL  inventory's Service address (for seeding stock; not behind the Ingress)
    --namespace shop-dev --selector app.kubernetes.io/part-of=shop   pods chaos may act on
    --data-namespace NS  data-tier faults delete pods labelled app=redis / app=ferretdb there
  --redis-ha             Redis as in prod: primary, replica, 3 sentinels; the Redis fault
                         then SIGKILLs the primary (Sentinel fails over), restarted as replica
  --think 300ms          mean shopper think time
  --seed-products 300    demo products seeded into the fresh database
  --out DIR              report root (default reports/gameday)
 verdict (defaults from the issue; the report records the ones used):
  --slo 0.999            minimum success rate as the storefront's retry policy sees it
  --max-recovery 30      seconds for a killed replica to be ready again
  --max-lost 0  --max-duplicate-charges 0  --max-oversold 0
  -h, --help`;

function num(text: string, what: string, min: number, max: number): number {
  const value = Number(text);
  if (!(value >= min && value <= max)) throw new Error(`${what} must be a number from ${min} to ${max}`);
  return value;
}

async function main(): Promise<number> {
  const { values } = parseArgs({
    args: process.argv.slice(2),
    options: {
      duration: { type: 'string', default: '60' },
      rps: { type: 'string', default: '15' },
      replicas: { type: 'string', default: '2' },
      'port-offset': { type: 'string', default: process.env.STACK_PORT_OFFSET ?? '0' },
      'kill-every': { type: 'string', default: '5s' },
      'redis-down': { type: 'string', default: '3s' },
      'ferretdb-down': { type: 'string', default: '0' },
      'redis-ha': { type: 'boolean', default: false },
      kubernetes: { type: 'boolean', default: false },
      'base-url': { type: 'string' },
      'inventory-url': { type: 'string' },
      namespace: { type: 'string', default: 'shop-dev' },
      selector: { type: 'string', default: 'app.kubernetes.io/part-of=shop' },
      'data-namespace': { type: 'string' },
      'mongo-uri': { type: 'string' },
      'redis-url': { type: 'string' },
      'admin-token-file': { type: 'string' },
      think: { type: 'string', default: '300ms' },
      'seed-products': { type: 'string', default: '300' },
      out: { type: 'string' },
      slo: { type: 'string', default: String(DEFAULT_THRESHOLDS.minSuccessRate) },
      'max-recovery': { type: 'string', default: String(DEFAULT_THRESHOLDS.maxRecoveryS) },
      'max-lost': { type: 'string', default: String(DEFAULT_THRESHOLDS.maxLost) },
      'max-duplicate-charges': { type: 'string', default: String(DEFAULT_THRESHOLDS.maxDuplicateCharges) },
      'max-oversold': { type: 'string', default: String(DEFAULT_THRESHOLDS.maxOversoldUnits) },
      help: { type: 'boolean', short: 'h', default: false },
    },
    strict: true,
  });
  if (values.help) {
    console.log(HELP);
    return 0;
  }
  const thresholds: Thresholds = {
    minSuccessRate: num(values.slo, '--slo', 0, 1),
    maxRecoveryS: num(values['max-recovery'], '--max-recovery', 0, 3600),
    maxLost: num(values['max-lost'], '--max-lost', 0, 1e9),
    maxDuplicateCharges: num(values['max-duplicate-charges'], '--max-duplicate-charges', 0, 1e9),
    maxOversoldUnits: num(values['max-oversold'], '--max-oversold', 0, 1e9),
  };
  const offset = num(values['port-offset'], '--port-offset', 0, 1000);
  if (!Number.isInteger(offset)) throw new Error('--port-offset must be an integer');
  const log = (line: string) => console.log(`${new Date().toISOString().slice(11, 19)} ${line}`);
  const tty = process.stdout.isTTY;
  let lastPrinted = 0;
  const common = {
    durationS: num(values.duration, '--duration', 1, 3600),
    rps: num(values.rps, '--rps', 0.1, 10_000),
    replicas: num(values.replicas, '--replicas', 1, 8),
    portOffset: offset,
    killEveryMs: parseDuration(values['kill-every'], '--kill-every'),
    redisDownMs: parseDuration(values['redis-down'], '--redis-down'),
    ferretdbDownMs: parseDuration(values['ferretdb-down'], '--ferretdb-down'),
    redisHa: values['redis-ha'],
    thinkMs: parseDuration(values.think, '--think'),
    seedProducts: num(values['seed-products'], '--seed-products', 1, 10_000),
    thresholds,
    outRoot: values.out,
    log,
    progress: (line: string) => {
      if (tty) process.stdout.write(`\r\x1b[2K${line}`);
      else if (Date.now() - lastPrinted >= 10_000) {
        lastPrinted = Date.now();
        log(line);
      }
    },
  };
  let result: Awaited<ReturnType<typeof runGameday>>;
  if (values.kubernetes) {
    const need = (name: 'base-url' | 'mongo-uri' | 'redis-url' | 'admin-token-file') => {
      const value = values[name];
      if (!value) throw new Error(`--kubernetes needs --${name}`);
      return value;
    };
    result = await runKubeGameday({
      ...common,
      baseUrl: need('base-url'),
      inventoryUrl: values['inventory-url'],
      mongoUri: need('mongo-uri'),
      redisUrl: need('redis-url'),
      adminToken: fs.readFileSync(need('admin-token-file'), 'utf8').trim(),
      namespace: values.namespace,
      selector: values.selector,
      dataNamespace: values['data-namespace'],
    });
  } else result = await runGameday(common);
  const { report, dir } = result;
  if (tty) process.stdout.write('\n');
  console.log(`\n${summaryText(report)}\n  report: ${path.relative(process.cwd(), path.join(dir, 'report.html'))} (and report.json)`);
  return report.verdict === 'pass' ? 0 : 1;
}

main().then(
  (code) => process.exit(code),
  (error: Error) => {
    console.error(`gameday could not run: ${error.message}`);
    process.exit(2);
  },
);
