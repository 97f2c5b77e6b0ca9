/** Edge protection: client key, bots, route classes, rate limits, admission control, cache policy. */
export * from './config.js';
export * from './client-key.js';
export * from './bots.js';
export * from './route-class.js';
export * from './rate-limit.js';
export * from './admission.js';
export * from './cache-policy.js';
export * from './refusal-log.js';
export * from './edge.js';
