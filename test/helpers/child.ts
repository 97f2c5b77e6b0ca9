/**
 * A TypeScript script run as a child process for crash tests: its stdout can be
 * awaited for a line, and it can be SIGKILLed. Every child started here is
 * remembered, so `killAll()` in `after` leaves nothing running.
 */
import { spawn, type ChildProcess } from 'node:child_process';

const children: ChildProcess[] = [];

export interface TsChild {
  child: ChildProcess;
  /** Resolves with the first match of `pattern` in the child's output so far or to come; rejects if it exits first. */
  waitFor(pattern: RegExp): Promise<string>;
  /** Writes one line to the child's stdin (e.g. a start signal the script waits for). */
  send(line: string): void;
}

export function startTsChild(script: string, env: NodeJS.ProcessEnv): TsChild {
  const child = spawn(process.execPath, ['--import', 'tsx', script], { env: { ...process.env, ...env }, stdio: ['pipe', 'pipe', 'inherit'] });
  children.push(child);
  let out = '';
  const waiters: Array<() => void> = [];
  child.stdout?.on('data', (chunk: Buffer) => {
    out += chunk.toString();
    waiters.forEach((w) => w());
  });
  const waitFor = (pattern: RegExp) =>
    new Promise<string>((resolve, reject) => {
      const tryMatch = () => {
        const match = pattern.exec(out);
        if (match) resolve(match[0]);
      };
      waiters.push(tryMatch);
      child.once('exit', () => reject(new Error(`${script} exited before printing ${pattern}: ${out}`)));
      tryMatch();
    });
  const send = (line: string) => {
    child.stdin?.write(`${line}\n`);
  };
  return { child, waitFor, send };
}

/** SIGKILL, resolved once the process is gone (at once if it already is). */
export const killHard = (child: ChildProcess) => new Promise<void>((resolve) => {
  if (child.exitCode !== null || child.signalCode !== null) return resolve();
  child.once('exit', () => resolve());
  child.kill('SIGKILL');
});

export const killAll = () => Promise.all(children.map(killHard));
