// Waiting for a server to say it is ready: poll its health endpoint until it
// answers 200 or the deadline passes, failing early when its process died.
import { readFile } from 'node:fs/promises';
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { createServer } from 'node:net';
import { setTimeout as delay } from 'node:timers/promises';
import type { ManagedProcess } from './managed-process.ts';

export interface TlsClient {
  ca?: Buffer;
  cert?: Buffer;
  key?: Buffer;
  /** Off only for components that serve a self-signed certificate on loopback. */
  rejectUnauthorized?: boolean;
}

/** One GET; resolves with status and body, rejects on connection errors. */
export function httpGet(
  url: string,
  tls: TlsClient = {},
  timeoutMs = 5_000,
): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const request = (url.startsWith('https:') ? httpsRequest : httpRequest)(
      url,
      { method: 'GET', timeout: timeoutMs, ...tls },
      (response) => {
        let body = '';
        response.setEncoding('utf8');
        response.on('data', (chunk: string) => {
          body += chunk;
        });
        response.on('end', () => resolve({ status: response.statusCode ?? 0, body }));
        response.on('error', reject);
      },
    );
    request.on('timeout', () => request.destroy(new Error(`GET ${url} timed out after ${timeoutMs} ms`)));
    request.on('error', reject);
    request.end();
  });
}

export async function tailOf(file: string, lines = 30): Promise<string> {
  try {
    return (await readFile(file, 'utf8')).split('\n').slice(-lines).join('\n');
  } catch {
    return '(no log)';
  }
}

/** Polls url until it answers 200; the error names what was last seen and shows the log's tail. */
export async function waitForHealthy(
  process: ManagedProcess,
  url: string,
  { tls = {}, timeoutMs = 60_000 }: { tls?: TlsClient; timeoutMs?: number } = {},
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let lastSeen = 'no answer yet';
  while (Date.now() < deadline) {
    if (process.exit !== undefined) {
      throw new Error(
        `${process.name} ${process.exit} before ${url} was ready:\n${await tailOf(process.logFile)}`,
      );
    }
    try {
      const { status, body } = await httpGet(url, tls, 2_000);
      if (status === 200) return;
      lastSeen = `HTTP ${status}: ${body.slice(0, 500)}`;
    } catch (error) {
      lastSeen = (error as Error).message;
    }
    await delay(100);
  }
  throw new Error(
    `${process.name} not ready at ${url} within ${timeoutMs} ms; last seen: ${lastSeen}\n${await tailOf(process.logFile)}`,
  );
}

function bindable(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.unref();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}

/**
 * A port that was free a moment ago on 127.0.0.1, chosen below Linux's
 * ephemeral range (32768-60999): outgoing connections take their local ports
 * from that range, so between this check and a server's bind one of them
 * could otherwise take the port.
 */
export async function freePort(): Promise<number> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const port = 20_000 + Math.floor(Math.random() * 12_000);
    if (await bindable(port)) return port;
  }
  throw new Error('no free port found between 20000 and 32000');
}
