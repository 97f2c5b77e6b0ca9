/**
 * `npm run load -- --help`: shopper sessions against the platform at a fixed
 * arrival rate, with a live progress line, a summary table and a JSON file.
 */
import fs from 'node:fs';
import path from 'node:path';
import { localAdminToken } from './lib/admin-token.js';
import { demoCategories } from './lib/demo-catalog.js';
import { repoRoot } from './lib/paths.js';
import { loadProducts } from './lib/load/catalog.js';
import { LOAD_HELP, parseLoadArgs } from './lib/load/options.js';
import { formatLoad, runLoad } from './lib/load/runner.js';

async function main(): Promise<number> {
  const offset = Number(process.env.STACK_PORT_OFFSET ?? 0);
  const cli = parseLoadArgs(process.argv.slice(2), `http://127.0.0.1:${8080 + offset}`);
  if (cli === 'help') {
    console.log(LOAD_HELP);
    return 0;
  }
  const log = (line: string) => console.log(`${new Date().toISOString().slice(11, 19)} ${line}`);
  try {
    await fetch(cli.baseUrl, { signal: AbortSignal.timeout(3_000) });
  } catch {
    throw new Error(`nothing answers at ${cli.baseUrl}: start the platform first (\`npm start\`) or pass --base-url`);
  }
  const products = await loadProducts(cli.baseUrl, { adminToken: localAdminToken(), seedCount: cli.seed, log });
  log(`load: ${cli.rps} ops/s for ${cli.durationMs / 1000} s against ${cli.baseUrl}, ${products.length} products (${products.filter((p) => p.limited).length} limited)`);
  const controller = new AbortController();
  process.once('SIGINT', () => controller.abort());
  const tty = process.stdout.isTTY;
  const result = await runLoad({
    ...cli,
    products,
    categories: demoCategories.map((c) => c.slug),
    log,
    signal: controller.signal,
    progress: (line) => (tty ? process.stdout.write(`\r\x1b[2K${line}`) : Math.round(Date.now() / 1000) % 5 === 0 && log(line)),
  });
  if (tty) process.stdout.write('\n');
  console.log(`\n${formatLoad(result)}`);
  if (result.checkout.available) console.log(`  checkout: ${result.checkout.acknowledged.length} orders acknowledged, ${result.checkout.declined} declined, ${result.checkout.failures.length} failed after retries`);
  const out = cli.out ?? path.join(repoRoot, 'reports', 'load', `${new Date().toISOString().replace(/[:.]/g, '-')}.json`);
  fs.mkdirSync(path.dirname(out), { recursive: true });
  fs.writeFileSync(out, JSON.stringify(result, null, 2));
  console.log(`  results: ${path.relative(process.cwd(), out)}`);
  return 0;
}

main().then(
  (code) => process.exit(code),
  (error: Error) => {
    console.error(`load: ${error.message}`);
    process.exit(1);
  },
);
