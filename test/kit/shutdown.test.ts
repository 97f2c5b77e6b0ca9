import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { testServers } from '../helpers/env.js';

const fixture = path.join(path.dirname(fileURLToPath(import.meta.url)), 'fixtures', 'slow-service.ts');

function startFixture(env: Record<string, string>): Promise<{ child: ChildProcess; port: number; exited: Promise<number | null> }> {
  const child = spawn(process.execPath, ['--import', 'tsx', fixture], { env: { ...process.env, MONGODB_URI: testServers().mongoUri, ...env }, stdio: ['ignore', 'pipe', 'inherit'] });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('fixture did not print its port within 20 s')), 20_000);
    let out = '';
    child.stdout?.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      const match = /PORT=(\d+)/.exec(out);
      if (match) {
        clearTimeout(timer);
        resolve({ child, port: Number(match[1]), exited });
      }
    });
  });
}

test('when SIGTERM arrives mid-request, then readiness goes red, the request completes, new connections are refused, and the process exits 0', async () => {
  const { child, port, exited } = await startFixture({ SLOW_MS: '1500', SHUTDOWN_DELAY_MS: '600', SHUTDOWN_TIMEOUT_MS: '5000' });
  const base = `http://127.0.0.1:${port}`;
  assert.equal((await fetch(`${base}/readyz`)).status, 200);

  const inFlight = fetch(`${base}/slow`);
  await new Promise((r) => setTimeout(r, 200));
  child.kill('SIGTERM');
  await new Promise((r) => setTimeout(r, 150));

  const during = await fetch(`${base}/readyz`);
  assert.equal(during.status, 503, 'readiness must be red while draining');
  assert.equal(((await during.json()) as { status: string }).status, "draining");
  assert.equal((await fetch(`${base}/healthz`)).status, 200, 'liveness stays green while draining');

  const slow = await inFlight;
  assert.equal(slow.status, 200);
  assert.deepEqual(await slow.json(), { done: true });

  assert.equal(await exited, 0);
  await assert.rejects(fetch(`${base}/healthz`), 'the listener is closed after the drain');
});

test('when in-flight work overruns the drain deadline, then the process still exits, with code 1', async () => {
  const { child, port, exited } = await startFixture({ SLOW_MS: '10000', SHUTDOWN_DELAY_MS: '100', SHUTDOWN_TIMEOUT_MS: '500' });
  const inFlight = fetch(`http://127.0.0.1:${port}/slow`).catch((error: Error) => error);
  await new Promise((r) => setTimeout(r, 200));
  child.kill('SIGTERM');
  assert.equal(await exited, 1);
  assert.ok((await inFlight) instanceof Error, 'the overrunning request was cut');
});
