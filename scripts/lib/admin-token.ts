import { createHash, randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { dataDir } from './paths.js';

const secretsDir = path.join(dataDir, 'dev');

export const adminTokenFile = path.join(secretsDir, 'admin-token');

/** The secrets the local stack makes, one file each; the same keys as the cluster's Secret (docs/kubernetes.md). */
export const LOCAL_SECRETS = ['ADMIN_TOKEN', 'INTERNAL_TOKEN', 'CUSTOMER_TOKEN_SECRET'] as const;
export type LocalSecret = (typeof LOCAL_SECRETS)[number];

/** `.data/dev/admin-token`, `.data/dev/internal-token`, ... */
export const localSecretFile = (name: LocalSecret) => path.join(secretsDir, name.toLowerCase().replaceAll('_', '-'));

/**
 * A local secret: the environment variable when set, else a random value made
 * once and kept in its file (mode 600). Each secret is separate (issue 9, item
 * 9): a cart holding the service token cannot act as an admin.
 */
export function localSecret(name: LocalSecret): string {
  const fromEnv = process.env[name];
  if (fromEnv) return fromEnv;
  const file = localSecretFile(name);
  if (fs.existsSync(file)) return fs.readFileSync(file, 'utf8').trim();
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const value = randomBytes(24).toString('hex');
  fs.writeFileSync(file, `${value}\n`, { mode: 0o600 });
  return value;
}

/** The local admin token (ADMIN_TOKEN or .data/dev/admin-token). Services have no default for it. */
export function localAdminToken(): string {
  return localSecret('ADMIN_TOKEN');
}

/**
 * Every local secret as the env vars services read: the service token is
 * INTERNAL_TOKEN at inventory and INVENTORY_TOKEN (and CATALOG's) at its callers.
 * The admin token itself goes to no service, as in the manifests: they only
 * verify it, so they get ADMIN_TOKEN_SHA256; seed, load and the operator use
 * the token from `.data/dev/admin-token`.
 */
export function localSecretsEnv(): Record<string, string> {
  const internal = localSecret('INTERNAL_TOKEN');
  const adminSha256 = createHash('sha256').update(localSecret('ADMIN_TOKEN')).digest('hex');
  return { ADMIN_TOKEN_SHA256: adminSha256, INTERNAL_TOKEN: internal, INVENTORY_TOKEN: internal, CUSTOMER_TOKEN_SECRET: localSecret('CUSTOMER_TOKEN_SECRET') };
}
