/**
 * A FerretDB of a test's own, for tests that stop the database: it runs on the
 * test stack's PostgreSQL (FERRETDB_POSTGRES_URL, set by `npm test`) with a
 * PostgreSQL database of its own, so stopping it touches no other test.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { startFerretdb } from '../../scripts/lib/stack.js';

/** A TCP port nobody listens on right now. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

export interface OwnFerretdb {
  /** mongodb:// URI without a database name. */
  uri: string;
  stop(): Promise<void>;
  /** Stops it if running and removes its files. */
  dispose(): Promise<void>;
}

export async function startOwnFerretdb(tag: string): Promise<OwnFerretdb> {
  const stackUrl = process.env.FERRETDB_POSTGRES_URL;
  if (!stackUrl) throw new Error('FERRETDB_POSTGRES_URL is not set: run this test through `npm test`, which starts PostgreSQL');
  const database = `ferretdb_${tag}_${process.pid}_${Date.now() % 100000}`;
  const admin = new URL(stackUrl);
  const created = spawnSync('psql', ['-h', admin.hostname, '-p', admin.port, '-U', admin.username, '-d', 'postgres', '-tAc', `CREATE DATABASE ${database}`], { encoding: 'utf8' });
  if (created.status !== 0) throw new Error(`creating PostgreSQL database ${database} failed: ${created.stderr}`);
  const own = new URL(stackUrl);
  own.pathname = `/${database}`;
  const port = await freePort();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `ferret-${tag}-`));
  const proc = await startFerretdb(port, own.toString(), dir, path.join(dir, 'ferretdb.log'));
  return {
    uri: `mongodb://127.0.0.1:${port}/`,
    stop: () => proc.stop(),
    async dispose() {
      await proc.stop();
      spawnSync('psql', ['-h', admin.hostname, '-p', admin.port, '-U', admin.username, '-d', 'postgres', '-tAc', `DROP DATABASE IF EXISTS ${database}`]);
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}
