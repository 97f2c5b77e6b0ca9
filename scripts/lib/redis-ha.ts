/**
 * The production Redis shape on loopback (docs/redis-failover.md): one primary, one replica
 * and three sentinels (quorum 2) from Debian's `redis-server` / `redis-sentinel`. Ports are
 * derived from one base port: primary = base, replica = base + 1, sentinels = base + 20000..20002
 * (the 6379 / 26379 convention). Sentinel state is rebuilt at every start: the primary is
 * always `base` at first, as the in-cluster bootstrap makes ordinal 0 the primary.
 */
import fs from 'node:fs';
import path from 'node:path';
import { Redis } from 'ioredis';
import { ensureRedis } from './stack.js';
import { hasCommand, startManaged, waitForPort, type Managed } from './procs.js';

/** The name the sentinels monitor the primary under (REDIS_SENTINEL_NAME). */
export const SENTINEL_MASTER_NAME = 'shop';

export interface RedisHaOptions {
  /** Sentinel's down-after-milliseconds: how long a silent primary is tolerated. @default 1000 */
  downAfterMs?: number;
  /** Sentinel's failover-timeout. @default 5000 */
  failoverTimeoutMs?: number;
}

export interface RedisHa {
  primaryPort: number;
  replicaPort: number;
  sentinelPorts: number[];
  /** `127.0.0.1:p,127.0.0.1:q,...` for REDIS_SENTINELS. */
  sentinels: string;
  /** redis://127.0.0.1:<primary>; with REDIS_SENTINELS set only its credentials and db are used. */
  url: string;
  primary: Managed;
  replica: Managed;
  sentinelProcs: Managed[];
  managed: Managed[];
  /**
   * Chaos: SIGKILLs whichever server the sentinels call primary now, waits
   * `downMs`, then starts it again on its port and data folder as a replica of
   * the primary the sentinels chose meanwhile (or as primary if none was chosen
   * yet). Resolves with the ports before and after.
   */
  killPrimary(downMs: number): Promise<{ killedPort: number; primaryPort: number }>;
  /** Stops sentinels first (no failover while the servers stop), then the servers. */
  stop(): Promise<void>;
}

/** The primary's port as the first sentinel that answers sees it now. */
export async function primaryPortNow(sentinelPorts: number[]): Promise<number> {
  for (const port of sentinelPorts) {
    const sentinel = new Redis({ host: '127.0.0.1', port, lazyConnect: true, connectTimeout: 1_000, maxRetriesPerRequest: 0, retryStrategy: () => null });
    try {
      await sentinel.connect();
      const answer = (await sentinel.call('SENTINEL', 'get-master-addr-by-name', SENTINEL_MASTER_NAME)) as [string, string] | null;
      if (answer) return Number(answer[1]);
    } catch {
      // the next sentinel
    } finally {
      sentinel.disconnect();
    }
  }
  throw new Error(`no sentinel on ports ${sentinelPorts.join(', ')} named a primary`);
}

/** Ports of an HA group at `base`. */
export function redisHaPorts(base: number): { primaryPort: number; replicaPort: number; sentinelPorts: number[] } {
  return { primaryPort: base, replicaPort: base + 1, sentinelPorts: [0, 1, 2].map((i) => base + 20_000 + i) };
}

function redisArgs(port: number, dir: string): string[] {
  return [
    '--bind', '127.0.0.1', '--port', String(port), '--dir', dir,
    '--appendonly', 'yes', '--appendfsync', 'everysec', '--save', '',
    '--protected-mode', 'yes', '--daemonize', 'no', '--logfile', '',
  ];
}

