import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** Repository root, whatever the current directory. */
export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
/** Project-local tools (git-ignored): the FerretDB build lives here. */
export const toolsDir = path.join(repoRoot, '.tools');
/** Local data and logs (git-ignored). */
export const dataDir = path.join(repoRoot, '.data');
