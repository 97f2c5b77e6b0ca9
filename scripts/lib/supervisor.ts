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
}

export interface Replica extends ReplicaSpec {
  child: ChildProcess | undefined;
  restarts: number;
}

/**
 * Runs service replicas as child processes and restarts one that exits, with
 * capped backoff, as a ReplicaSet would. Output goes to one log file per replica.
 */
export class Supervisor {
  readonly replicas: Replica[] = [];
  private stopping = false;

  constructor(private readonly log: (line: string) => void) {}

  start(spec: ReplicaSpec): Replica {
    const replica: Replica = { ...spec, child: undefined, restarts: 0 };
    this.replicas.push(replica);
    this.launch(replica);
    return replica;
  }

  private launch(replica: Replica): void {
    const out = fs.openSync(replica.logFile, 'a');
    const child = spawn(process.execPath, ['--import', 'tsx', path.join(repoRoot, 'services', 'main.ts')], {
      cwd: repoRoot,
      env: { ...replica.env, SERVICE: replica.service, PORT: String(replica.port), HOST: '127.0.0.1' },
      stdio: ['ignore', out, out],
    });
    fs.closeSync(out);
    replica.child = child;
    child.once('exit', (code, signal) => {
      if (this.stopping) return;
      replica.restarts += 1;
      const delay = Math.min(10_000, 500 * 2 ** Math.min(replica.restarts - 1, 5));
      this.log(`${replica.service}-${replica.index} (pid ${child.pid}) exited (${signal ?? `code ${code}`}); restarting in ${delay} ms [log: ${path.relative(repoRoot, replica.logFile)}]`);
      setTimeout(() => {
        if (!this.stopping) this.launch(replica);
      }, delay).unref();
    });
  }

  /** The pids, for chaos tooling that kills replicas. */
  pids(): Array<{ service: string; index: number; port: number; pid: number | undefined }> {
    return this.replicas.map((r) => ({ service: r.service, index: r.index, port: r.port, pid: r.child?.pid }));
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
