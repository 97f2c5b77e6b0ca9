/**
 * Paced, open-loop HTTP load for latency benchmarks (`edge.flood`).
 *
 * Why not autocannon's `overallRate` (autocannon 8): with a rate, each connection
 * sends back-to-back until its share of the second is used, then waits for its own
 * 1 s `setInterval` to reset the quota (lib/httpClient.js, `_doRequest` and
 * `rateInterval`). Every connection starts its interval at the same moment, so the
 * load arrives as one burst at the start of each second, and two generators
 * started together burst together: shoppers queue behind the flood's burst. And
 * with a rate it records each latency with
 * `recordValueWithExpectedInterval(latency, Math.ceil(1 / rate))` (lib/run.js), an
 * expected interval of 1 ms: a 30 ms answer adds 29 synthetic samples (29, 28, ...
 * 1 ms), which weighs the percentiles towards slow answers. Neither is how
 * shoppers or a flood arrive from the internet.
 *
 * Here request i is due at `start + i / rate`. A short timer sends every request
 * whose time has come (it catches up after a late wake-up, so 1,000/s needs no
 * exact 1 ms timers) over a bounded pool of keep-alive connections (undici
 * `Pool`). A request's latency runs from its *due* time to the end of its body,
 * not from when it was written: a stalled server, a full pool or a late generator
 * all show in the figures (no coordinated omission); `sendLagMs` says how late the
 * generator itself wrote them.
 *
 * `warmupS` seconds of the same load go first and are not recorded: in a new
 * process the first second is cold (JIT, connections) and its generator falls
 * behind by hundreds of ms on this 2-core host.
 *
 * Bounds: at most `maxInFlight` requests outstanding (a due request waits for a
 * slot, its clock running); each gives up after `timeoutMs` (headers or body);
 * the run ends at the latest `timeoutMs` after the last due time, and what is
 * still unsent or in flight then is counted (`unsent`, `timeouts`). Traffic goes
 * to 127.0.0.1 only.
 *
 * Another process: `node --import tsx scripts/lib/paced.ts` reads the options as
 * one JSON line on stdin, answers `ready`, then reads the start time (epoch ms) as
 * a second line and prints the result as one JSON line. `pacedChild` does that.
 *
 * PACED_TRACE=<path prefix> writes each measured answer (ms since the start, latency,
 * send lag, status) to <prefix>-<pid>-<time>.txt: where in the run the tail came from.
 */
import { spawn } from 'node:child_process';
import { performance } from 'node:perf_hooks';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { Pool } from 'undici';
import { repoRoot } from './paths.js';

export interface PacedRequest {
  path: string;
  headers: Record<string, string>;
}

export interface PacedOptions {
  /** e.g. http://127.0.0.1:9560 */
  origin: string;
  /** Sent in turn, request i is requests[i % length] (GET). */
  requests: PacedRequest[];
  /** Requests per second, evenly spaced. */
  rate: number;
  durationS: number;
  /** Keep-alive connections (undici Pool, no pipelining). */
  connections: number;
  maxInFlight: number;
  timeoutMs: number;
  /**
   * Seconds at the same rate before the measured `durationS`, sent but not
   * recorded: a new process's first second runs cold (JIT, first connections).
   */
  warmupS?: number;
  /** Epoch ms of the first request, warm-up included (to line up two generators); now when absent. */
  startAt?: number;
  /** Return every measured latency too (`latencies`), to pool several runs' percentiles. */
  keepLatencies?: boolean;
}

export interface PacedResult {
  generator: 'paced';
  rate: number;
  durationS: number;
  /** Measured requests (warm-up excluded), and how many of them were sent. */
  planned: number;
  sent: number;
  /** Answers per second of the schedule. */
  rps: number;
  statuses: Record<string, number>;
  errors: number;
  timeouts: number;
  unsent: number;
  /** Every answer (any status), from its due time to the end of its body. */
  latencyMs: { p50: number; p90: number; p99: number; max: number };
  /** How late the generator wrote requests after their due time. */
  sendLagMs: { p50: number; p99: number; max: number };
  /** CPU of the whole process running the generator during the measured part. */
  processCpuMs: number;
  /** Every measured latency, sorted (ms), with `keepLatencies`. */
  latencies?: number[];
}

