import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { z } from 'zod';
import { baseConfigShape, ConfigError, loadConfig } from '../../services/kit/index.js';

const valid = { MONGODB_URI: 'mongodb://127.0.0.1:27017/shop', REDIS_URL: 'redis://127.0.0.1:6379' };

test('when the environment is valid, then defaults fill the rest and the result is frozen', () => {
  const config = loadConfig(baseConfigShape, valid);
  assert.equal(config.PORT, 8080);
  assert.equal(config.SHUTDOWN_DELAY_MS, 5_000);
  assert.ok(Object.isFrozen(config));
});

test('when variables are missing or malformed, then one error names each of them', () => {
  assert.throws(
    () => loadConfig({ ...baseConfigShape, EXTRA: z.coerce.number().int() }, { MONGODB_URI: 'http://nope', PORT: 'eighty', EXTRA: '1' }),
    (error: Error) => {
      assert.ok(error instanceof ConfigError);
      assert.match(error.message, /MONGODB_URI must be a mongodb:\/\//);
      assert.match(error.message, /REDIS_URL is required/);
      assert.match(error.message, /PORT /);
      assert.doesNotMatch(error.message, /\n/);
      return true;
    },
  );
});

test('when a service starts with bad config, then it exits 1 with one line naming the variable', () => {
  const result = spawnSync(process.execPath, ['--import', 'tsx', 'services/main.ts'], {
    env: { PATH: process.env.PATH, SERVICE: 'catalog', MONGODB_URI: valid.MONGODB_URI, REDIS_URL: valid.REDIS_URL, ADMIN_TOKEN: 'short' },
    encoding: 'utf8',
    timeout: 20_000,
  });
  assert.equal(result.status, 1);
  assert.equal(result.stderr.trim().split('\n').length, 1);
  assert.match(result.stderr, /ADMIN_TOKEN must be at least 16 characters/);
});

test('when SERVICE names no service, then main exits 1 naming SERVICE', () => {
  const result = spawnSync(process.execPath, ['--import', 'tsx', 'services/main.ts'], { env: { PATH: process.env.PATH, SERVICE: 'nope' }, encoding: 'utf8', timeout: 20_000 });
  assert.equal(result.status, 1);
  assert.match(result.stderr, /SERVICE must be one of/);
});
