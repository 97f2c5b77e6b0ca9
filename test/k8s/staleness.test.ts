/** The committed k8s/ must be exactly what `npm run synth` writes today. */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadEnvironments, writeAll } from '../../charts-ts/synth.js';
import { K8S_DIR } from './manifests.js';

async function tree(root: string): Promise<Map<string, string>> {
  const files = new Map<string, string>();
  for (const f of (await readdir(root, { recursive: true, withFileTypes: true })).filter((e) => e.isFile())) {
    const name = join(f.parentPath, f.name).slice(root.length).replace(/^\//, '');
    files.set(name, await readFile(join(root, name), 'utf8'));
  }
  return new Map([...files].sort(([a], [b]) => a.localeCompare(b)));
}

describe('committed k8s/', () => {
  test('when synthesized fresh into a temp dir, then every file matches the committed one byte for byte', async () => {
    const out = await mkdtemp(join(tmpdir(), 'k8s-synth-'));
    try {
      // No IMAGE override: the committed YAML reflects the settings files.
      await writeAll(out, await loadEnvironments());
      const fresh = await tree(out);
      const committed = await tree(K8S_DIR);
      assert.deepEqual([...committed.keys()], [...fresh.keys()], 'file list differs: run `npm run synth` and commit k8s/');
      for (const [name, text] of fresh) {
        assert.equal(committed.get(name), text, `${name} is stale: run \`npm run synth\` and commit k8s/`);
      }
    } finally {
      await rm(out, { recursive: true, force: true });
    }
  });

  test('when synthesized twice, then the output is identical (deterministic)', async () => {
    const [a, b] = [await mkdtemp(join(tmpdir(), 'k8s-a-')), await mkdtemp(join(tmpdir(), 'k8s-b-'))];
    try {
      const envs = await loadEnvironments();
      await writeAll(a, envs);
      await writeAll(b, envs);
      assert.deepEqual(await tree(a), await tree(b));
    } finally {
      await Promise.all([a, b].map((d) => rm(d, { recursive: true, force: true })));
    }
  });
});

describe('YAML read as kubectl reads it', () => {
  // kubectl parses YAML 1.1, where a bare `yes`, `on` or `no` is a boolean: an
  // arg like `--appendonly yes` must be quoted or the API server rejects the object.
  test('when every committed file is parsed as YAML 1.1 and as 1.2, then both give the same values', async () => {
    const { parseAllDocuments } = await import('yaml');
    const committed = await tree(K8S_DIR);
    assert.ok(committed.size > 0);
    for (const [name, text] of committed) {
      const as11 = parseAllDocuments(text, { version: '1.1' }).map((d) => d.toJS());
      const as12 = parseAllDocuments(text, { version: '1.2' }).map((d) => d.toJS());
      assert.deepEqual(as11, as12, `${name} means something else to kubectl (YAML 1.1)`);
    }
  });
});
