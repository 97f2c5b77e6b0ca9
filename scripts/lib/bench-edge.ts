/**
 * Edge-protection benchmarks (issue 12), run by `npm run bench`:
 *
 * - edge.flood: shoppers (browser user-agent, many addresses) read products at a
 *   fixed rate, first alone, then alongside a flood several times their rate
 *   (scanner, headless and empty user-agents, and one scraper address past its
 *   budget). p99 of shoppers with and without the flood; share of the flood
 *   answered 403/429.
 * - edge.cost: the same product read on a catalog with the limiter and
 *   classifier on vs off (EDGE_PROTECTION), alternating rounds, medians.
 *
 * Both lines also give the server's CPU time per request (user + system, from
 * /proc): steadier than rates and latencies on a shared machine.
 *
 * Loopback is exempt by default (local tools), so both catalogs run with
 * EDGE_EXEMPT_CIDRS empty and X-Forwarded-For from loopback standing for the
 * client address (loopback is a trusted proxy by default).
 */
import type { ChildProcess } from 'node:child_process';
import autocannon from 'autocannon';
import { cpuSeconds } from './procs.js';

export interface BenchEdgeOptions {
  startService(service: string, port: number, env: NodeJS.ProcessEnv): Promise<{ url: string; child: ChildProcess }>;
  env: NodeJS.ProcessEnv;
  /** Path of a product to read, e.g. /api/catalog/products/<id>. */
  productPath: string;
  basePort: number;
  rounds: number;
  durationS: number;
  connections: number;
}

/** A desktop browser's user-agent (human class at the edge). */
export const BROWSER = 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0 Safari/537.36';
const FLOOD_AGENTS = ['sqlmap/1.7.2#stable', 'Mozilla/5.0 zgrab/0.x', '', 'Mozilla/5.0 HeadlessChrome/120.0', 'masscan/1.3', BROWSER];
/**
 * The scraper's address, new for each run: the bench stack's Redis keeps its keys
 * (AOF), and a window left from a run less than a minute earlier would end in the
 * middle of this one's flood and let the scraper through again.
 */
const SCRAPER_IP = `203.0.113.${1 + (Math.floor(Date.now() / 1000) % 250)}`;
const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] ?? 0;

/** 198.18.x.y addresses (benchmark range, RFC 2544), `count` of them. */
export const addresses = (count: number) => Array.from({ length: count }, (_, i) => `198.18.${Math.floor(i / 250)}.${(i % 250) + 1}`);

function shoppers(url: string, productPath: string, durationS: number, rate: number) {
  const pool = addresses(500);
  let next = 0;
  return autocannon({
    url,
    connections: 8,
    duration: durationS,
    overallRate: rate,
    requests: [{ method: 'GET', path: productPath, setupRequest: (request) => ({ ...request, headers: { ...request.headers, 'user-agent': BROWSER, 'x-forwarded-for': pool[next++ % pool.length]! } }) }],
  });
}

function flood(url: string, productPath: string, durationS: number, rate: number) {
  let next = 0;
  const statuses: Record<string, number> = {};
  const run = autocannon({
    url,
    connections: 16,
    duration: durationS,
    overallRate: rate,
    requests: [
      {
        method: 'GET',
        path: productPath,
        setupRequest: (request) => {
          const ua = FLOOD_AGENTS[next++ % FLOOD_AGENTS.length]!;
          // The browser-looking share of the flood all comes from one scraper address.
          return { ...request, headers: { ...request.headers, 'user-agent': ua, 'x-forwarded-for': ua === BROWSER ? SCRAPER_IP : `198.51.100.${(next % 200) + 1}` } };
        },
      },
    ],
  });
  (run as unknown as NodeJS.EventEmitter).on('response', (_client: unknown, statusCode: number) => {
    statuses[statusCode] = (statuses[statusCode] ?? 0) + 1;
  });
  return { run, statuses };
}

