// A loopback TCP proxy that can be told to hang: it keeps every connection
// open but forwards nothing more, as a half-dead network path does, so a
// client's request on a kept-alive connection waits instead of failing.
import { connect, createServer, type Socket } from 'node:net';

export interface TcpProxy {
  /** host:port of the proxy, on 127.0.0.1. */
  port: number;
  /** From now on, forward no byte in either direction, and accept but never connect new clients. */
  hang(): void;
  close(): Promise<void>;
}

export async function startTcpProxy(target: { host: string; port: number }): Promise<TcpProxy> {
  let hung = false;
  const sockets = new Set<Socket>();
  const track = (socket: Socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => socket.destroy());
  };
  const server = createServer((client) => {
    track(client);
    if (hung) return;
    const upstream = connect(target.port, target.host);
    track(upstream);
    client.on('data', (chunk) => void (hung || upstream.write(chunk)));
    upstream.on('data', (chunk) => void (hung || client.write(chunk)));
    // Ends pass through until the hang; after it, the connection stays open and silent.
    client.on('end', () => hung || upstream.end());
    upstream.on('end', () => hung || client.end());
    client.on('close', () => hung || upstream.destroy());
    upstream.on('close', () => hung || client.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  if (!address || typeof address === 'string') throw new Error('the proxy has no TCP address');
  return {
    port: address.port,
    hang() {
      hung = true;
    },
    async close() {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
