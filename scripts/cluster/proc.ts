// Background processes with pid files, bounded waits, and small shell helpers.
import { spawn, spawnSync, type SpawnSyncOptions } from 'node:child_process';
import { existsSync, mkdirSync, openSync, readFileSync, readlinkSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { paths } from './config.js';

export const logFile = (name: string): string => join(paths.logs, `${name}.log`);
const pidFile = (name: string): string => join(paths.run, `${name}.pid`);

export function say(msg: string): void {
  process.stdout.write(`[cluster] ${msg}\n`);
}

export class ClusterError extends Error {}

/** Run a command to completion; throw with its output when it fails. */
export function run(cmd: string, args: string[], opts: SpawnSyncOptions = {}): string {
  const r = spawnSync(cmd, args, { encoding: 'utf8', maxBuffer: 64 << 20, ...opts });
  if (r.error) throw new ClusterError(`${cmd}: ${r.error.message}`);
  if (r.status !== 0) {
    throw new ClusterError(`${cmd} ${args.join(' ')} exited ${r.status}\n${r.stdout ?? ''}${r.stderr ?? ''}`);
  }
  return String(r.stdout ?? '');
}

/** Run a command, streaming its output into a log file (for long builds). */
export function runLogged(name: string, cmd: string, args: string[], env: NodeJS.ProcessEnv = {}): void {
  mkdirSync(paths.logs, { recursive: true });
  const fd = openSync(logFile(name), 'a');
  const r = spawnSync(cmd, args, { stdio: ['ignore', fd, fd], env: { ...process.env, ...env } });
  if (r.status !== 0) {
    throw new ClusterError(`${name} failed (exit ${r.status}); last lines of ${logFile(name)}:\n${tail(name, 25)}`);
  }
}

export function tail(name: string, lines = 20): string {
  try {
    return readFileSync(logFile(name), 'utf8')
      .trimEnd()
      .split('\n')
      .slice(-lines)
      .map((l) => (l.length > 400 ? `${l.slice(0, 400)}...` : l))
      .join('\n');
  } catch {
    return '(no log)';
  }
}

/** The pid of a component we started, if that process is still alive and is still ours. */
export function pidOf(name: string): number | undefined {
  if (!existsSync(pidFile(name))) return undefined;
  const [pidText, exe] = readFileSync(pidFile(name), 'utf8').split('\n');
  const pid = Number(pidText);
  try {
    // Guard against pid reuse: the live process must run the binary we started.
    if (exe && readlinkSync(`/proc/${pid}/exe`).replace(/ \(deleted\)$/, '') !== exe) return undefined;
    return pid;
  } catch {
    return undefined;
  }
}

/** When we started the component (ms since the epoch): its pid file is written at start. */
export function startedAtOf(name: string): number | undefined {
  return pidOf(name) ? statSync(pidFile(name)).mtimeMs : undefined;
}

/** Start a long-running component in the background; output goes to .cluster/logs/NAME.log. */
export function startDaemon(name: string, bin: string, args: string[], env: NodeJS.ProcessEnv = {}): number {
  const running = pidOf(name);
  if (running) {
    say(`${name} already running (pid ${running})`);
    return running;
  }
  mkdirSync(paths.logs, { recursive: true });
  mkdirSync(paths.run, { recursive: true });
  const fd = openSync(logFile(name), 'a');
  writeFileSync(fd, `\n==== ${new Date().toISOString()} ${bin} ${args.join(' ')}\n`);
  const child = spawn(bin, args, {
    detached: true, // own process group: survives this CLI, and `down` can signal the group
    stdio: ['ignore', fd, fd],
    env: { ...process.env, ...env },
  });
  if (!child.pid) throw new ClusterError(`could not start ${name} (${bin})`);
  child.unref();
  writeFileSync(pidFile(name), `${child.pid}\n${bin}\n`);
  say(`started ${name} (pid ${child.pid}), log: ${logFile(name)}`);
  return child.pid;
}

/** SIGTERM the component's process group, wait (bounded), then SIGKILL. */
export async function stopDaemon(name: string, graceMs = 15_000): Promise<void> {
  const pid = pidOf(name);
  if (!pid) {
    rmSync(pidFile(name), { force: true });
    return;
  }
  const signal = (sig: NodeJS.Signals): void => {
    try {
      process.kill(-pid, sig); // the group (the component and anything it forked)
    } catch {
      try {
        process.kill(pid, sig);
      } catch {
        /* already gone */
      }
    }
  };
  signal('SIGTERM');
  const deadline = Date.now() + graceMs;
  while (Date.now() < deadline && existsSync(`/proc/${pid}`) && !isZombie(pid)) await sleep(200);
  if (existsSync(`/proc/${pid}`) && !isZombie(pid)) {
    say(`${name} did not stop within ${graceMs / 1000}s, sending SIGKILL`);
    signal('SIGKILL');
    await sleep(500);
  }
  rmSync(pidFile(name), { force: true });
  say(`stopped ${name} (pid ${pid})`);
}

function isZombie(pid: number): boolean {
  try {
    return / Z /.test(readFileSync(`/proc/${pid}/stat`, 'utf8').replace(/^\d+ \(.*\)/, ''));
  } catch {
    return true;
  }
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/**
 * Poll `check` until it returns true. Bounded: after `timeoutS` (or as soon as the
 * component's process has died) it throws, naming the component and its log.
 */
export async function waitFor(
  component: string,
  what: string,
  timeoutS: number,
  check: () => boolean | Promise<boolean>,
  opts: { process?: string } = {},
): Promise<void> {
  const started = Date.now();
  const proc = opts.process ?? component;
  for (;;) {
    if (await check()) {
      say(`${component}: ${what} (${((Date.now() - started) / 1000).toFixed(1)}s)`);
      return;
    }
    if (opts.process !== '' && existsSync(pidFile(proc)) && !pidOf(proc)) {
      throw new ClusterError(
        `${component} exited while waiting for: ${what}. Log: ${logFile(proc)}\n--- last lines ---\n${tail(proc, 12)}`,
      );
    }
    if (Date.now() - started > timeoutS * 1000) {
      throw new ClusterError(
        `${component} did not become ready within ${timeoutS}s (waiting for: ${what}). Log: ${logFile(proc)}\n--- last lines ---\n${tail(proc, 12)}`,
      );
    }
    await sleep(1000);
  }
}