/** Starts the group in `dir` (wiped first: a previous run's failover must not decide this run's primary). */
export async function startRedisHa(base: number, dir: string, options: RedisHaOptions = {}): Promise<RedisHa> {
  const server = ensureRedis();
  if (!hasCommand('redis-sentinel')) throw new Error("REDIS_HA needs Debian's redis-sentinel (apt-get install redis-sentinel)");
  const { primaryPort, replicaPort, sentinelPorts } = redisHaPorts(base);
  fs.rmSync(dir, { recursive: true, force: true });
  const managed: Managed[] = [];
  const start = async (name: string, command: string, args: string[], port: number): Promise<Managed> => {
    const sub = path.join(dir, name);
    fs.mkdirSync(sub, { recursive: true });
    const log = path.join(dir, `${name}.log`);
    const proc = startManaged(name, command, args.map((a) => a.replace('{dir}', sub)), log);
    managed.push(proc);
    await waitForPort(port, name, log, 15_000, proc.child);
    return proc;
  };
  try {
    const primary = await start('redis-primary', server, redisArgs(primaryPort, '{dir}'), primaryPort);
    const replica = await start('redis-replica', server, [...redisArgs(replicaPort, '{dir}'), '--replicaof', '127.0.0.1', String(primaryPort)], replicaPort);
    const sentinelProcs: Managed[] = [];
    for (const [i, port] of sentinelPorts.entries()) {
      // Sentinel rewrites its config file (discovered peers, new primary): it must be a writable copy.
      const conf = path.join(dir, `sentinel-${i}.conf`);
      fs.writeFileSync(conf, [
        `port ${port}`, 'bind 127.0.0.1', 'daemonize no', `dir ${dir}`,
        `sentinel monitor ${SENTINEL_MASTER_NAME} 127.0.0.1 ${primaryPort} 2`,
        `sentinel down-after-milliseconds ${SENTINEL_MASTER_NAME} ${options.downAfterMs ?? 1_000}`,
        `sentinel failover-timeout ${SENTINEL_MASTER_NAME} ${options.failoverTimeoutMs ?? 5_000}`,
        `sentinel parallel-syncs ${SENTINEL_MASTER_NAME} 1`, '',
      ].join('\n'));
      sentinelProcs.push(await start(`sentinel-${i}`, 'redis-sentinel', [conf], port));
    }
    // The servers by port; a killed one is replaced here (and in `managed`) when it starts again.
    const servers = new Map<number, { name: string; proc: Managed }>([[primaryPort, { name: 'redis-primary', proc: primary }], [replicaPort, { name: 'redis-replica', proc: replica }]]);
    const stopAll = async () => {
      for (const proc of [...sentinelProcs].reverse()) await proc.stop();
      for (const { proc } of [...servers.values()].reverse()) await proc.stop();
    };
    const killPrimary = async (downMs: number) => {
      const killedPort = await primaryPortNow(sentinelPorts);
      const member = servers.get(killedPort);
      if (!member) throw new Error(`the sentinels name 127.0.0.1:${killedPort} as primary, which this group did not start`);
      const exited = new Promise<void>((resolve) => (member.proc.child.exitCode !== null ? resolve() : member.proc.child.once('exit', () => resolve())));
      member.proc.child.kill('SIGKILL');
      await exited;
      await new Promise((resolve) => setTimeout(resolve, downMs));
      const now = await primaryPortNow(sentinelPorts).catch(() => killedPort);
      const follow = now === killedPort ? [] : ['--replicaof', '127.0.0.1', String(now)];
      const index = managed.indexOf(member.proc);
      const proc = await start(member.name, server, [...redisArgs(killedPort, '{dir}'), ...follow], killedPort);
      managed.splice(managed.indexOf(proc), 1);
      if (index >= 0) managed[index] = proc;
      servers.set(killedPort, { name: member.name, proc });
      return { killedPort, primaryPort: now };
    };
    return {
      primaryPort, replicaPort, sentinelPorts,
      sentinels: sentinelPorts.map((p) => `127.0.0.1:${p}`).join(','),
      url: `redis://127.0.0.1:${primaryPort}`,
      primary, replica, sentinelProcs, managed,
      killPrimary,
      stop: stopAll,
    };
  } catch (error) {
    for (const proc of managed.reverse()) await proc.stop();
    throw error;
  }
}
