/**
 * The Redis pods' bootstrap script (charts-ts/lib/redis-scripts.ts) run by a real `sh`, with
 * `redis-cli` and `getent` replaced by stubs that play the sentinels' answer and cluster DNS.
 */
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { BOOTSTRAP_SH, REDIS_PRESTOP_SH, REDIS_READY_SH, SENTINEL_READY_SH } from '../../charts-ts/lib/redis-scripts.js';

const root = fs.mkdtempSync(path.join(os.tmpdir(), 'redis-bootstrap-'));
const bin = path.join(root, 'bin');
fs.mkdirSync(bin);
// The sentinels' answer comes from STUB_PRIMARY; without it no sentinel answers (first start).
fs.writeFileSync(path.join(bin, 'redis-cli'), '#!/bin/sh\ncase "$*" in *get-master-addr-by-name*) [ -n "${STUB_PRIMARY:-}" ] && printf "%s\\n6379\\n" "$STUB_PRIMARY" && exit 0 ;; esac\nexit 1\n', { mode: 0o755 });
fs.writeFileSync(path.join(bin, 'getent'), '#!/bin/sh\nexit 0\n', { mode: 0o755 });
const DOMAIN = 'redis.shop.svc.cluster.local';
after(() => fs.rmSync(root, { recursive: true, force: true }));

function bootstrap(pod: string, sentinelsSay?: string): { redis: string; sentinel: string } {
  const conf = fs.mkdtempSync(path.join(root, 'conf-'));
  const env = {
    PATH: `${bin}:${process.env.PATH}`, CONF_DIR: conf, POD_NAME: pod, DOMAIN, MASTER_NAME: 'shop', REPLICAS: '3',
    QUORUM: '2', DOWN_AFTER_MS: '5000', FAILOVER_TIMEOUT_MS: '60000', MAXMEMORY_MB: '819', ...(sentinelsSay ? { STUB_PRIMARY: sentinelsSay } : {}),
  };
  const run = spawnSync('sh', ['-c', BOOTSTRAP_SH], { env, encoding: 'utf8' });
  assert.equal(run.status, 0, run.stderr);
  return { redis: fs.readFileSync(path.join(conf, 'redis.conf'), 'utf8'), sentinel: fs.readFileSync(path.join(conf, 'sentinel.conf'), 'utf8') };
}

describe('Redis bootstrap script', () => {
  test('every script parses in sh', () => {
    for (const script of [BOOTSTRAP_SH, REDIS_READY_SH, SENTINEL_READY_SH, REDIS_PRESTOP_SH]) {
      const check = spawnSync('sh', ['-n', '-c', script], { encoding: 'utf8' });
      assert.equal(check.status, 0, check.stderr);
    }
  });
  test('when no sentinel answers (first start), then ordinal 0 is the primary with AOF on and announces its hostname', () => {
    const { redis, sentinel } = bootstrap('redis-0');
    assert.doesNotMatch(redis, /replicaof/);
    assert.match(redis, /appendonly yes/);
    assert.match(redis, new RegExp(`replica-announce-ip redis-0\\.${DOMAIN}`));
    assert.match(sentinel, new RegExp(`sentinel monitor shop redis-0\\.${DOMAIN} 6379 2`));
    assert.match(sentinel, /sentinel resolve-hostnames yes\nsentinel announce-hostnames yes/);
  });
  test('when no sentinel answers, then ordinal 1 starts as a replica of ordinal 0', () => {
    const { redis, sentinel } = bootstrap('redis-1');
    assert.match(redis, new RegExp(`replicaof redis-0\\.${DOMAIN} 6379`));
    assert.match(sentinel, new RegExp(`sentinel monitor shop redis-0\\.${DOMAIN} 6379 2`));
  });
  test('when the sentinels name another pod (after a failover), then a restarted former primary rejoins as its replica', () => {
    const { redis, sentinel } = bootstrap('redis-0', `redis-2.${DOMAIN}`);
    assert.match(redis, new RegExp(`replicaof redis-2\\.${DOMAIN} 6379`));
    assert.match(sentinel, new RegExp(`sentinel monitor shop redis-2\\.${DOMAIN} 6379 2`));
  });
  test('when the sentinels name this pod, then it starts as the primary', () => {
    assert.doesNotMatch(bootstrap('redis-2', `redis-2.${DOMAIN}`).redis, /replicaof/);
  });
});