/** Nearest-rank percentile of sorted values, 0.01 ms resolution. */
const percentile = (sorted: number[], p: number) => (sorted.length === 0 ? 0 : Math.round(sorted[Math.min(sorted.length - 1, Math.ceil(p * sorted.length) - 1)]! * 100) / 100);
const TRACE = process.env.PACED_TRACE;
const TIMEOUT_CODES = new Set(['UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT', 'UND_ERR_CONNECT_TIMEOUT']);

export async function paced(options: PacedOptions): Promise<PacedResult> {
  if (new URL(options.origin).hostname !== '127.0.0.1') throw new Error(`paced load goes to 127.0.0.1 only, not ${options.origin}`);
  if (!(options.rate > 0) || !(options.durationS > 0) || options.requests.length === 0) throw new Error('paced load needs a rate and a duration > 0 and at least one request');
  const pool = new Pool(options.origin, { connections: options.connections, pipelining: 1, headersTimeout: options.timeoutMs, bodyTimeout: options.timeoutMs, connectTimeout: options.timeoutMs });
  const intervalMs = 1000 / options.rate;
  const warmup = Math.floor((options.warmupS ?? 0) * options.rate);
  const planned = Math.floor(options.durationS * options.rate);
  const total = warmup + planned;
  const startAt = options.startAt ?? Date.now();
  if (!Number.isFinite(startAt)) throw new Error(`paced load: start time ${startAt} is not a number`);
  const start = startAt - performance.timeOrigin;
  const due = (i: number) => start + i * intervalMs;
  const deadline = due(total) + options.timeoutMs;
  const latencies: number[] = [];
  const lags: number[] = [];
  const statuses: Record<string, number> = {};
  let errors = 0;
  let timeouts = 0;
  let inFlight = 0;
  let next = 0;
  let abandoned = 0;
  const trace: string[] = [];
  let cpuBefore = process.cpuUsage();

  await new Promise<void>((resolve) => {
    let timer: NodeJS.Timeout | undefined;
    let done = false;
    const finish = () => {
      if (done) return;
      done = true;
      // Whatever is still out at the deadline ran past its timeout.
      abandoned = inFlight;
      clearTimeout(timer);
      resolve();
    };
    const send = (i: number) => {
      const dueAt = due(i);
      const request = options.requests[i % options.requests.length]!;
      const measured = i >= warmup;
      inFlight += 1;
      const lag = performance.now() - dueAt;
      if (measured) lags.push(lag);
      let status = 0;
      let settled = false;
      const end = (error?: Error & { code?: string }) => {
        if (settled) return;
        settled = true;
        inFlight -= 1;
        if (measured && !done) {
          if (error) {
            if (TIMEOUT_CODES.has(error.code ?? '')) timeouts += 1;
            else errors += 1;
          } else {
            latencies.push(performance.now() - dueAt);
            if (TRACE) trace.push(`${(dueAt - start).toFixed(1)} ${(performance.now() - dueAt).toFixed(2)} ${lag.toFixed(2)} ${status}`);
            statuses[status] = (statuses[status] ?? 0) + 1;
          }
        }
        if (next >= total && inFlight === 0) finish();
      };
      // The handler API: no response stream or promise per request (about 15 % less CPU than pool.request() here).
      pool.dispatch(
        { method: 'GET', path: request.path, headers: request.headers },
        {
          onRequestStart: () => undefined,
          onResponseStart: (_controller, statusCode) => {
            status = statusCode;
          },
          onResponseData: () => undefined,
          onResponseEnd: () => end(),
          onResponseError: (_controller, error) => end(error),
        },
      );
    };
    const tick = () => {
      const now = performance.now();
      // Bounded: at most `total` sends over the whole run.
      while (next < total && inFlight < options.maxInFlight && due(next) <= now) {
        if (next === warmup) cpuBefore = process.cpuUsage();
        send(next++);
      }
      if (now >= deadline || (next >= total && inFlight === 0)) return finish();
      const wait = next < total && inFlight < options.maxInFlight ? due(next) - now : 1;
      timer = setTimeout(tick, Math.min(Math.max(wait, 1), deadline - now, 50));
    };
    tick();
  });

  const cpu = process.cpuUsage(cpuBefore);
  timeouts += abandoned;
  await pool.destroy().catch(() => undefined);
  if (TRACE) (await import('node:fs')).writeFileSync(`${TRACE}-${process.pid}-${Date.now()}.txt`, trace.join('\n'));
  latencies.sort((a, b) => a - b);
  lags.sort((a, b) => a - b);
  return {
    generator: 'paced',
    rate: options.rate,
    durationS: options.durationS,
    planned,
    sent: Math.max(0, next - warmup),
    rps: Math.round(latencies.length / options.durationS),
    statuses,
    errors,
    timeouts,
    unsent: planned - Math.max(0, next - warmup),
    latencyMs: { p50: percentile(latencies, 0.5), p90: percentile(latencies, 0.9), p99: percentile(latencies, 0.99), max: percentile(latencies, 1) },
    sendLagMs: { p50: percentile(lags, 0.5), p99: percentile(lags, 0.99), max: percentile(lags, 1) },
    processCpuMs: Math.round((cpu.user + cpu.system) / 1000),
    ...(options.keepLatencies ? { latencies } : {}),
  };
}

