/**
 * The short local gameday, end to end: the real platform (own PostgreSQL,
 * FerretDB, Redis, 2 replicas per service, the edge) under shopper load for
 * 60 s, a replica killed every 5 s across services, Redis restarted once; the
 * verdict from the databases must pass. Runs the CLI in a child process on its
 * own ports (STACK_PORT_OFFSET + 5), so it never meets the test stack.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { repoRoot } from '../../scripts/lib/paths.js';
import type { GamedayReport } from '../../scripts/lib/gameday/report.js';

test('a 60 s local gameday with replica kills every 5 s and a Redis restart passes its verdict and writes both reports', { timeout: 480_000 }, async () => {
  const out = fs.mkdtempSync(path.join(os.tmpdir(), 'gameday-'));
  const offset = Number(process.env.STACK_PORT_OFFSET ?? 0) + 5;
  const child = spawn(process.execPath, ['--import', 'tsx', path.join(repoRoot, 'scripts', 'gameday.ts'), '--duration', '60', '--rps', '10', '--kill-every', '5s', '--redis-down', '3s', '--replicas', '2', '--port-offset', String(offset), '--out', out], {
    cwd: repoRoot,
    env: { ...process.env, MONGODB_URI: '', REDIS_URL: '', NODE_ENV: 'development' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk));
  child.stderr.on('data', (chunk: Buffer) => (output += chunk));
  const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
  // The summary is part of CI's output, pass or fail.
  console.log(output.slice(output.lastIndexOf('gameday ')));
  const dirs = fs.readdirSync(out);
  assert.equal(dirs.length, 1, `one report folder expected; output:\n${output.slice(-3000)}`);
  const report = JSON.parse(fs.readFileSync(path.join(out, dirs[0]!, 'report.json'), 'utf8')) as GamedayReport;
  assert.ok(fs.readFileSync(path.join(out, dirs[0]!, 'report.html'), 'utf8').includes('<svg'));
  assert.equal(report.mode, 'local');
  assert.ok(report.chaos.kills >= 5, `kills: ${report.chaos.kills}`);
  assert.equal(report.chaos.faults, 1, 'Redis was restarted once');
  assert.ok(report.requests.total > 100, `requests: ${report.requests.total}`);
  assert.equal(report.checkout.lost, 0);
  assert.equal(report.inventory.oversoldUnits, 0);
  assert.deepEqual(report.reasons, []);
  assert.equal(report.verdict, 'pass');
  assert.equal(code, 0, output.slice(-3000));
});
