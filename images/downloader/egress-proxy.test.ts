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
let listed: EgressProxy;
let denied: EgressProxy;

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
  // The addresses are allowed; only the operator's host lists stand in the way.
  const reachable = { allowed: new Set([`127.0.0.1:${targetPort}`, `127.0.0.1:${webPort}`]) };
  listed = await startEgressProxy(reachable, { allowHosts: ['example.com'], denyHosts: [] });
  denied = await startEgressProxy(reachable, { allowHosts: ['127.0.0.1'], denyHosts: ['127.0.0.1'] });
});
afterAll(async () => {
  await open.close();
  await strict.close();
  await listed.close();
  await denied.close();
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

describe('egress proxy host lists', () => {
  it('refuses CONNECT and plain http to a host outside the allow-list, without touching it', async () => {
    const before = connections;
    expect(await tunnel(listed, `127.0.0.1:${targetPort}`)).toMatch(/^HTTP\/1.1 403 Forbidden/);
    expect(connections).toBe(before);
    expect(listed.refusals.at(-1)).toBe(
      `127.0.0.1:${targetPort} refused: host 127.0.0.1 is not in the allowed list`,
    );
    expect((await viaProxy(listed, `http://127.0.0.1:${webPort}/x`)).status).toBe(403);
  });

  it('lets a listed host through, and the deny list wins over the allow list', async () => {
    const allowedOnly = await startEgressProxy(
      { allowed: new Set([`127.0.0.1:${targetPort}`]) },
      { allowHosts: ['127.0.0.1'], denyHosts: [] },
    );
    try {
      expect(await tunnel(allowedOnly, `127.0.0.1:${targetPort}`)).toMatch(/^HTTP\/1.1 200 /);
    } finally {
      await allowedOnly.close();
    }
    expect(await tunnel(denied, `127.0.0.1:${targetPort}`)).toMatch(/^HTTP\/1.1 403 Forbidden/);
    expect(denied.refusals.at(-1)).toMatch(/host 127\.0\.0\.1 is not allowed$/);
  });
});

describe('egress proxy ports', () => {
  const badPorts = ['70000', '0', '65536', '99999999999999999999'];
  let anyPort: EgressProxy;
  // Every address here passes the address policy, as a public host would: only the port is wrong.
  beforeAll(async () => {
    const endpoints = [...badPorts.map((port) => Number(port)), targetPort].map(
      (port) => `127.0.0.1:${port}`,
    );
    anyPort = await startEgressProxy({ allowed: new Set(endpoints) });
  });
  afterAll(() => anyPort.close());

  it.each(badPorts)('answers CONNECT to port %s with 400 and keeps serving', async (port) => {
    expect(await tunnel(anyPort, `127.0.0.1:${port}`)).toMatch(/^HTTP\/1.1 400 Bad Request/);
    expect(await tunnel(anyPort, `127.0.0.1:${targetPort}`)).toMatch(/^HTTP\/1.1 200 Connection Established/);
  });
});

describe('egress proxy: no source connection outlives its client', () => {
  /** A source that sends the start of an endless body and reports when its connection closes. */
  async function endlessSource() {
    let closed!: () => void;
    const connectionClosed = new Promise<void>((resolve) => {
      closed = resolve;
    });
    const http = createHttpServer((req, res) => {
      req.socket.once('close', closed);
      res.writeHead(200, { 'content-type': 'video/mp4' });
      res.write(Buffer.alloc(64 * 1024, 1));
    });
    const raw = createServer((socket) => {
      socket.once('close', closed);
      socket.write(Buffer.alloc(64 * 1024, 1));
    });
    return { http, raw, connectionClosed };
  }

  it('closes the source connection when the client hangs up mid-body (plain http)', async () => {
    const source = await endlessSource();
    const port = await listen(source.http);
    const proxy = await startEgressProxy({ allowed: new Set([`127.0.0.1:${port}`]) });
    try {
      const received = new Promise<number>((resolve, reject) => {
        const req = request(
          {
            host: '127.0.0.1',
            port: Number(new URL(proxy.url).port),
            path: `http://127.0.0.1:${port}/video.mp4`,
            headers: { host: `127.0.0.1:${port}` },
          },
          // As yt-dlp's probe does: read the first bytes, then hang up.
          (res) =>
            res.once('data', (chunk: Buffer) => {
              resolve(chunk.length);
              req.destroy();
            }),
        );
        req.on('error', () => {});
        req.on('close', () => reject(new Error('closed before any byte')));
        req.end();
      });
      expect(await received).toBeGreaterThan(0);
      // Without the fix this never resolves: the proxy only paused the source's response.
      await source.connectionClosed;
    } finally {
      source.http.closeAllConnections();
      source.http.close();
      await proxy.close();
    }
  });

  it('closes the tunnel to the source when the client hangs up (CONNECT)', async () => {
    const source = await endlessSource();
    const port = await listen(source.raw);
    const proxy = await startEgressProxy({ allowed: new Set([`127.0.0.1:${port}`]) });
    try {
      const socket = connect(Number(new URL(proxy.url).port), '127.0.0.1', () =>
        socket.write(`CONNECT 127.0.0.1:${port} HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\n\r\n`),
      );
      socket.on('error', () => {});
      let received = 0;
      await new Promise<void>((resolve) =>
        socket.on('data', (chunk: Buffer) => {
          received += chunk.length;
          // Past the "200 Connection Established" head: the source's bytes are arriving.
          if (received > 1024) resolve();
        }),
      );
      socket.destroy();
      await source.connectionClosed;
      expect(received).toBeGreaterThan(1024);
    } finally {
      source.raw.close();
      await proxy.close();
    }
  });
});