/** Percentiles of several runs' answers taken together (each run's `latencies`). */
export function pooledLatency(runs: PacedResult[]): PacedResult['latencyMs'] & { answers: number } {
  const all = runs.flatMap((run) => run.latencies ?? []).sort((a, b) => a - b);
  return { p50: percentile(all, 0.5), p90: percentile(all, 0.9), p99: percentile(all, 0.99), max: percentile(all, 1), answers: all.length };
}

/**
 * The same load from a child process (`node --import tsx` this file): `ready`
 * resolves once the child has loaded and read its options, `start(epochMs)` runs
 * it. The child is killed if it is not ready within 30 s, or has not answered
 * 10 s after the run's deadline.
 */
export function pacedChild(options: Omit<PacedOptions, 'startAt'>): { ready: Promise<void>; start(startAt: number): Promise<PacedResult> } {
  const child = spawn(process.execPath, ['--import', 'tsx', fileURLToPath(import.meta.url)], { cwd: repoRoot, stdio: ['pipe', 'pipe', 'inherit'] });
  let killer = setTimeout(() => child.kill('SIGKILL'), 30_000).unref();
  const lines = createInterface({ input: child.stdout });
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  const received: string[] = [];
  let wake: (() => void) | undefined;
  lines.on('line', (line) => {
    received.push(line);
    wake?.();
  });
  const nextLine = async (): Promise<string> => {
    // Bounded: one wait per line, and the child's exit ends it.
    while (received.length === 0) {
      const code = await Promise.race([exited, new Promise<'line'>((resolve) => (wake = () => resolve('line')))]);
      if (code !== 'line' && received.length === 0) throw new Error(`paced child exited (${String(code)}) before answering`);
    }
    return received.shift()!;
  };
  child.stdin.write(`${JSON.stringify(options)}\n`);
  const ready = nextLine().then((line) => {
    if (line !== 'ready') throw new Error(`paced child: expected ready, got ${line}`);
  });
  return {
    ready,
    async start(startAt: number) {
      child.stdin.end(`${startAt}\n`);
      clearTimeout(killer);
      killer = setTimeout(() => child.kill('SIGKILL'), Math.max(0, startAt - Date.now()) + ((options.warmupS ?? 0) + options.durationS) * 1000 + options.timeoutMs + 10_000).unref();
      try {
        return JSON.parse(await nextLine()) as PacedResult;
      } finally {
        clearTimeout(killer);
      }
    },
  };
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const input = createInterface({ input: process.stdin });
  const iterator = input[Symbol.asyncIterator]();
  const options = JSON.parse(String((await iterator.next()).value)) as PacedOptions;
  process.stdout.write('ready\n');
  const startAt = Number((await iterator.next()).value);
  input.close();
  const result = await paced({ ...options, startAt });
  process.stdout.write(`${JSON.stringify(result)}\n`);
}
