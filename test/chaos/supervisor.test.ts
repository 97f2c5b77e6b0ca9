/**
 * The local supervisor (scripts/lib/supervisor.ts) and the pid file chaos reads
 * (`.data/dev/replicas.json`, written by onChange): a replica's dead pid must not
 * stay listed while it waits out its restart backoff. The replica here is a
 * stand-in node process, not a service.
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Supervisor, type ReplicaInfo } from '../../scripts/lib/supervisor.js';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'supervisor-'));
const file = path.join(dir, 'replicas.json');
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const readFile = (): ReplicaInfo[] => JSON.parse(fs.readFileSync(file, 'utf8')) as ReplicaInfo[];
let supervisor: Supervisor | undefined;

after(async () => {
  await supervisor?.stop(2_000);
  fs.rmSync(dir, { recursive: true, force: true });
});

async function until<T>(what: string, probe: () => T | undefined, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const value = probe();
    if (value !== undefined) return value;
    await sleep(10);
  }
  throw new Error(`gave up waiting for ${what}: ${fs.existsSync(file) ? fs.readFileSync(file, 'utf8') : 'no file'}`);
}

test('when a replica is killed, then replicas.json marks it down without a pid during the restart backoff, and lists the new pid once it is back', async () => {
  const files: ReplicaInfo[][] = [];
  supervisor = new Supervisor(() => undefined, (list) => {
    files.push(list);
    fs.writeFileSync(file, JSON.stringify(list, null, 2));
  });
  supervisor.start({ service: 'cart', index: 0, port: 1, env: process.env, logFile: path.join(dir, 'cart-0.log'), argv: ['-e', 'setInterval(() => {}, 1000)'] });
  const first = readFile()[0]!;
  assert.ok(first.pid, 'the first pid is listed at start');
  assert.equal(first.up, true);

  process.kill(first.pid, 'SIGKILL');
  // The supervisor waits 500 ms before restarting a quick exit: the file must say so meanwhile.
  const down = await until('the replica listed as down', () => readFile().find((r) => r.up === false));
  assert.equal(down.pid, undefined);
  assert.equal(down.restarts, 1);
  assert.ok(!fs.readFileSync(file, 'utf8').includes(`"pid": ${first.pid}`), 'the dead pid is gone from the file');

  const back = await until('the replica back with a new pid', () => readFile().find((r) => r.up && r.pid !== first.pid));
  assert.ok(back.pid);
  assert.deepEqual(files.map((list) => list[0]!.up), [true, false, true], 'start, exit, restart');
});
