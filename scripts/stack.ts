/**
 * `npm run stack [-- --profile test]`: runs only the dependencies (PostgreSQL,
 * FerretDB on it, and Redis on loopback) in the foreground until Ctrl-C, for working on one
 * service with `tsx watch` or running test files against a long-lived stack.
 */
import { ensureStack, STACK_PROFILES, type StackProfile } from './lib/stack.js';

const asked = process.argv.includes('--profile') ? process.argv[process.argv.indexOf('--profile') + 1] : 'dev';
if (!asked || !(STACK_PROFILES as string[]).includes(asked)) {
  console.error(`invalid --profile: must be one of ${STACK_PROFILES.join(', ')}`);
  process.exit(1);
}
const stack = await ensureStack({ profile: asked as StackProfile });
console.log(`MONGODB_URI=${stack.mongoUri}\nREDIS_URL=${stack.redisUrl}\n${stack.redisSentinels ? `REDIS_SENTINELS=${stack.redisSentinels}\n` : ''}FERRETDB_POSTGRES_URL=${stack.postgresUrl ?? '(external MongoDB)'}\n(Ctrl-C stops ${stack.managed.map((m) => m.name).join(' and ') || 'nothing: reused running servers'})`);
const stop = async () => {
  await stack.stop();
  process.exit(0);
};
process.once('SIGINT', () => void stop());
process.once('SIGTERM', () => void stop());
setInterval(() => undefined, 1 << 30);
