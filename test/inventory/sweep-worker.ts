/**
 * A sweeper replica as a separate process, for the "killed mid-run" tests.
 * Modes:
 *   claim-then-hang   claim one expired hold, print `claimed <id>`, then hang (to be SIGKILLed)
 *   effect-then-hang  claim, return its units, print `returned <id>`, then hang
 *   sweep             print `ready`, wait for a line on stdin (so two workers start together), then run
 *                     the real sweep in small batches, printing `progress <n>` after each
 * Env: MONGODB_URI (with the test database), REDIS_URL, LOCK_PREFIX (shared with the test), MODE.
 */
import { connectMongo, connectRedis, createLocker, createLogger, createRedis, systemClock } from '../../services/kit/index.js';
import { createInventoryModels } from '../../services/inventory/models.js';
import { claimExpired } from '../../services/inventory/domain/holds.js';
import { applyRemove } from '../../services/inventory/domain/effects.js';
import { sweepHolds } from '../../services/inventory/domain/sweep.js';
import { createGate } from '../../services/inventory/domain/gate.js';

const logger = createLogger({ service: 'sweep-worker', level: 'silent' });
const connection = await connectMongo(process.env.MONGODB_URI ?? '', { logger });
const models = await createInventoryModels(connection);
const redis = await connectRedis(createRedis(process.env.REDIS_URL ?? '', logger));
const lock = createLocker(redis, { prefix: process.env.LOCK_PREFIX ?? 'lock:stock' });
const gate = createGate(redis, { prefix: `${process.env.LOCK_PREFIX ?? 'lock:stock'}:gate`, ttlMs: 60_000 });
const deps = { models, clock: systemClock, replica: `worker:${process.pid}`, lock, gate };
const hang = () => new Promise(() => setInterval(() => undefined, 1_000));

switch (process.env.MODE) {
  case 'claim-then-hang': {
    const hold = await claimExpired(deps, 0);
    process.stdout.write(`claimed ${hold?._id}\n`);
    await hang();
    break;
  }
  case 'effect-then-hang': {
    const hold = await claimExpired(deps, 0);
    if (hold) await applyRemove(deps, hold._id, hold.sku, 'available');
    process.stdout.write(`returned ${hold?._id}\n`);
    await hang();
    break;
  }
  default: {
    process.stdout.write('ready\n');
    await new Promise((resolve) => process.stdin.once('data', resolve));
    process.stdin.pause();
    let total = 0;
    for (;;) {
      const result = await sweepHolds(deps, { batch: 3, stuckAfterMs: 60_000, pendingGraceMs: 60_000 });
      total += result.expired;
      process.stdout.write(`progress ${total}\n`);
      if (result.expired === 0) break;
    }
    await redis.quit();
    await connection.close();
  }
}
