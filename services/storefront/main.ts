import { createLogger, createMetrics, Health, loadConfigOrExit, serveWithConfig } from '../kit/index.js';
import { storefrontConfigShape } from './config.js';
import { createStorefrontApp } from './app.js';

const config = loadConfigOrExit(storefrontConfigShape);
const logger = createLogger({ service: 'storefront', level: config.LOG_LEVEL });
const metrics = createMetrics('storefront');
const health = new Health();

const app = createStorefrontApp({ config, logger, metrics, health });
await serveWithConfig(config, { app, logger, health });
