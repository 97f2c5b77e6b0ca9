import { createHash, randomBytes } from 'node:crypto';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Writable } from 'node:stream';
import { createLogger, createMetrics, Health, type Logger } from '../../services/kit/index.js';

/**
 * Connection strings of the real servers `npm test` started (scripts/test.ts).
 * Tests never mock MongoDB or Redis.
 */
export function testServers(): { mongoUri: string; redisUrl: string } {
  const mongoUri = process.env.MONGODB_URI;
  const redisUrl = process.env.REDIS_URL;
  if (!mongoUri || !redisUrl) throw new Error('MONGODB_URI and REDIS_URL are not set: run tests with `npm test`, which starts FerretDB and Redis');
  return { mongoUri, redisUrl };
}

/** A database name of its own for each test file (and run), so files run in parallel. */
export function uniqueName(metaUrl: string): string {
  const base = path.basename(fileURLToPath(metaUrl)).replace(/\.test\.ts$/, '').replace(/[^a-z0-9]/gi, '_');
  return `t_${base}_${randomBytes(3).toString('hex')}`;
}

/** A logger that stays quiet unless TEST_LOG_LEVEL is set. */
export function testLogger(service = 'test'): Logger {
  return createLogger({ service, level: process.env.TEST_LOG_LEVEL ?? 'silent' });
}

/** A logger whose JSON lines are kept in `lines`, for tests of what gets logged. */
export function capturedLogger(service = 'test', level = 'info'): { logger: Logger; lines: Array<Record<string, unknown>> } {
  const lines: Array<Record<string, unknown>> = [];
  const destination = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const line of chunk.toString().split('\n').filter(Boolean)) lines.push(JSON.parse(line) as Record<string, unknown>);
      done();
    },
  });
  return { logger: createLogger({ service, level, destination }), lines };
}

/** Polls `check` every 50 ms until it is true or `timeoutMs` passed; returns its last answer. */
export async function eventually(check: () => boolean | Promise<boolean>, timeoutMs = 5_000): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check()) return true;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return check();
}

export function testObservability(service = 'test') {
  return { logger: testLogger(service), metrics: createMetrics(service), health: new Health() };
}

export const TEST_ADMIN_TOKEN = 'test-admin-token-0123456789';
/** What services that only verify the admin token get instead of it (ADMIN_TOKEN_SHA256), as in the manifests. */
export const TEST_ADMIN_TOKEN_SHA256 = createHash('sha256').update(TEST_ADMIN_TOKEN).digest('hex');
/** The service-to-service token: inventory's INTERNAL_TOKEN, its callers' INVENTORY_TOKEN; never the admin token. */
export const TEST_INTERNAL_TOKEN = 'test-internal-token-0123456789';
export const TEST_INTERNAL_TOKEN_SHA256 = createHash('sha256').update(TEST_INTERNAL_TOKEN).digest('hex');
export const TEST_CUSTOMER_TOKEN_SECRET = 'test-customer-token-secret-0123456789';
