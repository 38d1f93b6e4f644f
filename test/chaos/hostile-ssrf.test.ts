// Server-side request forgery, at both doors. Hostile URLs in every
// spelling are refused by the API before any resource exists; redirects from
// an allowed host to a forbidden one, and forbidden URLs that reach the
// downloader without the API (kubectl apply), fail the download with reason
// ForbiddenAddress. Canary listeners sit on the loopback targets the URLs
// name, and must see no connection at all.
import { createServer as createHttpServer, type Server as HttpServer } from 'node:http';
import { connect, createServer, type Server } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { permanentFailureExitCode } from '../../crds/video-download.ts';
import { freePort } from '../cluster/readiness.ts';
import { ApiClient } from '../support/api-client.ts';
import { type ApiProcess, startApiProcess } from '../support/api-process.ts';
import { type DownloaderHarness, downloaderHarness } from '../support/downloader-harness.ts';
import { minioClient } from '../support/storage.ts';
import { Downloads } from '../support/vdl.ts';

let api: ApiProcess;
let client: ApiClient;
let harness: DownloaderHarness;
let redirector: HttpServer;
let redirectorPort: number;
/** Requests the redirector answered: an egress proxy that refuses by host list lets none through. */
let redirectorRequests = 0;
/** The port every canary listens on, one per loopback address. */
let port: number;
const canaries: Array<{ address: string; server: Server; connections: number }> = [];
const bucket = 'ssrf';

const connections = () => canaries.reduce((sum, canary) => sum + canary.connections, 0);

function listen(address: string): Promise<void> {
  const canary = { address, connections: 0, server: createServer() };
  canary.server.on('connection', (socket) => {
    canary.connections += 1;
    socket.destroy();
  });
  canaries.push(canary);
  return new Promise((resolve, reject) => {
    canary.server.once('error', reject);
    canary.server.listen({ port, host: address, ipv6Only: true }, resolve);
  });
}

/** Forbidden targets in every spelling; LISTENER is the canaries' port. */
const apiRefused: Record<string, string[]> = {
  loopback: [
    'http://127.0.0.1:LISTENER/',
    'http://127.0.0.2:LISTENER/',
    'http://127.1:LISTENER/',
    'http://2130706433:LISTENER/',
    'http://0x7f000001:LISTENER/',
    'http://0177.0.0.1:LISTENER/',
    'http://0x7f.0x0.0x0.0x1:LISTENER/',
    'http://017700000001:LISTENER/',
    'http://[::1]:LISTENER/',
    'http://[0:0:0:0:0:0:0:1]:LISTENER/',
    'http://[::ffff:127.0.0.1]:LISTENER/',
    'http://[::ffff:7f00:1]:LISTENER/',
    'http://[::127.0.0.1]:LISTENER/',
    'http://localhost:LISTENER/',
    'http://LOCALHOST.:LISTENER/',
    'http://0.0.0.0:LISTENER/',
    'http://0:LISTENER/',
    'http://[::]:LISTENER/',
    'https://127.0.0.1:LISTENER/',
    'http://１２７.０.０.１:LISTENER/',
    'http://127%2E0%2E0%2E1:LISTENER/',
  ],
  metadata: [
    'http://169.254.169.254/latest/meta-data/iam/security-credentials/',
    'http://2852039166/latest/meta-data/',
    'http://0xa9fea9fe/latest/meta-data/',
    'http://0251.0376.0251.0376/latest/meta-data/',
    'http://[::ffff:169.254.169.254]/latest/meta-data/',
    'http://[::ffff:a9fe:a9fe]/latest/meta-data/',
    'http://[fd00:ec2::254]/latest/meta-data/',
    'http://169.254.170.2/v2/credentials',
  ],
  private: [
    'http://10.0.0.1/',
    'http://172.16.0.1/',
    'http://192.168.1.1/',
    'http://[fc00::1]/',
    'http://[fe80::1]/',
    'http://[::ffff:10.0.0.1]/',
    'http://[64:ff9b::a00:1]/',
    'http://[2002:a00:1::]/',
  ],
  cgnat: ['http://100.64.0.1/', 'http://100.127.255.254/'],
  'multicast and broadcast': ['http://224.0.0.1/', 'http://255.255.255.255/'],
  userinfo: [
    'http://videos.example@127.0.0.1:LISTENER/',
    'http://videos.example:80@127.0.0.1:LISTENER/',
    'http://127.0.0.1:LISTENER\\@videos.example/',
    'http://127.0.0.1:LISTENER#@videos.example/',
    'http://user:password@videos.example/',
  ],
  'non-http schemes': [
    'file:///etc/passwd',
    'ftp://127.0.0.1:LISTENER/',
    'gopher://127.0.0.1:LISTENER/_',
    'dict://127.0.0.1:LISTENER/info',
    'ws://127.0.0.1:LISTENER/',
    'data:text/plain,hello',
    'javascript:alert(1)',
  ],
};

/** Where the allowed host redirects to; each must end the download with ForbiddenAddress. */
const redirectTargets = [
  'http://127.0.0.1:LISTENER/secret',
  'http://127.0.0.2:LISTENER/',
  'http://[::1]:LISTENER/',
  'http://2130706433:LISTENER/',
  'http://0x7f000001:LISTENER/',
  'http://[::ffff:127.0.0.1]:LISTENER/',
  'http://[::127.0.0.1]:LISTENER/',
  'http://localhost:LISTENER/',
  'http://0.0.0.0:LISTENER/',
  'https://127.0.0.1:LISTENER/',
  'http://169.254.169.254/latest/meta-data/',
  'http://10.0.0.1/',
];

