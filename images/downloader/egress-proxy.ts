// A forward proxy inside the download pod through which yt-dlp makes every
// request. It resolves each host itself, refuses internal addresses (see
// address-policy.ts) and connects to the address it checked, so neither a
// redirect (a new request through the proxy) nor a DNS answer that changes
// between check and connect (rebinding) reaches an internal service. It
// also enforces the operator's host lists on the host yt-dlp asks for, which
// is how Python read the URL, whatever the API read.
import { lookup } from 'node:dns/promises';
import {
  createServer,
  request as httpRequest,
  type IncomingMessage,
  type Server,
  type ServerResponse,
} from 'node:http';
import { connect, isIP, type Socket } from 'node:net';
import { type HostLists, hostRefusal } from '../../crds/host-list.ts';
import { type AddressPolicy, refusal } from '../../lib/net/address-policy.ts';

export interface EgressProxy {
  url: string;
  /** Every refused destination, for the failure reason. */
  refusals: string[];
  close(): Promise<void>;
}

const noHostLists: HostLists = { allowHosts: [], denyHosts: [] };

/** A TCP port a connection can go to; anything else (0, 70000, 1.5) is the client's error. */
export function isPort(port: number): boolean {
  return Number.isInteger(port) && port >= 1 && port <= 65_535;
}

async function resolveAllowed(
  host: string,
  port: number,
  policy: AddressPolicy,
  hosts: HostLists,
): Promise<string> {
  const byName = hostRefusal(host, hosts);
  if (byName) throw new ForbiddenDestination(`${host}:${port} refused: ${byName}`);
  const bare = host.replace(/^\[|\]$/g, '');
  const addresses = isIP(bare)
    ? [bare]
    : (await lookup(bare, { all: true, verbatim: true })).map((a) => a.address);
  if (addresses.length === 0) throw new Error(`${host} has no address`);
  // Every answer must be allowed: a mixed answer is how rebinding attacks start.
  for (const address of addresses) {
    const why = refusal(address, port, policy);
    if (why) throw new ForbiddenDestination(`${host}:${port} refused: ${why}`);
  }
  return addresses[0] as string;
}

class ForbiddenDestination extends Error {
  override name = 'ForbiddenDestination';
}

export function startEgressProxy(
  policy: AddressPolicy,
  hosts: HostLists = noHostLists,
): Promise<EgressProxy> {
  const refusals: string[] = [];
  const refuse = (error: unknown) => {
    if (error instanceof ForbiddenDestination) refusals.push(error.message);
  };

  const server: Server = createServer((req: IncomingMessage, res: ServerResponse) => {
    let target: URL;
    try {
      target = new URL(req.url ?? '');
      if (target.protocol !== 'http:') throw new Error('only http:// is proxied without CONNECT');
    } catch {
      res.writeHead(400).end('absolute http URL required\n');
      return;
    }
    const port = Number(target.port || 80);
    if (!isPort(port)) {
      res.writeHead(400).end('port out of range\n');
      return;
    }
    resolveAllowed(target.hostname, port, policy, hosts).then(
      (address) => {
        const upstream = httpRequest(
          {
            host: address,
            port,
            method: req.method,
            path: `${target.pathname}${target.search}`,
            headers: { ...req.headers, host: target.host },
            // No pool: an upstream connection lives as long as its one request,
            // never idle at a source after yt-dlp is done with it.
            agent: false,
          },
          (upstreamResponse) => {
            res.writeHead(upstreamResponse.statusCode ?? 502, upstreamResponse.headers);
            upstreamResponse.pipe(res);
          },
        );
        upstream.on('error', (error) => res.destroy(error));
        // yt-dlp reads a probe's first bytes and hangs up: the source's connection goes with it
        // (pipe alone would only pause it, open until the pod exits).
        res.on('close', () => upstream.destroy());
        req.pipe(upstream);
      },
      (error: unknown) => {
        refuse(error);
        res
          .writeHead(403, { 'content-type': 'text/plain', 'x-vdl-egress': 'refused' })
          .end(`${String(error)}\n`);
      },
    );
  });

  server.on('connect', (req: IncomingMessage, client: Socket, head: Buffer) => {
    const match = /^(\[[^\]]+\]|[^:]+):(\d+)$/.exec(req.url ?? '');
    if (!match) {
      client.end('HTTP/1.1 400 Bad Request\r\n\r\n');
      return;
    }
    const [, host, portText] = match;
    const port = Number(portText);
    // net.connect throws on a port out of range; thrown in a callback, that would end the process.
    if (!isPort(port)) {
      client.end('HTTP/1.1 400 Bad Request\r\n\r\nport out of range\n');
      return;
    }
    client.on('error', () => client.destroy());
    resolveAllowed(host as string, port, policy, hosts)
      .then(
        (address) => {
          const upstream = connect(port, address, () => {
            client.write('HTTP/1.1 200 Connection Established\r\n\r\n');
            if (head.length > 0) upstream.write(head);
            upstream.pipe(client);
            client.pipe(upstream);
          });
          upstream.on('error', () => client.destroy());
          client.on('error', () => upstream.destroy());
          // Either side gone, the other goes too: no tunnel outlives its client.
          client.on('close', () => upstream.destroy());
          upstream.on('close', () => client.destroy());
        },
        (error: unknown) => {
          refuse(error);
          client.end(`HTTP/1.1 403 Forbidden\r\nx-vdl-egress: refused\r\n\r\n${String(error)}\n`);
        },
      )
      // Whatever else goes wrong is this one tunnel's failure, never the process's.
      .catch(() => client.destroy());
  });

  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      resolve({
        url: `http://127.0.0.1:${port}`,
        refusals,
        close: () =>
          new Promise((done) => {
            server.closeAllConnections();
            server.close(() => done());
          }),
      });
    });
  });
}
