/**
 * The benchmark's baseline: a bare Koa app answering one route with a fixed
 * JSON body (the same bytes the catalog returns), in its own process like a
 * catalog replica. What the catalog costs on top of this is the platform's price.
 */
import fs from 'node:fs';
import http from 'node:http';
import Koa from 'koa';

const body = JSON.parse(fs.readFileSync(process.env.BENCH_BODY_FILE ?? '', 'utf8')) as unknown;
const app = new Koa();
app.use((ctx) => {
  ctx.body = body;
});
http.createServer(app.callback()).listen(Number(process.env.PORT), '127.0.0.1', () => process.stdout.write('ready\n'));
process.once('SIGTERM', () => process.exit(0));
