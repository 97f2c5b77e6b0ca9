/**
 * The platform kit: what every service shares. Import from here only
 * (`import { createKoaApp } from '../kit/index.js'`).
 */
export * from './config.js';
export * from './log.js';
export * from './errors.js';
export * from './validate.js';
export * from './metrics.js';
export * from './health.js';
export * from './middleware.js';
export * from './app.js';
export * from './server.js';
export * from './mongo.js';
export * from './redis.js';
export * from './cache.js';
export * from './cache-fill.js';
export * from './clock.js';
export * from './auth.js';
export * from './http-client.js';
export * from './timeout.js';
export * from './sweeper.js';
export * from './lock.js';
export * from './guarded-write.js';
export * from './time-buckets.js';
export * from './customer-token.js';
export * from './openapi.js';
export * from './customer-session.js';
export * from './attempt-limit.js';
export * from './cors.js';
export * from './protection/index.js';
export * from './idempotency.js';
export * from './queue.js';
