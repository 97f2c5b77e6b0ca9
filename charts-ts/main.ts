/**
 * `npm run synth [-- <outDir>]`: writes k8s/<env>/*.yaml for every file in environments/.
 * `IMAGE=registry/shop:1.2.3 npm run synth` overrides the image of every environment
 * (CI pins the built digest this way); the committed YAML uses the settings' image.
 */
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadEnvironments, writeAll } from './synth.js';

const defaultOut = fileURLToPath(new URL('../k8s', import.meta.url));
const outRoot = resolve(process.argv[2] ?? defaultOut);
const image = process.env.IMAGE || undefined;

const written = await writeAll(outRoot, await loadEnvironments(), { image });
for (const [env, files] of written) console.log(`${env}: ${files.length} files in ${resolve(outRoot, env)}`);
