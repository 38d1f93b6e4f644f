// /healthz (the process runs), /readyz (caches synced and watching) and
// /metrics (Prometheus) on one small HTTP server.
import { createServer, type Server } from 'node:http';
import type { Registry } from 'prom-client';

export interface HealthSource {
  ready(): boolean;
  details(): unknown;
  registry: Registry;
}

export function startHealthServer(source: HealthSource, host: string, port: number): Promise<Server> {
  const server = createServer(async (request, response) => {
    const path = (request.url ?? '/').split('?')[0];
    if (path === '/healthz') {
      response.writeHead(200, { 'content-type': 'text/plain' }).end('ok\n');
    } else if (path === '/readyz') {
      const ready = source.ready();
      response
        .writeHead(ready ? 200 : 503, { 'content-type': 'application/json' })
        .end(`${JSON.stringify({ ready, details: source.details() })}\n`);
    } else if (path === '/metrics') {
      response
        .writeHead(200, { 'content-type': source.registry.contentType })
        .end(await source.registry.metrics());
    } else {
      response.writeHead(404, { 'content-type': 'text/plain' }).end('not found\n');
    }
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve(server));
  });
}
