/**
 * `npm run chaos -- --help`: kill pods or local replicas on a schedule, with a
 * blast radius, an opt-out label, a dry run and an abort on a failing probe.
 */
import fs from 'node:fs';
import path from 'node:path';
import { runChaos, type ChaosBackend } from './lib/chaos/engine.js';
import { CHAOS_HELP, parseChaosArgs } from './lib/chaos/options.js';
import { httpControl, localBackend } from './lib/chaos/local.js';
import { dataDir } from './lib/paths.js';

async function main(): Promise<number> {
  const offset = Number(process.env.STACK_PORT_OFFSET ?? 0);
  const cli = parseChaosArgs(process.argv.slice(2), `http://127.0.0.1:${8080 + offset}/api/catalog/products?limit=1`);
  if (cli === 'help') {
    console.log(CHAOS_HELP);
    return 0;
  }
  let backend: ChaosBackend;
  if (cli.mode === 'kubernetes') {
    const { kubeBackend } = await import('./lib/chaos/kube.js');
    backend = kubeBackend(cli.namespace, cli.selectorText);
  } else {
    backend = localBackend(httpControl(path.join(dataDir, 'dev', 'control.json')));
  }
  const targets = await backend.list();
  console.log(`chaos: ${cli.mode} mode, ${targets.length} targets (${[...new Set(targets.map((t) => t.workload))].join(', ')}), every ${cli.options.intervalMs / 1000} s ± ${cli.options.jitter * 100} %, ${cli.options.durationMs / 1000} s${cli.options.dryRun ? ', DRY RUN: nothing will be done' : ''}`);
  const controller = new AbortController();
  process.once('SIGINT', () => controller.abort());
  const result = await runChaos(backend, { ...cli.options, log: (line) => console.log(line), signal: controller.signal });
  const max = result.recoveries.length ? Math.max(...result.recoveries).toFixed(1) : '-';
  console.log(`\nchaos done: ${result.kills} actions, ${result.refusals} refused, ${result.unrecovered} not recovered, max recovery ${max} s${result.aborted ? `; ABORTED: ${result.aborted}` : ''}`);
  if (cli.out) {
    fs.mkdirSync(path.dirname(path.resolve(cli.out)), { recursive: true });
    fs.writeFileSync(cli.out, JSON.stringify(result, null, 2));
    console.log(`events written to ${cli.out}`);
  }
  return result.aborted ? 2 : 0;
}

main().then(
  (code) => process.exit(code),
  (error: Error) => {
    console.error(`chaos: ${error.message}`);
    process.exit(1);
  },
);
