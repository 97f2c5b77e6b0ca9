/**
 * `npm run profile:summary -- <file.cpuprofile> [top]`: where a V8 CPU profile's
 * time went, by area (npm package, Node.js module, our file, GC) and by function.
 */
import { formatSummary, summarizeProfileFile } from './lib/cpu-profile.js';

const [file, top] = process.argv.slice(2);
if (!file || file === '--help') {
  console.log('usage: npm run profile:summary -- <file.cpuprofile> [top=15]\n  profiles come from `BENCH_CPU_PROFILE=1 npm run bench` (reports/profiles/) or `node --cpu-prof`');
  process.exit(file ? 0 : 2);
}
console.log(formatSummary(file, summarizeProfileFile(file, top ? Number(top) : 15)));