/** Submitted straight as resources, past the API: the downloader's own check. */
const direct = ['http://127.0.0.2:LISTENER/video.mp4', 'http://[::1]:LISTENER/video.mp4'];

const withPort = (url: string) => url.replace('LISTENER', String(port));

beforeAll(async () => {
  api = await startApiProcess();
  client = new ApiClient(api.url, api.keys.alice);
  port = await freePort();
  for (const address of ['127.0.0.1', '127.0.0.2', '::1']) await listen(address);
  redirectorPort = await freePort();
  redirector = createHttpServer((req, res) => {
    redirectorRequests += 1;
    const index = Number(/^\/to\/(\d+)/.exec(req.url ?? '')?.[1]);
    const target = redirectTargets[index];
    if (target === undefined) return void res.writeHead(404).end();
    res.writeHead(302, { location: withPort(target) }).end();
  });
  await new Promise<void>((resolve) => redirector.listen(redirectorPort, '127.0.0.1', resolve));
  const minio = api.plane.minio as NonNullable<ApiProcess['plane']['minio']>;
  await minioClient(minio).makeBucket(bucket);
  harness = await downloaderHarness({
    config: api.kube,
    apiServerUrl: api.plane.apiServerUrl,
    namespace: api.namespace,
    downloads: new Downloads(api.kube, api.namespace),
    minio,
    bucket,
    // The redirector is the one internal endpoint a download may reach.
    egressAllow: `127.0.0.1:${redirectorPort}`,
  });
});

afterAll(async () => {
  await new Promise((resolve) => redirector?.close(resolve));
  for (const canary of canaries) await new Promise((resolve) => canary.server.close(resolve));
  await api?.stop();
});

it('has canaries that would see a connection', async () => {
  for (const canary of canaries) {
    await new Promise<void>((resolve, reject) => {
      const socket = connect(port, canary.address, () => socket.end());
      socket.on('close', () => resolve());
      socket.on('error', reject);
    });
  }
  await expect.poll(() => canaries.map((canary) => canary.connections)).toEqual([1, 1, 1]);
  for (const canary of canaries) canary.connections = 0;
});

describe('the API', () => {
  const cases = Object.entries(apiRefused).flatMap(([kind, urls]) => urls.map((url) => [kind, url] as const));

  it(`refuses all ${cases.length} hostile URLs with 422 before anything exists`, async () => {
    expect(cases.length).toBeGreaterThanOrEqual(40);
    const before = await api.countDownloads();
    const accepted: string[] = [];
    for (const [kind, template] of cases) {
      const url = withPort(template);
      const response = await client.call<{ detail: string }>('POST', '/download', { body: { url } });
      if (response.status !== 422) accepted.push(`${kind}: ${url} → ${response.status} ${response.text}`);
    }
    expect(accepted).toEqual([]);
    expect(await api.countDownloads()).toBe(before);
    expect(connections()).toBe(0);
    console.info(`SSRF at the API: ${cases.length} URLs refused with 422`);
  });
});

describe('the downloader', () => {
  it.each(redirectTargets.map((target, index) => [target, index] as const))(
    'fails with ForbiddenAddress when the allowed host redirects to %s',
    async (_target, index) => {
      const run = await harness.run(`redirect-${index}`, {
        url: `http://127.0.0.1:${redirectorPort}/to/${index}`,
      });
      expect(run.exitCode, run.output).toBe(permanentFailureExitCode);
      expect(run.message, run.output).toMatchObject({ error: { reason: 'ForbiddenAddress' } });
      expect(connections()).toBe(0);
    },
  );

  // The case: the API guarded by an allow-list, the download pod reaching a local file
  // server it may reach by address. Applied past the API, the host lists still hold in the pod.
  it.each([
    [
      'outside the allow-list',
      { VDL_ALLOW_HOSTS: 'example.com' },
      /host 127\.0\.0\.1 is not in the allowed list/,
    ],
    ['on the deny list', { VDL_DENY_HOSTS: '127.0.0.1' }, /host 127\.0\.0\.1 is not allowed/],
  ])(
    'fails with ForbiddenAddress for a host %s, though its address may be reached',
    async (_what, lists, message) => {
      const before = redirectorRequests;
      const run = await harness.run(
        `listed-${Object.keys(lists)[0]?.toLowerCase().replaceAll('_', '-')}`,
        { url: `http://127.0.0.1:${redirectorPort}/to/0` },
        lists,
      );
      expect(run.exitCode, run.output).toBe(permanentFailureExitCode);
      expect(run.message, run.output).toMatchObject({ error: { reason: 'ForbiddenAddress' } });
      expect(JSON.stringify(run.message)).toMatch(message);
      expect(redirectorRequests).toBe(before);
      expect(connections()).toBe(0);
    },
  );

  it.each(direct.map((url, index) => [url, index] as const))(
    'fails with ForbiddenAddress for %s submitted past the API',
    async (url, index) => {
      const run = await harness.run(`direct-${index}`, { url: withPort(url) });
      expect(run.exitCode, run.output).toBe(permanentFailureExitCode);
      expect(run.message, run.output).toMatchObject({ error: { reason: 'ForbiddenAddress' } });
      expect(connections()).toBe(0);
    },
  );
});
