// A TCP link in front of a real server whose upstream direction can be
// throttled, for tests that must catch a download mid-upload: the bytes
// still reach the real MinIO, only slower. Counts what it forwarded.
import { connect, createServer, type Server, type Socket } from 'node:net';
import { Transform } from 'node:stream';

export interface SlowLink {
  /** http://127.0.0.1:PORT, to use in place of the target's URL. */
  url: string;
  /** Bytes per second towards the target from now on; undefined: full speed. */
  throttle(bytesPerSecond: number | undefined): void;
  /** Bytes forwarded towards the target so far. */
  readonly upstreamBytes: number;
  close(): Promise<void>;
}

export async function startSlowLink(target: { host: string; port: number }): Promise<SlowLink> {
  let rate: number | undefined;
  let upstreamBytes = 0;
  const sockets = new Set<Socket>();
  const server: Server = createServer((client) => {
    const upstream = connect(target.port, target.host);
    sockets.add(client).add(upstream);
    const meter = new Transform({
      transform(chunk: Buffer, _encoding, callback) {
        // Pieces of at most a tenth of a second's worth, each after its share of time.
        const forward = (offset: number) => {
          if (offset >= chunk.length) return callback();
          const size = rate ? Math.max(1, Math.floor(rate / 10)) : chunk.length;
          const piece = chunk.subarray(offset, offset + size);
          upstreamBytes += piece.length;
          this.push(piece);
          if (rate) setTimeout(() => forward(offset + size), (piece.length / rate) * 1000);
          else forward(offset + size);
        };
        forward(0);
      },
    });
    client.pipe(meter).pipe(upstream);
    upstream.pipe(client);
    const close = () => {
      client.destroy();
      upstream.destroy();
      sockets.delete(client);
      sockets.delete(upstream);
    };
    for (const socket of [client, upstream]) {
      socket.on('error', close);
      socket.on('close', close);
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  return {
    url: `http://127.0.0.1:${port}`,
    throttle(bytesPerSecond) {
      rate = bytesPerSecond;
    },
    get upstreamBytes() {
      return upstreamBytes;
    },
    async close() {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
