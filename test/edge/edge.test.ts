import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { createKoaApp } from '../../services/kit/index.js';
import { isLoopback, startEdge, type Edge } from '../../scripts/lib/edge.js';
import { testObservability } from '../helpers/env.js';

const ADMIN = 'edge-admin-token-0123456789';
const portOf = (server: http.Server) => (server.address() as AddressInfo).port;

describe('local edge answers (issue 9, item 4)', () => {
  let upstream: http.Server;
  let edge: Edge;
  let closedEdge: Edge;
  let base: string;
  const obs = testObservability();

  before(async () => {
    const app = createKoaApp(obs);
    app.use((ctx) => {
      ctx.body = { seen: ctx.get('x-request-id') };
    });
    upstream = http.createServer(app.callback());
    await new Promise<void>((resolve) => upstream.listen(0, '127.0.0.1', resolve));
    const routes = [
      { service: 'things', prefixes: ['/api/things'], upstreams: [`http://127.0.0.1:${portOf(upstream)}`] },
      // Nothing listens there: never ready.
      { service: 'gone', prefixes: ['/api/gone'], upstreams: ['http://127.0.0.1:1'] },
    ];
    edge = await startEdge({ port: 0, routes, adminToken: ADMIN, healthIntervalMs: 60_000 });
    closedEdge = await startEdge({ port: 0, routes, adminToken: ADMIN, statusFromLoopback: false, healthIntervalMs: 60_000 });
    base = `http://127.0.0.1:${portOf(edge.server)}`;
  });
  after(async () => {
    await edge.close();
    await closedEdge.close();
    upstream.closeAllConnections();
    await new Promise<void>((resolve) => upstream.close(() => resolve()));
    obs.health.close();
  });

  const assertServiceHeaders = (response: Response) => {
    assert.equal(response.headers.get('x-content-type-options'), 'nosniff');
    assert.equal(response.headers.get('x-frame-options'), 'DENY');
    assert.match(response.headers.get('content-security-policy') ?? '', /default-src 'none'/);
    assert.match(response.headers.get('strict-transport-security') ?? '', /max-age=/);
    assert.ok(response.headers.get('x-request-id'));
  };

  test('when no service routes a path, then the edge\'s 404 carries the security headers and a request id', async () => {
    const response = await fetch(`${base}/nowhere`);
    assert.equal(response.status, 404);
    assertServiceHeaders(response);
    const body = (await response.json()) as { requestId: string };
    assert.equal(body.requestId, response.headers.get('x-request-id'));
  });

  test('when no replica is ready, then the edge\'s 503 carries the security headers and echoes the caller\'s request id', async () => {
    const response = await fetch(`${base}/api/gone/x`, { headers: { 'x-request-id': 'edge-test-503' } });
    assert.equal(response.status, 503);
    assertServiceHeaders(response);
    assert.equal(response.headers.get('x-request-id'), 'edge-test-503');
    assert.equal(response.headers.get('retry-after'), '1');
  });

  test('when a request is proxied, then the replica sees the edge\'s request id and answers with it', async () => {
    const response = await fetch(`${base}/api/things/1`, { headers: { 'x-request-id': 'bad id with spaces' } });
    assert.equal(response.status, 200);
    const id = response.headers.get('x-request-id') ?? '';
    assert.match(id, /^[0-9a-f-]{36}$/);
    assert.equal(((await response.json()) as { seen: string }).seen, id);
  });

  test('when /edge/status is asked without loopback trust, then only the admin token opens it', async () => {
    const closedBase = `http://127.0.0.1:${portOf(closedEdge.server)}`;
    for (const path of ['/edge/status', '/']) {
      const anonymous = await fetch(`${closedBase}${path}`);
      assert.equal(anonymous.status, 404);
      assert.doesNotMatch(await anonymous.text(), /127\.0\.0\.1/);
      assert.equal((await fetch(`${closedBase}${path}`, { headers: { authorization: 'Bearer wrong-token-0123456789' } })).status, 404);
    }
    const admin = await fetch(`${closedBase}/edge/status`, { headers: { authorization: `Bearer ${ADMIN}` } });
    assert.equal(admin.status, 200);
    assertServiceHeaders(admin);
    const loopback = await fetch(`${base}/edge/status`);
    assert.equal(loopback.status, 200);
  });

  test('loopback means 127.0.0.0/8 and ::1, also IPv4-mapped; nothing else', () => {
    for (const address of ['127.0.0.1', '127.1.2.3', '::1', '::ffff:127.0.0.1']) assert.equal(isLoopback(address), true, address);
    for (const address of ['10.0.0.1', '192.0.2.2', '::ffff:10.0.0.1', '128.0.0.1', 'fe80::1', undefined]) assert.equal(isLoopback(address), false, String(address));
  });
});
