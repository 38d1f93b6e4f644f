// A webhook receiver for tests: it checks each request's Standard Webhooks
// signature as a real receiver would, answers 204 to a valid one (401
// otherwise), and keeps what it got. It can start on a port chosen before,
// so a test can point a webhook at it while it is still down.
import { createServer, type Server } from 'node:http';
import { signingKey, verificationFailure } from '../../operator/controllers/webhook-notifier/signature.ts';

export interface ReceivedEvent {
  id: string | undefined;
  body: unknown;
  /** Undefined when the signature is valid, otherwise why not. */
  failure: string | undefined;
}

export class WebhookReceiver {
  readonly received: ReceivedEvent[] = [];
  private server: Server | undefined;
  private readonly key: Buffer;
  readonly port: number;

  readonly host: string;

  /** host: where it listens, loopback unless told (a real node's pods reach the host at its link address). */
  constructor(secret: string, port: number, host = '127.0.0.1') {
    this.key = signingKey(secret);
    this.port = port;
    this.host = host;
  }

  get url(): string {
    return `http://${this.host}:${this.port}/hook`;
  }

  /** The events whose signature was valid. */
  get verified(): ReceivedEvent[] {
    return this.received.filter((event) => event.failure === undefined);
  }

  start(): Promise<void> {
    const server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (chunk: Buffer) => chunks.push(chunk));
      req.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        const header = (name: string) => req.headers[name] as string | undefined;
        const failure = verificationFailure(
          this.key,
          {
            'webhook-id': header('webhook-id'),
            'webhook-timestamp': header('webhook-timestamp'),
            'webhook-signature': header('webhook-signature'),
          },
          text,
          Math.floor(Date.now() / 1000),
        );
        let body: unknown = text;
        try {
          body = JSON.parse(text);
        } catch {}
        this.received.push({ id: header('webhook-id'), body, failure });
        res.writeHead(failure ? 401 : 204).end();
      });
    });
    this.server = server;
    return new Promise((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.port, this.host, () => resolve());
    });
  }

  stop(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    if (!server) return Promise.resolve();
    server.closeAllConnections();
    return new Promise((resolve) => server.close(() => resolve()));
  }
}
