// The egress proxy over real sockets on loopback: CONNECT (how yt-dlp
// reaches https sites) and plain http requests, allowed and refused.
import { createServer as createHttpServer, request } from 'node:http';
import { connect, createServer, type Server } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type EgressProxy, startEgressProxy } from './egress-proxy.ts';

let target: Server;
let targetPort: number;
let connections = 0;
let web: ReturnType<typeof createHttpServer>;
let webPort: number;
let open: EgressProxy;
let strict: EgressProxy;

const listen = (server: Server) =>
  new Promise<number>((resolve) =>
    server.listen(0, '127.0.0.1', () => resolve((server.address() as { port: number }).port)),
  );

beforeAll(async () => {
  target = createServer((socket) => {
    connections += 1;
    socket.end('hello from target');
  });
  targetPort = await listen(target);
  web = createHttpServer((_req, res) => res.end('web ok'));
  webPort = await listen(web);
  open = await startEgressProxy({ allowed: new Set([`127.0.0.1:${targetPort}`, `127.0.0.1:${webPort}`]) });
  strict = await startEgressProxy({ allowed: new Set() });
});
afterAll(async () => {
  await open.close();
  await strict.close();
  target.close();
  web.close();
});

function tunnel(proxy: EgressProxy, destination: string): Promise<string> {
  const { port } = new URL(proxy.url);
  return new Promise((resolve, reject) => {
    const socket = connect(Number(port), '127.0.0.1', () =>
      socket.write(`CONNECT ${destination} HTTP/1.1\r\nHost: ${destination}\r\n\r\n`),
    );
    let data = '';
    socket.on('data', (chunk) => {
      data += chunk.toString();
    });
    socket.on('end', () => resolve(data));
    socket.on('error', reject);
  });
}

function viaProxy(proxy: EgressProxy, url: string): Promise<{ status: number; body: string }> {
  const { port } = new URL(proxy.url);
  return new Promise((resolve, reject) => {
    const req = request(
      { host: '127.0.0.1', port: Number(port), path: url, headers: { host: new URL(url).host } },
      (res) => {
        let body = '';
        res.on('data', (c) => {
          body += c;
        });
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      },
    );
    req.on('error', reject);
    req.end();
  });
}

describe('egress proxy', () => {
  it('tunnels CONNECT to an allowed destination', async () => {
    const reply = await tunnel(open, `127.0.0.1:${targetPort}`);
    expect(reply).toMatch(/^HTTP\/1.1 200 Connection Established\r\n\r\nhello from target$/);
  });

  it.each(['127.0.0.1', 'localhost', '[::1]', '[::ffff:127.0.0.1]'])(
    'refuses CONNECT to %s without touching it',
    async (host) => {
      const before = connections;
      const reply = await tunnel(strict, `${host}:${targetPort}`);
      expect(reply).toMatch(/^HTTP\/1.1 403 Forbidden/);
      expect(connections).toBe(before);
      expect(strict.refusals.at(-1)).toMatch(
        /refused: 127\.0\.0\.1 is a loopback address$|refused: ::1 is a loopback address$/,
      );
    },
  );

  it('forwards plain http to allowed hosts and refuses internal ones', async () => {
    expect(await viaProxy(open, `http://127.0.0.1:${webPort}/x`)).toEqual({ status: 200, body: 'web ok' });
    const refused = await viaProxy(strict, `http://127.0.0.1:${webPort}/x`);
    expect(refused.status).toBe(403);
  });
});
