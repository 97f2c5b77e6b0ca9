import fs from 'node:fs';
import { hasCommand, run } from './procs.js';

const CANDIDATES = ['/usr/bin/chromium', '/usr/bin/chromium-browser'];

/**
 * Debian's Chromium for the browser test (playwright-core drives it; no browser
 * download works here): found, or installed with apt when we are root.
 */
export function ensureChromium(log: (line: string) => void = console.log): string {
  const found = CANDIDATES.find((p) => fs.existsSync(p));
  if (found) return found;
  if (process.getuid?.() !== 0 || !hasCommand('apt-get')) throw new Error('cannot install Chromium for the browser test: apt-get as root is not available; install Debian\'s chromium package');
  log('installing chromium from Debian packages (once, for the browser test)');
  run('apt-get', ['update', '-qq'], { quiet: true });
  run('apt-get', ['install', '-y', '-qq', '--no-install-recommends', 'chromium'], { quiet: true, env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } });
  const installed = CANDIDATES.find((p) => fs.existsSync(p));
  if (!installed) throw new Error('chromium was installed but /usr/bin/chromium is missing');
  return installed;
}

/** Flags for a headless Chromium on a machine with no network but loopback (no first-run, sync or component traffic). */
export const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--disable-dev-shm-usage'];
