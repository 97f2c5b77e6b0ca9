/**
 * Bull queues for every service: bounded Redis timeouts, metrics (depth by
 * state, job outcomes), and a close that main.ts awaits on shutdown.
 */
import Bull from 'bull';
import { Redis, type RedisOptions } from 'ioredis';
import type { Logger } from './log.js';
import type { Metrics } from './metrics.js';
import { redisConnectionOptions, type RedisConnectionConfig } from './redis.js';
import { withTimeout } from './timeout.js';

export type Queue<T = unknown> = Bull.Queue<T>;
export type Job<T = unknown> = Bull.Job<T>;

export interface QueueOptions {
  /** Queue name, e.g. 'fulfillment'. */
  name: string;
  redisUrl: string;
  /**
   * The service's config (REDIS_URL and, when set, REDIS_SENTINELS): with it the
   * queue's connections find the primary through Sentinel and follow a failover,
   * like the kit's other clients. Without it, `redisUrl` alone.
   */
  redis?: RedisConnectionConfig;
  logger: Logger;
  metrics?: Metrics;
  /** Key prefix in Redis (tests use one per file). */
  prefix?: string;
  defaultJobOptions?: Bull.JobOptions;
  /** Rate limit for the workers of this queue (e.g. towards a carrier API). */
  limiter?: Bull.RateLimiter;
  /** A job whose worker stopped renewing its lock (died) is retried after this (Bull's stalled-job check). */
  lockDurationMs?: number;
}

/**
 * A Bull queue whose Redis connections fail fast (connect and command
 * timeouts) instead of queueing commands forever while Redis is down; the
 * blocking and subscriber connections keep Bull's required settings. Depth by
 * state and job outcomes (`queue_jobs`, `queue_job_outcomes_total`) go to
 * `metrics`.
 */
export function createQueue<T = unknown>(options: QueueOptions): Queue<T> {
  const { logger } = options;
  const clients: Redis[] = [];
  const base: RedisOptions = {
    ...redisConnectionOptions(options.redis ?? options.redisUrl),
    connectTimeout: 2_000,
    retryStrategy: (attempt) => Math.min(attempt * 200, 2_000),
    // A demoted primary answers writes with READONLY: reconnect (through Sentinel, to the new primary).
    reconnectOnError: (error) => (error.message.startsWith('READONLY') ? 2 : false),
  };
  const queue = new Bull<T>(options.name, {
    prefix: options.prefix ?? 'bull',
    defaultJobOptions: options.defaultJobOptions,
    limiter: options.limiter,
    settings: { lockDuration: options.lockDurationMs ?? 30_000, stalledInterval: Math.max(1_000, Math.round((options.lockDurationMs ?? 30_000) / 2)), maxStalledCount: 3 },
    createClient(type) {
      // Bull's blocking and subscriber connections must retry without limit; the command client fails fast.
      const extra: RedisOptions = type === 'client' ? { maxRetriesPerRequest: 1, commandTimeout: 2_000 } : { maxRetriesPerRequest: null, enableReadyCheck: false };
      const client = new Redis({ ...base, ...extra });
      clients.push(client);
      let warned = false;
      client.on('error', (error) => {
        if (!warned) logger.warn({ err: error, queue: options.name, connection: type }, 'queue redis error');
        warned = true;
      });
      client.on('ready', () => (warned = false));
      return client;
    },
  });
  queue.on('error', (error) => logger.warn({ err: error, queue: options.name }, 'queue error'));
  ownClients.set(queue as Queue<unknown>, clients);
  if (options.metrics) observeQueue(queue, options.metrics);
  return queue;
}

/** Adds a job with a deadline: Bull would otherwise wait for Redis to come back. */
export async function addJob<T>(queue: Queue<T>, data: T, options: Bull.JobOptions, timeoutMs = 2_000): Promise<Job<T>> {
  return withTimeout(queue.add(data, options), timeoutMs, `queue ${queue.name} add`);
}

/**
 * Where job `id` is, for a pass that re-sends jobs a failed-over Redis primary
 * may have lost: `queued` (waiting, active, delayed, paused, or failed: a worker
 * or an admin still has it), `completed`, or `missing` (no such job, or a job
 * hash in no list, which a partly replicated primary can leave behind). Bull
 * reads the lists one by one, so a job moving between two of them can look like
 * it is in none: that answer is asked once more before it counts as missing.
 */
export async function jobPresence<T>(queue: Queue<T>, id: string, timeoutMs = 2_000): Promise<{ presence: 'queued' | 'completed' | 'missing'; job: Job<T> | null }> {
  const job = await withTimeout(queue.getJob(id), timeoutMs, `queue ${queue.name} getJob`);
  if (!job) return { presence: 'missing', job: null };
  let state = await withTimeout(job.getState(), timeoutMs, `queue ${queue.name} job state`);
  if (state === 'stuck') state = await withTimeout(job.getState(), timeoutMs, `queue ${queue.name} job state`);
  if (state === 'completed') return { presence: 'completed', job };
  if (state === 'stuck') return { presence: 'missing', job };
  return { presence: 'queued', job };
}

/**
 * Adds job `id` again after `jobPresence` found it completed or missing: a job
 * hash that is still there (completed, or in no list) is removed first, since
 * Bull ignores an add whose id exists. Bull refuses to remove a job a worker
 * holds (it throws), so a running job is never replaced.
 */
export async function readdJob<T>(queue: Queue<T>, found: Job<T> | null, data: T, options: Bull.JobOptions & { jobId: string }, timeoutMs = 2_000): Promise<Job<T>> {
  if (found) await withTimeout(found.remove(), timeoutMs, `queue ${queue.name} remove`);
  return addJob(queue, data, options, timeoutMs);
}

/** Queue depth by state (read at scrape time) and completed/failed counts per queue. */
export function observeQueue(queue: Queue<unknown>, metrics: Metrics): void {
  const outcomes = metrics.counter('queue_job_outcomes_total', 'Jobs finished by queue and outcome', ['queue', 'outcome']);
  queue.on('completed', () => outcomes.inc({ queue: queue.name, outcome: 'completed' }));
  queue.on('failed', (job) => outcomes.inc({ queue: queue.name, outcome: job.attemptsMade >= (job.opts.attempts ?? 1) ? 'failed' : 'retried' }));
  queue.on('stalled', () => outcomes.inc({ queue: queue.name, outcome: 'stalled' }));
  const depth = metrics.gauge('queue_jobs', 'Jobs in the queue by state', ['queue', 'state']);
  // prom-client awaits an async collect(); a down Redis leaves the last values.
  (depth as unknown as { collect?: () => Promise<void> }).collect = async () => {
    const counts = await withTimeout(queue.getJobCounts(), 1_000, 'queue counts').catch(() => null);
    if (!counts) return;
    for (const [state, count] of Object.entries(counts)) depth.set({ queue: queue.name, state }, count);
  };
}

/** Bull leaves connections made by a custom `createClient` open on close: the kit closes them itself. */
const ownClients = new WeakMap<Queue<unknown>, Redis[]>();

/**
 * Closes the queue (stops its workers after their current job) within
 * `timeoutMs`, then its Redis connections (Bull does not close connections it
 * did not create). A job cut off by the deadline is retried by Bull's
 * stalled-job check elsewhere.
 */
export async function closeQueue(queue: Queue<unknown>, timeoutMs = 10_000): Promise<void> {
  try {
    await withTimeout(queue.close(), timeoutMs, `queue ${queue.name} close`);
  } finally {
    for (const client of ownClients.get(queue) ?? []) client.disconnect();
  }
}
