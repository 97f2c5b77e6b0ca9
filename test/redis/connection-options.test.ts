/** Kit Redis configuration: a single URL or Sentinel, from the same env (docs/redis-failover.md). */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { baseConfigShape, ConfigError, loadConfig, redisConnectionOptions } from '../../services/kit/index.js';

const base = { MONGODB_URI: 'mongodb://127.0.0.1:27017/shop', REDIS_URL: 'redis://:from-url@redis.example:6380/2' };

describe('Redis connection options', () => {
  test('when only REDIS_URL is set, then the client connects to its host, port, db and password', () => {
    const options = redisConnectionOptions(loadConfig(baseConfigShape, base));
    assert.deepEqual([options.host, options.port, options.db, options.password, options.sentinels], ['redis.example', 6380, 2, 'from-url', undefined]);
  });
  test('when REDIS_SENTINELS is set, then the client asks those sentinels for the named primary and keeps the URL credentials and db', () => {
    const config = loadConfig(baseConfigShape, { ...base, REDIS_SENTINELS: 'redis-0.redis:26379,10.0.0.7:26380', REDIS_SENTINEL_NAME: 'shop', REDIS_SENTINEL_PASSWORD: 'sentinel-secret' });
    const options = redisConnectionOptions(config);
    assert.deepEqual(options.sentinels, [{ host: 'redis-0.redis', port: 26379 }, { host: '10.0.0.7', port: 26380 }]);
    assert.deepEqual([options.name, options.db, options.password, options.sentinelPassword, options.host], ['shop', 2, 'from-url', 'sentinel-secret', undefined]);
  });
  test('when REDIS_PASSWORD is set, then it overrides the password in REDIS_URL', () => {
    assert.equal(redisConnectionOptions(loadConfig(baseConfigShape, { ...base, REDIS_PASSWORD: 'override' })).password, 'override');
  });
  test('when REDIS_SENTINELS is not a host:port list, then config loading names the variable', () => {
    assert.throws(() => loadConfig(baseConfigShape, { ...base, REDIS_SENTINELS: 'redis-0.redis' }), (error: Error) => error instanceof ConfigError && /REDIS_SENTINELS must be host:port/.test(error.message));
  });
});
