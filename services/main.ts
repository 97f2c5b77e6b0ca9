/**
 * The image's one entry point: `SERVICE=<name> node dist/services/main.js`
 * runs services/<name>/main.ts. One image, every service (see Dockerfile).
 */
const SERVICES = ['catalog', 'inventory', 'cart', 'checkout', 'fulfillment', 'customers', 'support', 'storefront'] as const;

const name = process.env.SERVICE ?? process.argv[2];
if (!name || !(SERVICES as readonly string[]).includes(name)) {
  process.stderr.write(`invalid configuration: SERVICE must be one of ${SERVICES.join(', ')} (got ${name ?? 'nothing'})\n`);
  process.exit(1);
}
await import(`./${name}/main.js`);
