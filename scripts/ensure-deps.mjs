// Runs before `npm start`, `npm test`, `npm run seed` and `npm run bench` (npm's pre-hooks),
// and in .ci/run: installs node dependencies with `npm ci` when node_modules is missing or
// older than package-lock.json. npm runs on the project's Node.js 24 (scripts/node.mjs), not
// on the machine's, so the engines of the dependencies are checked against the Node that
// runs them (no EBADENGINE from an older machine Node). Plain JavaScript: it runs before
// tsx is installed.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { NODE_VERSION, projectEnv, projectNode } from './node.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

/** Runs `npm ci` in `dir` when its node_modules is missing or older than its lock file; npm runs on the project's Node. */
export function ensureDeps(dir = root, env = process.env) {
  const marker = path.join(dir, 'node_modules', '.package-lock.json');
  const lock = path.join(dir, 'package-lock.json');
  const stale = !fs.existsSync(marker) || fs.statSync(marker).mtimeMs < fs.statSync(lock).mtimeMs;
  if (!stale) return;
  const node = projectNode();
  console.log(`installing node dependencies (npm ci on Node.js ${node === process.execPath ? process.version : `v${NODE_VERSION}`})`);
  // npm is a `#!/usr/bin/env node` script: with the project's node first on PATH, that is the Node it runs on.
  const result = spawnSync('npm', ['ci', '--no-audit', '--no-fund'], { cwd: dir, stdio: 'inherit', env: projectEnv(node, env) });
  if (result.status !== 0) {
    console.error('npm ci failed; see above');
    process.exit(result.status ?? 1);
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) ensureDeps();
