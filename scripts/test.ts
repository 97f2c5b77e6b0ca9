/**
 * `npm test`: everything CI checks, on a fresh machine.
 * 1. typecheck and lint; 2. start PostgreSQL, FerretDB and Redis on loopback (test ports,
 * test data folder) unless MONGODB_URI / REDIS_URL are given; 3. run every
 * test file under test/ with Node's test runner; 4. stop what it started.
 * Pass file paths to run only those: `npm test -- test/catalog/cache.test.ts`.
 * `*.solo.test.ts` files (the gameday: minutes of whole-machine load) run after
 * the others, one at a time, so they never starve tests that spawn processes.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { ensureStack } from './lib/stack.js';
import { repoRoot } from './lib/paths.js';
import { run } from './lib/procs.js';

function findTests(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) return findTests(full);
    return entry.name.endsWith('.test.ts') ? [path.relative(repoRoot, full)] : [];
  });
}

function step(title: string): void {
  console.log(`\n== ${title}`);
}

async function main(): Promise<number> {
  const only = process.argv.slice(2);
  const files = only.length > 0 ? only : findTests(path.join(repoRoot, 'test')).sort();
  if (only.length === 0) {
    step('typecheck (tsc --noEmit)');
    run('npx', ['tsc', '-p', 'tsconfig.json', '--noEmit'], { cwd: repoRoot });
    step('lint (eslint)');
    run('npx', ['eslint', '.', '--max-warnings=0'], { cwd: repoRoot });
  }
  step('dependencies: PostgreSQL, FerretDB on it, and Redis on loopback');
  const stack = await ensureStack({ profile: 'test' });
  console.log(`MONGODB_URI=${stack.mongoUri}  REDIS_URL=${stack.redisUrl}`);
  step(`tests (${files.length} files)`);
  const concurrency = process.env.TEST_CONCURRENCY ?? '2';
  const env = { ...process.env, MONGODB_URI: stack.mongoUri, REDIS_URL: stack.redisUrl, ...(stack.redisSentinels ? { REDIS_SENTINELS: stack.redisSentinels } : {}), FERRETDB_POSTGRES_URL: stack.postgresUrl ?? '', NODE_ENV: 'test' };
  const runFiles = (batch: string[], parallel: string) => {
    const child = spawn(process.execPath, ['--import', 'tsx', '--test', `--test-concurrency=${parallel}`, '--test-reporter=spec', ...batch], { cwd: repoRoot, stdio: 'inherit', env });
    const forward = (signal: NodeJS.Signals) => child.kill(signal);
    process.on('SIGINT', forward);
    process.on('SIGTERM', forward);
    return new Promise<number>((resolve) => child.once('exit', (c, s) => {
      process.off('SIGINT', forward);
      process.off('SIGTERM', forward);
      resolve(c ?? (s ? 1 : 0));
    }));
  };
  const solo = files.filter((f) => f.endsWith('.solo.test.ts'));
  const shared = files.filter((f) => !f.endsWith('.solo.test.ts'));
  let code = shared.length > 0 ? await runFiles(shared, concurrency) : 0;
  for (const file of solo) {
    step(`solo: ${file}`);
    code = (await runFiles([file], '1')) || code;
  }
  await stack.stop();
  return code;
}

main().then(
  (code) => process.exit(code),
  (error: Error) => {
    console.error(`npm test: ${error.message}`);
    process.exit(1);
  },
);
