import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { repoRoot } from './paths.js';

export interface ReplicaSpec {
  service: string;
  index: number;
  port: number;
  env: NodeJS.ProcessEnv;
  logFile: string;
  /** Node's arguments (tests run a stand-in); default: `--import tsx services/main.ts`. */
  argv?: string[];
}

export interface Replica extends ReplicaSpec {
  child: ChildProcess | undefined;
  restarts: number;
  /** Exits in a row without a healthy run between them: drives the backoff. */
  crashes: number;
  /** When the current process was spawned (ms since epoch). */
  startedAt: number;
}

/** What chaos tooling needs to know about one replica. */
export interface ReplicaInfo {
  service: string;
  index: number;
  port: number;
  /** The running process, or undefined while the replica is down (exited, waiting for its restart). */
  pid: number | undefined;
  up: boolean;
  restarts: number;
  startedAt: string;
}

/**
 * Runs service replicas as child processes and restarts one that exits, with
 * capped backoff, as a ReplicaSet would. Output goes to one log file per replica.
 * Each replica gets its own process group (detached), so a Ctrl-C in the
 * terminal reaches only the parent, which drains replicas before it stops the
 * databases. `onChange` runs after every (re)start and every exit, so a pid file
 * never lists a dead process (a replica waiting out its restart backoff is down).
 */
export class Supervisor {
  readonly replicas: Replica[] = [];
  private stopping = false;

  constructor(
    private readonly log: (line: string) => void,
    private readonly onChange: (replicas: ReplicaInfo[]) => void = () => undefined,
  ) {}

  start(spec: ReplicaSpec): Replica {
    const replica: Replica = { ...spec, child: undefined, restarts: 0, crashes: 0, startedAt: 0 };
    this.replicas.push(replica);
    this.launch(replica);
    return replica;
  }

  private launch(replica: Replica): void {
    const out = fs.openSync(replica.logFile, 'a');
    const child = spawn(process.execPath, replica.argv ?? ['--import', 'tsx', path.join(repoRoot, 'services', 'main.ts')], {
      cwd: repoRoot,
      env: { ...replica.env, SERVICE: replica.service, PORT: String(replica.port), HOST: '127.0.0.1' },
      stdio: ['ignore', out, out],
      detached: true,
    });
    fs.closeSync(out);
    replica.child = child;
    replica.startedAt = Date.now();
    child.once('exit', (code, signal) => {
      if (this.stopping) {
        this.onChange(this.pids());
        return;
      }
      replica.restarts += 1;
      // A process that ran a while and was then killed (chaos, OOM) is like a deleted pod replaced
      // by a fresh one: no backoff. Only quick exits in a row (a crash loop) back off.
      replica.crashes = Date.now() - replica.startedAt >= 30_000 ? 1 : replica.crashes + 1;
      // Down until the restart: the pid file must not name the dead process meanwhile.
      this.onChange(this.pids());
      const delay = Math.min(10_000, 500 * 2 ** Math.min(replica.crashes - 1, 5));
      this.log(`${replica.service}-${replica.index} (pid ${child.pid}) exited (${signal ?? `code ${code}`}); restarting in ${delay} ms [log: ${path.relative(repoRoot, replica.logFile)}]`);
      setTimeout(() => {
        if (!this.stopping) this.launch(replica);
      }, delay).unref();
    });
    this.onChange(this.pids());
  }

  /** The replicas with their current pids, for chaos tooling that kills replicas. */
  pids(): ReplicaInfo[] {
    return this.replicas.map((r) => {
      const pid = r.child?.exitCode === null && r.child.signalCode === null ? r.child.pid : undefined;
      return { service: r.service, index: r.index, port: r.port, pid, up: pid !== undefined, restarts: r.restarts, startedAt: new Date(r.startedAt).toISOString() };
    });
  }

  /** Sends `signal` to one replica's current process; false when it is not running. */
  signal(service: string, index: number, signal: NodeJS.Signals): boolean {
    const replica = this.replicas.find((r) => r.service === service && r.index === index);
    const child = replica?.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return false;
    return child.kill(signal);
  }

  /** SIGTERM to every replica, SIGKILL after `graceMs`; resolves when all are gone. */
  async stop(graceMs: number): Promise<void> {
    this.stopping = true;
    await Promise.all(
      this.replicas.map(async ({ child }) => {
        if (!child || child.exitCode !== null || child.signalCode !== null) return;
        const gone = new Promise<void>((resolve) => child.once('exit', () => resolve()));
        child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
        await gone;
        clearTimeout(timer);
      }),
    );
  }
}
