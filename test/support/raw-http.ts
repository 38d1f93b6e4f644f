// HTTP requests as the tests mean them, byte for byte: bodies that are not
// UTF-8, streamed bodies of any size, headers fetch would refuse or fix.
// The answer is read as soon as it comes, even while the body is still
// being sent (a server may refuse early and stop reading).
import { request } from 'node:http';

export interface RawResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
}

export interface RawRequest {
  method?: string;
  path: string;
  headers?: Record<string, string | number>;
  /** Sent as is; a generator streams it (chunked unless a content-length is given). */
  body?: Buffer | string | (() => Iterable<Buffer>);
}

export function rawRequest(base: string, options: RawRequest): Promise<RawResponse> {
  const url = new URL(base);
  return new Promise((resolve, reject) => {
    const req = request({
      host: url.hostname,
      port: url.port,
      method: options.method ?? 'GET',
      path: options.path,
      headers: options.headers,
      // Each request on its own connection: one that the server closes does not break the next.
      agent: false,
    });
    let answered = false;
    req.on('response', (res) => {
      answered = true;
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => {
        resolve({
          status: res.statusCode ?? 0,
          headers: res.headers,
          text: Buffer.concat(chunks).toString('utf8'),
        });
        req.destroy();
      });
      res.on('error', reject);
    });
    // A server that answers and closes while we still write is expected; only an unanswered failure counts.
    req.on('error', (error) => {
      if (!answered) reject(error);
    });
    const { body } = options;
    if (typeof body === 'function') {
      const write = async () => {
        for (const chunk of body()) {
          if (answered || req.destroyed) return;
          if (!req.write(chunk))
            await new Promise<void>((done) => {
              const go = () => {
                req.off('drain', go);
                req.off('close', go);
                done();
              };
              req.on('drain', go);
              req.on('close', go);
            });
        }
        req.end();
      };
      write().catch(() => req.destroy());
    } else req.end(body);
  });
}
