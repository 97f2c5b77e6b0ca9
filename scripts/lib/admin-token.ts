import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { dataDir } from './paths.js';

export const adminTokenFile = path.join(dataDir, 'dev', 'admin-token');

/**
 * The local admin token: ADMIN_TOKEN when set, else a random one made once and
 * kept in .data/dev/admin-token (mode 600). Services have no default for it.
 */
export function localAdminToken(): string {
  if (process.env.ADMIN_TOKEN) return process.env.ADMIN_TOKEN;
  if (fs.existsSync(adminTokenFile)) return fs.readFileSync(adminTokenFile, 'utf8').trim();
  fs.mkdirSync(path.dirname(adminTokenFile), { recursive: true });
  const token = randomBytes(24).toString('hex');
  fs.writeFileSync(adminTokenFile, `${token}\n`, { mode: 0o600 });
  return token;
}