export async function benchEdge(options: BenchEdgeOptions): Promise<Array<Record<string, unknown>>> {
  const common = { ...options.env, EDGE_EXEMPT_CIDRS: '', EDGE_TRUSTED_PROXIES: '127.0.0.0/8', LOG_LEVEL: 'info' };
  // Shoppers stay far below their budget; the scraper's 120/min is used up by the warm-up.
  const on = await options.startService('catalog', options.basePort, { ...common, EDGE_PROTECTION: 'on', EDGE_LIMIT_BROWSE: '120/60' });
  const off = await options.startService('catalog', options.basePort + 1, { ...common, EDGE_PROTECTION: 'off' });
  for (const url of [on.url, off.url]) await autocannon({ url: `${url}${options.productPath}`, connections: 4, amount: 500, headers: { 'user-agent': BROWSER, 'x-forwarded-for': '198.18.9.9' } });
  await autocannon({ url: `${on.url}${options.productPath}`, connections: 4, amount: 200, headers: { 'user-agent': BROWSER, 'x-forwarded-for': SCRAPER_IP } });

  const shopperRate = Number(process.env.BENCH_EDGE_SHOPPER_RPS ?? 200);
  const floodRate = Number(process.env.BENCH_EDGE_FLOOD_RPS ?? shopperRate * 5);
  const cpu0 = cpuSeconds(on.child.pid);
  const alone = await shoppers(on.url, options.productPath, options.durationS, shopperRate);
  const cpu1 = cpuSeconds(on.child.pid);
  const floodRun = flood(on.url, options.productPath, options.durationS, floodRate);
  const [together, floodResult] = await Promise.all([shoppers(on.url, options.productPath, options.durationS, shopperRate), floodRun.run]);
  const cpu2 = cpuSeconds(on.child.pid);
  const usPer = (from: number | undefined, to: number | undefined, requests: number) => (from === undefined || to === undefined ? undefined : Math.round(((to - from) * 1e6) / Math.max(1, requests)));
  const floodTotal = Object.values(floodRun.statuses).reduce((sum, n) => sum + n, 0);
  const floodBlocked = (floodRun.statuses['403'] ?? 0) + (floodRun.statuses['429'] ?? 0);
  const floodLine = {
    bench: 'edge.flood',
    shopperRps: Math.round(together.requests.average),
    shopperP99Ms: alone.latency.p99,
    shopperP99MsFlood: together.latency.p99,
    ratio: Number((together.latency.p99 / Math.max(1, alone.latency.p99)).toFixed(3)),
    target: 1.5,
    shopperErrors: { alone: alone.non2xx + alone.errors, flood: together.non2xx + together.errors },
    floodRps: Math.round(floodResult.requests.average),
    floodBlocked: Number((floodBlocked / Math.max(1, floodTotal)).toFixed(4)),
    floodByStatus: floodRun.statuses,
    /** Server CPU per request: shoppers alone, then shoppers and flood together. */
    serverCpuUsPerRequest: { alone: usPer(cpu0, cpu1, alone.requests.total), flood: usPer(cpu1, cpu2, together.requests.total + floodResult.requests.total) },
  };
  console.log(`edge.flood: shopper p99 ${floodLine.shopperP99Ms} ms alone, ${floodLine.shopperP99MsFlood} ms under a ${floodLine.floodRps} rps flood (ratio ${floodLine.ratio}, target <= 1.5); flood blocked or limited: ${floodLine.floodBlocked * 100}%`);

  const headers = { 'user-agent': BROWSER };
  const pool = addresses(5000);
  const samples = { on: [] as number[], off: [] as number[] };
  const cpuSamples = { on: [] as number[], off: [] as number[] };
  let onNon2xx = 0;
  for (let round = 1; round <= options.rounds; round += 1) {
    for (const [name, target] of [['off', off], ['on', on]] as const) {
      let next = 0;
      const cpuBefore = cpuSeconds(target.child.pid);
      const result = await autocannon({
        url: target.url,
        connections: options.connections,
        duration: options.durationS,
        requests: [{ method: 'GET', path: options.productPath, setupRequest: (request) => ({ ...request, headers: { ...request.headers, ...headers, 'x-forwarded-for': pool[next++ % pool.length]! } }) }],
      });
      samples[name].push(result.requests.average);
      const used = usPer(cpuBefore, cpuSeconds(target.child.pid), result.requests.total);
      if (used !== undefined) cpuSamples[name].push(used);
      if (name === 'on') onNon2xx += result.non2xx + result.errors;
    }
    console.log(`edge.cost round ${round}/${options.rounds}: protection off ${Math.round(samples.off.at(-1)!)} rps | on ${Math.round(samples.on.at(-1)!)} rps`);
  }
  const costLine = { bench: 'edge.cost', connections: options.connections, durationS: options.durationS, rounds: options.rounds, clients: pool.length, onRps: Math.round(median(samples.on)), offRps: Math.round(median(samples.off)), ratio: Number((median(samples.on) / median(samples.off)).toFixed(3)), target: 0.9, onNon2xx, serverCpuUsPerRequest: { on: median(cpuSamples.on), off: median(cpuSamples.off) } };
  console.log(`edge.cost: catalog product read with limiter+classifier ${costLine.onRps} rps vs off ${costLine.offRps} rps: ratio ${costLine.ratio} (target >= 0.9)`);
  return [floodLine, costLine];
}
