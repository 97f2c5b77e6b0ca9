/**
 * The project runs on Node.js 24 whatever Node the machine has (issue 15): the
 * commands go through scripts/node.mjs, and `npm ci` (scripts/ensure-deps.mjs)
 * runs npm on that Node too, so dependencies' engines are checked against it.
 * Started here with the machine's own `node` (Debian's is 20), not the test's.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = fileURLToPath(new URL('../../', import.meta.url));
const major = (version: string) => Number(/^v(\d+)\./.exec(version.trim())?.[1]);

/** The first `node` on PATH outside the project's .tools: what `npm run <script>` starts with. */
function machineNode(): string {
  for (const dir of (process.env.PATH ?? '').split(path.delimiter)) {
    const candidate = path.join(dir, 'node');
    if (dir && !dir.includes(`${path.sep}.tools${path.sep}`) && fs.existsSync(candidate)) return candidate;
  }
  return process.execPath;
}

test('when scripts/node.mjs runs a JavaScript file (a tool\'s bin), then it runs on Node.js 24+, not on the Node that started it', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'project-node-'));
  const script = path.join(dir, 'version.mjs');
  fs.writeFileSync(script, 'console.log(process.version)\n');
  const run = spawnSync(machineNode(), ['scripts/node.mjs', script], { cwd: root, encoding: 'utf8' });
  assert.equal(run.status, 0, run.stderr);
  assert.ok(major(run.stdout) >= 24, `${machineNode()} ran it on ${run.stdout}`);
  fs.rmSync(dir, { recursive: true, force: true });
});

test('when ensure-deps installs dependencies, then npm runs on the project\'s Node.js 24+ (no EBADENGINE from an older machine Node)', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ensure-deps-'));
  const project = path.join(dir, 'project');
  const bin = path.join(dir, 'bin');
  fs.mkdirSync(project);
  fs.mkdirSync(bin);
  // No node_modules: stale, so `npm ci` runs. The npm found on PATH records the Node it runs on.
  fs.writeFileSync(path.join(project, 'package-lock.json'), '{}\n');
  fs.writeFileSync(path.join(bin, 'npm'), "#!/usr/bin/env node\nrequire('node:fs').writeFileSync('npm-ran.json', JSON.stringify({ version: process.version, args: process.argv.slice(2) }));\n", { mode: 0o755 });
  const code = `import { ensureDeps } from ${JSON.stringify(pathToFileURL(path.join(root, 'scripts/ensure-deps.mjs')).href)}; ensureDeps(${JSON.stringify(project)});`;
  const run = spawnSync(machineNode(), ['--input-type=module', '-e', code], { cwd: root, encoding: 'utf8', env: { ...process.env, PATH: `${bin}${path.delimiter}${process.env.PATH ?? ''}` } });
  assert.equal(run.status, 0, run.stderr);
  const ran = JSON.parse(fs.readFileSync(path.join(project, 'npm-ran.json'), 'utf8')) as { version: string; args: string[] };
  assert.equal(ran.args[0], 'ci');
  assert.ok(major(ran.version) >= 24, `npm ran on ${ran.version}`);
  fs.rmSync(dir, { recursive: true, force: true });
});

test('the build, typecheck and lint scripts run their tool through scripts/node.mjs', () => {
  const scripts = (JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8')) as { scripts: Record<string, string> }).scripts;
  for (const name of ['build', 'typecheck', 'lint']) {
    const [node, launcher, tool] = scripts[name]!.split(' ');
    assert.deepEqual([node, launcher], ['node', 'scripts/node.mjs'], name);
    assert.ok(fs.existsSync(path.join(root, tool!)), `${name}: ${tool}`);
  }
});
