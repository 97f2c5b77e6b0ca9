/**
 * `npm start`'s control channel for chaos tooling: a loopback-only HTTP server
 * on an ephemeral port, announced in `.data/dev/control.json` ({ url, pid }).
 *   GET  /replicas                      replicas with current pid and readiness (edge's view)
 *   GET  /data                          data-tier components that can be faulted
 *   POST /signal {service,index,signal} SIGTERM or SIGKILL one replica (the supervisor restarts it)
 *   POST /fault  {component,downMs}     stop redis|postgres|ferretdb, start it again after downMs; answers when it is back
 */
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { z } from 'zod';
import type { DataComponent, Platform } from '../platform.js';

export interface ControlServer {
  url: string;
  close(): Promise<void>;
}

const signalBody = z.object({ service: z.string().min(1).max(40), index: z.number().int().min(0).max(16), signal: z.enum(['SIGTERM', 'SIGKILL']) }).strict();
const faultBody = z.object({ component: z.enum(['redis', 'postgres', 'ferretdb']), downMs: z.number().int().min(0).max(120_000) }).strict();

function send(res: http.ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json', 'cache-control': 'no-store' });
  res.end(JSON.stringify(body));
}

async function readJson(req: http.IncomingMessage): Promise<unknown> {
  let text = '';
  for await (const chunk of req) {
    text += String(chunk);
    if (text.length > 10_000) throw new Error('body too large');
  }
  return JSON.parse(text || '{}');
}

/** Starts the control server on 127.0.0.1 and writes `file`; close() removes the file. */
export async function startControlServer(platform: Pick<Platform, 'replicas' | 'faultable' | 'fault' | 'supervisor'>, file: string): Promise<ControlServer> {
  const server = http.createServer((req, res) => {
    void (async () => {
      try {
        if (req.method === 'GET' && req.url === '/replicas') return send(res, 200, { replicas: platform.replicas() });
        if (req.method === 'GET' && req.url === '/data') return send(res, 200, { components: platform.faultable() });
        if (req.method === 'POST' && req.url === '/signal') {
          const parsed = signalBody.safeParse(await readJson(req));
          if (!parsed.success) return send(res, 400, { error: 'bad_request', fields: parsed.error.issues.map((i) => `body.${i.path.join('.')}`) });
          const { service, index, signal } = parsed.data;
          return send(res, 200, { sent: platform.supervisor.signal(service, index, signal) });
        }
        if (req.method === 'POST' && req.url === '/fault') {
          const parsed = faultBody.safeParse(await readJson(req));
          if (!parsed.success) return send(res, 400, { error: 'bad_request', fields: parsed.error.issues.map((i) => `body.${i.path.join('.')}`) });
          await platform.fault(parsed.data.component as DataComponent, parsed.data.downMs);
          return send(res, 200, { restarted: parsed.data.component });
        }
        send(res, 404, { error: 'not_found' });
      } catch (error) {
        send(res, 500, { error: (error as Error).message });
      }
    })();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  fs.writeFileSync(file, JSON.stringify({ url, pid: process.pid }, null, 2));
  return {
    url,
    async close() {
      fs.rmSync(file, { force: true });
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
