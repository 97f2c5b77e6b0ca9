// A pod killed under load costs no request a retrying client would see.
//
// A bounded loop of sequential GETs (count and time bounded) goes to one address on
// the cluster's bridge (the Ingress on the node IP, or a Service IP) while one Ready
// pod behind it is deleted: gracefully (as an eviction, a rollout or a scale-down
// does: preStop, then the kit's drain) or forced (`--grace-period=0 --force`: the pod
// object goes at once and its containers are killed, as after a crash). The client is a storefront's: it retries a request
// once on 502/503/504 or a connection error (safe for GETs). A request fails when
// its retry fails too, or when the answer differs from the one before the kill (a
// plain-text 404 from the ingress controller once the Service has no endpoint is not
// the service's JSON answer, whatever the status).
import { kubectl } from './controlplane.js';
import { say, sleep, startedAtOf } from './proc.js';
import { readyPodNames, type PodSnapshot } from './readiness.js';

/**
 * What one attempt got: `"200"` for a JSON answer (the services only answer JSON),
 * `"404 text/plain"` for anything else (made by the edge), `"connection error"`.
 */
export type Attempt = string;

export const CONNECTION_ERROR = 'connection error';

/** The signature of an answer, as {@link Attempt} describes. */
export function signature(status: number, contentType: string | null): Attempt {
  return /json/.test(contentType ?? '') ? String(status) : `${status} ${(contentType ?? 'no content-type').split(';')[0]}`;
}

/** Answers worth one retry: the edge or the network, not the application. */
export function retryable(a: Attempt): boolean {
  return a === CONNECTION_ERROR || /^50[234]\b/.test(a);
}

/** Outcome of one request (first attempt, then the retry if any) against the expected status. */
export function outcome(attempts: readonly Attempt[], expected: Attempt): 'ok' | 'retried' | 'failed' {
  const last = attempts[attempts.length - 1];
  if (last !== expected) return 'failed';
  return attempts.length > 1 ? 'retried' : 'ok';
}

/** Tally of one run. */
export interface LoadTally {
  requests: number;
  ok: number;
  retried: number;
  failed: number;
  /** Signature of every attempt that did not get the expected answer, first or retry. */
  errors: Record<string, number>;
}

export function tally(results: readonly Attempt[][], expected: Attempt): LoadTally {
  const t: LoadTally = { requests: results.length, ok: 0, retried: 0, failed: 0, errors: {} };
  for (const attempts of results) {
    t[outcome(attempts, expected)]++;
    for (const a of attempts) if (a !== expected) t.errors[a] = (t.errors[a] ?? 0) + 1;
  }
  return t;
}

async function attempt(url: string): Promise<Attempt> {
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(5000) });
    await res.arrayBuffer();
    return signature(res.status, res.headers.get('content-type'));
  } catch {
    return CONNECTION_ERROR;
  }
}

/** One request as the retrying client makes it: the first attempt and, if retryable, one retry. */
async function request(url: string): Promise<Attempt[]> {
  const first = await attempt(url);
  if (!retryable(first)) return [first];
  await sleep(100);
  return [first, await attempt(url)];
}

export interface KillUnderLoadOptions {
  namespace: string;
  /** Label selector of the pods behind `url`. */
  selector: string;
  url: string;
  /** Bounds of the loop. */
  maxRequests?: number;
  maxSeconds?: number;
  /** Requests before the kill. */
  killAfter?: number;
  /** `graceful` (default): `kubectl delete pod`; `force`: `--grace-period=0 --force`. */
  mode?: 'graceful' | 'force';
}

/**
 * Sequential requests to `url`; after `killAfter` of them one Ready pod matching
 * `selector` is deleted (see {@link KillUnderLoadOptions.mode}). Stops at `maxRequests` or `maxSeconds`, whichever first.
 */
export async function killUnderLoad(o: KillUnderLoadOptions): Promise<LoadTally & { victim: string; expected: Attempt; seconds: number; mode: string }> {
  const maxRequests = o.maxRequests ?? 300;
  const maxSeconds = o.maxSeconds ?? 60;
  const killAfter = o.killAfter ?? 20;
  const expected = (await request(o.url)).pop()!;
  if (expected === CONNECTION_ERROR || /^5|\s/.test(expected)) throw new Error(`${o.url} answers ${expected} before any kill, not a service's answer`);
  const pods = (JSON.parse(kubectl(['-n', o.namespace, 'get', 'pods', '-l', o.selector, '-o', 'json'])) as { items: PodSnapshot[] }).items;
  const victim = readyPodNames(pods, startedAtOf('kubelet') ?? 0)[0];
  if (!victim) throw new Error(`no Ready pod for ${o.selector} in ${o.namespace}`);
  const results: Attempt[][] = [];
  const started = Date.now();
  while (results.length < maxRequests && Date.now() - started < maxSeconds * 1000) {
    if (results.length === killAfter) {
      const force = o.mode === 'force' ? ['--grace-period=0', '--force'] : [];
      kubectl(['-n', o.namespace, 'delete', 'pod', victim, ...force, '--wait=false']);
    }
    results.push(await request(o.url));
  }
  const t = tally(results, expected);
  return { ...t, victim, expected, seconds: (Date.now() - started) / 1000, mode: o.mode ?? 'graceful' };
}

/** Human summary of one run. */
export function describeRun(name: string, r: Awaited<ReturnType<typeof killUnderLoad>>): string {
  const errs = Object.entries(r.errors).map(([s, n]) => `${n} x ${s}`).join(', ') || 'none';
  return `${name}: ${r.mode === 'force' ? 'force-deleted' : 'deleted'} ${r.victim} under ${r.requests} requests in ${r.seconds.toFixed(1)}s: ${r.ok} ok, ${r.retried} ok after one retry, ${r.failed} failed (expected ${r.expected}; failed attempts: ${errs})`;
}

/** Log a run and say whether it passed (no failed request). */
export function reportRun(name: string, r: Awaited<ReturnType<typeof killUnderLoad>>): boolean {
  say(`${r.failed === 0 ? 'PASS' : 'FAIL'} ${describeRun(name, r)}`);
  return r.failed === 0;
}
