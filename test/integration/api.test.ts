// The REST API against its own real control plane and MinIO (its own, so
// the API server can be restarted under it). Status changes are written to
// the resources directly, as the operator would; every response is checked
// against the generated OpenAPI document.
import { createHash, randomBytes } from 'node:crypto';
import * as k8s from '@kubernetes/client-node';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { hashKey } from '../../api/api-keys.ts';
import { apiServerRefusal } from '../../api/api-server-refusal.ts';
import { loadApiConfig } from '../../api/config.ts';
import { type RunningApi, startApi } from '../../api/server.ts';
import type { VideoDownloadStatus } from '../../crds/video-download.ts';
import { VideoDownloads } from '../../lib/kube/video-downloads.ts';
import { objectReaderFor } from '../../lib/storage/object-reader.ts';
import { type ControlPlane, startControlPlane } from '../cluster/control-plane.ts';
import { ApiClient } from '../support/api-client.ts';
import { eventually } from '../support/eventually.ts';
import { createTestNamespace, kubeConfigFrom } from '../support/kube.ts';
import { minioClient } from '../support/storage.ts';
import { installCrd } from '../support/vdl.ts';

let plane: ControlPlane;
let config: k8s.KubeConfig;
let namespace: string;
let api: RunningApi;
let client: ApiClient;
const keys = {
  alice: randomBytes(16).toString('hex'),
  bob: randomBytes(16).toString('hex'),
  root: randomBytes(16).toString('hex'),
};
const bucket = 'results';
const mergePatch = k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.MergePatch);

function keysText(extra = ''): string {
  return `alice:user:${hashKey(keys.alice)}\nbob:user:${hashKey(keys.bob)}\nroot:admin:${hashKey(keys.root)}\n${extra}`;
}

// The typed client the API itself writes with, for what the operator would write.
const videoDownloads = () => new VideoDownloads(config, namespace);

async function setStatus(name: string, status: VideoDownloadStatus): Promise<void> {
  await videoDownloads().patchStatus(name, status);
}

async function countDownloads(): Promise<number> {
  return (await videoDownloads().list()).length;
}

async function submit(
  as: ApiClient,
  body: unknown = { url: 'https://videos.example/watch?v=1' },
  headers: Record<string, string> = {},
) {
  const response = await as.call<{ job_id: string; state: string }>('POST', '/download', { body, headers });
  expect(response.status, response.text).toBe(202);
  // The API answers from its cache; wait until the cache has what was just created.
  await eventually('cache to hold the new download', () =>
    api.downloads.get(`${namespace}/${response.body.job_id}`) ? true : undefined,
  );
  return response.body.job_id;
}

async function startTestApi(overrides: Parameters<typeof loadApiConfig>[1] = {}): Promise<RunningApi> {
  return startApi({
    config: loadApiConfig(
      {},
      {
        namespace,
        port: 0,
        bucket,
        s3Endpoint: plane.minio?.url,
        logLevel: 'silent',
        // Refused submissions count against the rate too, and this file sends many.
        submitPerMinute: 6000,
        submitBurst: 1000,
        ...overrides,
      },
    ),
    kubeConfig: config,
    logger: pino({ level: 'silent' }),
    storage: objectReaderFor({
      endpoint: plane.minio?.url as string,
      accessKey: plane.minio?.accessKey as string,
      secretKey: plane.minio?.secretKey as string,
      region: 'us-east-1',
    }),
    // No DNS here: names resolve to nothing except these.
    resolve: async (host) =>
      host === 'localhost' ? ['127.0.0.1'] : host === 'internal.example' ? ['10.0.0.7'] : [],
  });
}

beforeAll(async () => {
  plane = await startControlPlane({});
  config = kubeConfigFrom(plane.adminKubeconfig);
  await installCrd(config);
  namespace = await createTestNamespace(config, 'api');
  await config.makeApiClient(k8s.CoreV1Api).createNamespacedSecret({
    namespace,
    body: {
      metadata: { name: 'vdl-api-keys' },
      // alice has a webhook signing Secret and a default receiver; bob has none.
      stringData: {
        keys: keysText(),
        webhooks: JSON.stringify({
          alice: { secretRef: { name: 'vdl-webhook-alice' }, url: 'https://hooks.example/alice' },
        }),
      },
    },
  });
  await minioClient(plane.minio as NonNullable<ControlPlane['minio']>).makeBucket(bucket);
  api = await startTestApi();
  client = new ApiClient(api.url);
}, 120_000);

afterAll(async () => {
  await api?.close();
  await plane?.stop();
});

describe('POST /download', () => {
  it('creates a VideoDownload owned by the caller and answers 202 with where to look', async () => {
    const response = await client
      .as(keys.alice)
      .call<{ job_id: string; state: string; status_url: string; result_url: string }>('POST', '/download', {
        body: { url: 'https://videos.example/watch?v=1', format: { preset: '720p' } },
      });
    expect(response.status).toBe(202);
    expect(response.body).toMatchObject({ state: 'PENDING' });
    expect(response.body.status_url).toBe(`${api.url}/status/${response.body.job_id}`);
    const created = await videoDownloads().get(response.body.job_id);
    expect(created.metadata.labels?.['vdl.dev/owner']).toBe('alice');
    // With the operator's finalizer already: the operator need not patch it in.
    expect(created.metadata.finalizers).toEqual(['vdl.dev/stored-object']);
    expect(created.spec).toMatchObject({
      url: 'https://videos.example/watch?v=1',
      format: { preset: '720p' },
    });
  });

  it('returns the same job for a repeated Idempotency-Key, per user', async () => {
    const headers = { 'idempotency-key': 'upload-42' };
    const first = await submit(client.as(keys.alice), undefined, headers);
    const again = await client.as(keys.alice).call<{ job_id: string }>('POST', '/download', {
      body: { url: 'https://videos.example/watch?v=1' },
      headers,
    });
    expect(again.status).toBe(202);
    expect(again.body.job_id).toBe(first);
    const bobs = await submit(client.as(keys.bob), undefined, headers);
    expect(bobs).not.toBe(first);
  });

  it.each([
    ['no API key', undefined, { body: { url: 'https://v.example/' } }, 401],
    ['an unknown API key', 'nope', { body: { url: 'https://v.example/' } }, 401],
    [
      'a body that is not JSON',
      keys.alice,
      { rawBody: 'url=x', headers: { 'content-type': 'application/x-www-form-urlencoded' } },
      415,
    ],
    [
      'malformed JSON',
      keys.alice,
      { rawBody: '{"url": ', headers: { 'content-type': 'application/json' } },
      400,
    ],
    ['an oversized body', keys.alice, { body: { url: `https://v.example/${'a'.repeat(70_000)}` } }, 413],
    ['an unknown field', keys.alice, { body: { url: 'https://v.example/', colour: 'red' } }, 422],
    [
      'a nested unknown field',
      keys.alice,
      { body: { url: 'https://v.example/', format: { preset: 'best', extra: 1 } } },
      422,
    ],
    ['a wrong type', keys.alice, { body: { url: 'https://v.example/', retries: 'three' } }, 422],
    ['a missing url', keys.alice, { body: {} }, 422],
    [
      'a bad Idempotency-Key',
      keys.alice,
      { body: { url: 'https://v.example/' }, headers: { 'idempotency-key': 'ä' } },
      400,
    ],
  ] as const)('refuses %s before anything exists', async (_name, key, options, status) => {
    const before = await countDownloads();
    const response = await client.as(key).call('POST', '/download', options as never);
    expect(response.status, response.text).toBe(status);
    expect(response.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    expect(await countDownloads()).toBe(before);
  });

  it.each([
    'file:///etc/passwd',
    'ftp://v.example/a',
    'http://127.0.0.1/',
    'http://2130706433/',
    'http://0x7f.0.0.1/',
    'http://[::1]:8080/',
    'http://[::ffff:127.0.0.1]/',
    'http://169.254.169.254/latest/meta-data/',
    'http://10.1.2.3/',
    'http://100.64.0.1/',
    'http://localhost/',
    'http://internal.example/',
    'http://user:pw@v.example/',
  ])('refuses the hostile URL %s with 422', async (url) => {
    const before = await countDownloads();
    const response = await client
      .as(keys.alice)
      .call<{ detail: string }>('POST', '/download', { body: { url } });
    expect(response.status).toBe(422);
    expect(response.body.detail.length).toBeGreaterThan(5);
    expect(await countDownloads()).toBe(before);
  });

  it.each([
    ['-', /must not be "-" \(stdout\)/],
    ['..', /must not be/],
    ['.', /must not be/],
    ['/etc/x', /Invalid string/],
  ])('refuses the filename template %s with 422 naming the field', async (filenameTemplate, message) => {
    const before = await countDownloads();
    const response = await client.as(keys.alice).call<{ detail: string }>('POST', '/download', {
      body: { url: 'https://videos.example/watch?v=1', output: { filenameTemplate } },
    });
    expect(response.status).toBe(422);
    expect(response.body.detail).toContain('output.filenameTemplate');
    expect(response.body.detail).toMatch(message);
    expect(await countDownloads()).toBe(before);
  });
});

describe('what the door lets in', () => {
  let roomy: RunningApi;
  let allowListed: RunningApi;
  const stored = (name: string) => videoDownloads().get(name);
  beforeAll(async () => {
    roomy = await startTestApi({ submitBurst: 100 });
    allowListed = await startTestApi({ submitBurst: 100, allowHosts: 'example.com' });
  });
  afterAll(async () => {
    await roomy?.close();
    await allowListed?.close();
  });

  it.each([
    ['storage naming another bucket', { storage: { bucket: 'someone-elses' } }, 'storage'],
    ['a Retain deletion policy', { storage: { deletionPolicy: 'Retain' } }, 'storage'],
    ['a key prefix climbing out', { storage: { keyPrefix: '../' } }, 'storage'],
    ['a NUL byte in the URL', { url: 'https://videos.example/a\u0000b' }, 'url'],
    ['a backslash in the URL', { url: 'https://videos.example\\@127.0.0.1/' }, 'url'],
    ['a maxFileSize of 400 digits', { limits: { maxFileSize: '9'.repeat(400) } }, 'maxFileSize'],
    ['a rateLimit of 1000Ti', { limits: { rateLimit: '1000Ti' } }, 'rateLimit'],
    ['a TTL of 3,000,000 s', { ttlSecondsAfterFinished: 3_000_000 }, 'ttlSecondsAfterFinished'],
  ])('refuses %s (%j) with a 422 naming %s and nothing of the API server', async (_what, body, field) => {
    const before = await countDownloads();
    const response = await new ApiClient(roomy.url, keys.alice).call<{ detail: string }>(
      'POST',
      '/download',
      {
        body: { url: 'https://videos.example/watch?v=1', ...body },
      },
    );
    expect(response.status, response.text).toBe(422);
    expect(response.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    expect(response.body.detail).toContain(field);
    expect(response.text).not.toMatch(/"kind"|Status|apiVersion/);
    expect(await countDownloads()).toBe(before);
  });

  it('stores the canonical URL it checked, so an upper-case scheme is no API server refusal', async () => {
    const response = await new ApiClient(roomy.url, keys.alice).call<{ job_id: string }>(
      'POST',
      '/download',
      {
        body: { url: 'HTTP://Videos.Example/a b?x=1' },
      },
    );
    expect(response.status, response.text).toBe(202);
    expect((await stored(response.body.job_id)).spec.url).toBe('http://videos.example/a%20b?x=1');
  });

  it('maps a real API server refusal to the fields, in its own words', async () => {
    const refused = await videoDownloads()
      .create('refused', { url: 'file:///etc/passwd', retries: 99 })
      .then(
        () => undefined,
        (error: { code?: number; body?: unknown }) => error,
      );
    expect(refused?.code).toBe(422);
    expect(apiServerRefusal(refused?.body)).toBe(
      'the cluster refused the download: retries is invalid; url is invalid',
    );
  });

  it('with an allow-list of example.com, refuses the backslash form that Python reads as 127.0.0.1', async () => {
    const allowListedClient = new ApiClient(allowListed.url, keys.alice);
    const before = await countDownloads();
    for (const url of ['http://example.com\\@127.0.0.1:18777/clip.mp4', 'http://127.0.0.1:18777/clip.mp4']) {
      const response = await allowListedClient.call<{ detail: string }>('POST', '/download', {
        body: { url },
      });
      expect(response.status, `${url}: ${response.text}`).toBe(422);
      expect(response.body.detail, url).toMatch(/url/);
    }
    expect(await countDownloads()).toBe(before);
    const listed = await allowListedClient.call('POST', '/download', {
      body: { url: 'https://example.com/clip.mp4' },
    });
    expect(listed.status, listed.text).toBe(202);
  });

  it('refuses an Idempotency-Key reused with another body, per user, on every replica', async () => {
    const headers = { 'idempotency-key': 'door-7' };
    const alice = new ApiClient(roomy.url, keys.alice);
    const body = { url: 'https://videos.example/first', format: { preset: '720p' } };
    const first = await alice.call<{ job_id: string }>('POST', '/download', { body, headers });
    expect(first.status, first.text).toBe(202);
    await eventually('both replicas to cache it', () =>
      roomy.downloads.get(`${namespace}/${first.body.job_id}`) &&
      api.downloads.get(`${namespace}/${first.body.job_id}`)
        ? true
        : undefined,
    );
    // The same request in other words (key order, a default written out, the URL's scheme) is the same request.
    const same = { format: { preset: '720p' }, retries: 2, url: 'HTTPS://videos.example/first' };
    for (const replica of [roomy, api]) {
      const as = new ApiClient(replica.url, keys.alice);
      const again = await as.call<{ job_id: string }>('POST', '/download', { body: same, headers });
      expect(again.status, again.text).toBe(202);
      expect(again.body.job_id).toBe(first.body.job_id);
      const other = await as.call<{ detail: string }>('POST', '/download', {
        body: { url: 'https://videos.example/second' },
        headers,
      });
      expect(other.status, other.text).toBe(422);
      expect(other.body.detail).toMatch(/Idempotency-Key/);
    }
    // Bob's key of the same spelling is another key.
    const bobs = await new ApiClient(roomy.url, keys.bob).call<{ job_id: string }>('POST', '/download', {
      body: { url: 'https://videos.example/second' },
      headers,
    });
    expect(bobs.status, bobs.text).toBe(202);
    expect(bobs.body.job_id).not.toBe(first.body.job_id);
  });
});

describe('webhooks through the API', () => {
  const spec = async (job: string) => (await videoDownloads().get(job)).spec;
  const aliceSecret = { name: 'vdl-webhook-alice', key: 'secret' };

  it("gives a submission without notify the user's default webhook, signed with the user's Secret", async () => {
    const job = await submit(client.as(keys.alice));
    expect((await spec(job)).notify).toEqual({ url: 'https://hooks.example/alice', secretRef: aliceSecret });
  });

  it("sends a request's own notify.url, still signed with the user's Secret", async () => {
    const job = await submit(client.as(keys.alice), {
      url: 'https://videos.example/watch?v=1',
      notify: { url: 'HTTPS://Hooks.Example/this-one' },
    });
    expect((await spec(job)).notify).toEqual({
      url: 'https://hooks.example/this-one',
      secretRef: aliceSecret,
    });
  });

  it('makes no webhook for a user without one', async () => {
    const job = await submit(client.as(keys.bob));
    expect((await spec(job)).notify).toBeUndefined();
  });

  it.each([
    [
      'an internal receiver',
      keys.alice,
      { url: 'http://127.0.0.1:9/hook' },
      'notify.url points to a forbidden address',
    ],
    [
      'a name that resolves inside',
      keys.alice,
      { url: 'http://internal.example/hook' },
      'notify.url points to a forbidden address',
    ],
    [
      'an ftp receiver',
      keys.alice,
      { url: 'ftp://hooks.example/x' },
      'notify.url must be an http or https URL',
    ],
    [
      'a signing Secret named by the request',
      keys.alice,
      { url: 'https://hooks.example/x', secretRef: { name: 'vdl-webhook-bob' } },
      'notify.secretRef',
    ],
    [
      'a url from a user without a signing Secret',
      keys.bob,
      { url: 'https://hooks.example/x' },
      'no webhook signing Secret',
    ],
  ])('refuses %s with a 4xx that says why, creating nothing', async (_case, key, notify, detail) => {
    const before = await countDownloads();
    const response = await client.as(key).call<{ detail: string }>('POST', '/download', {
      body: { url: 'https://videos.example/watch?v=1', notify },
    });
    // A key without a signing Secret may not ask for webhooks at all: 403; the rest are bad requests.
    expect(response.status, response.text).toBe(detail === 'no webhook signing Secret' ? 403 : 422);
    expect(response.body.detail).toContain(detail);
    expect(await countDownloads()).toBe(before);
  });
});

describe('reading and following downloads', () => {
  it('shows status to its owner and admins only; others get 404', async () => {
    const id = await submit(client.as(keys.alice));
    await setStatus(id, {
      phase: 'Running',
      attempts: 1,
      startTime: '2026-01-01T00:00:00Z',
      progress: { percent: 42, stage: 'downloading', title: 'Clip' },
    });
    await eventually('status in cache', () =>
      api.downloads.get(`${namespace}/${id}`)?.status?.phase === 'Running' ? true : undefined,
    );
    const mine = await client
      .as(keys.alice)
      .call<Record<string, unknown>>('GET', '/status/{id}', { params: { id } });
    expect(mine.status).toBe(200);
    expect(mine.body).toMatchObject({
      job_id: id,
      state: 'IN_PROGRESS',
      title: 'Clip',
      progress: { percent: 42, stage: 'downloading' },
      attempts: 1,
    });
    expect((await client.as(keys.bob).call('GET', '/status/{id}', { params: { id } })).status).toBe(404);
    expect((await client.as(keys.root).call('GET', '/status/{id}', { params: { id } })).status).toBe(200);
    expect((await client.as(keys.bob).call('DELETE', '/downloads/{id}', { params: { id } })).status).toBe(
      404,
    );
    expect((await client.as(keys.bob).call('GET', '/result/{id}', { params: { id } })).status).toBe(404);
    expect(
      (await client.as(keys.alice).call('GET', '/status/{id}', { params: { id: 'no-such-job' } })).status,
    ).toBe(404);
    expect(
      (await client.as(keys.alice).call('GET', '/status/{id}', { params: { id: '../etc' } })).status,
    ).toBe(404);
  });

  it("lists only the caller's downloads, newest first, filtered and paged", async () => {
    const ids = [
      await submit(client.as(keys.bob)),
      await submit(client.as(keys.bob)),
      await submit(client.as(keys.bob)),
    ];
    await setStatus(ids[0] as string, { phase: 'Failed', reason: 'NotFound', message: 'HTTP 404' });
    await eventually('failure in cache', () =>
      api.downloads.get(`${namespace}/${ids[0]}`)?.status?.phase === 'Failed' ? true : undefined,
    );
    type Page = { items: Array<{ job_id: string; state: string }>; next_cursor: string | null };
    const all: string[] = [];
    let cursor: string | null = null;
    do {
      const page: { status: number; body: Page } = await client
        .as(keys.bob)
        .call<Page>('GET', '/downloads', { query: `limit=2${cursor ? `&cursor=${cursor}` : ''}` });
      expect(page.status).toBe(200);
      all.push(...page.body.items.map((item) => item.job_id));
      cursor = page.body.next_cursor;
    } while (cursor);
    expect(all.filter((id) => ids.includes(id))).toHaveLength(3);
    const bobsAll = (await client.as(keys.bob).call<Page>('GET', '/downloads', { query: 'limit=200' })).body
      .items;
    expect(all).toEqual(bobsAll.map((item) => item.job_id));
    const aliceSees = (
      await client.as(keys.alice).call<Page>('GET', '/downloads', { query: 'limit=200' })
    ).body.items.map((i) => i.job_id);
    expect(aliceSees.some((id) => ids.includes(id))).toBe(false);
    const failed = await client.as(keys.bob).call<Page>('GET', '/downloads', { query: 'state=FAILED' });
    expect(failed.body.items.map((i) => i.job_id)).toEqual([ids[0]]);
    expect((await client.as(keys.bob).call('GET', '/downloads', { query: 'state=NOPE' })).status).toBe(400);
  });

  it('hands out a presigned URL once done; 409 before, 410 once the file is gone', async () => {
    const id = await submit(client.as(keys.alice));
    expect((await client.as(keys.alice).call('GET', '/result/{id}', { params: { id } })).status).toBe(409);
    const bytes = randomBytes(50_000);
    const uid = api.downloads.get(`${namespace}/${id}`)?.metadata.uid;
    const key = `${namespace}/${id}/${uid}/clip.mp4`;
    const storage = minioClient(plane.minio as NonNullable<ControlPlane['minio']>);
    await storage.putObject(bucket, key, bytes, bytes.length, { 'Content-Type': 'video/mp4' });
    const sha256 = createHash('sha256').update(bytes).digest('hex');
    await setStatus(id, {
      phase: 'Succeeded',
      completionTime: '2026-01-01T00:01:00Z',
      result: {
        bucket,
        key,
        filename: 'clip.mp4',
        size: bytes.length,
        sha256,
        contentType: 'video/mp4',
        title: 'Clip',
        durationSeconds: 3,
      },
    });
    await eventually('success in cache', () =>
      api.downloads.get(`${namespace}/${id}`)?.status?.phase === 'Succeeded' ? true : undefined,
    );
    const result = await client
      .as(keys.alice)
      .call<{ url: string; sha256: string; filename: string }>('GET', '/result/{id}', { params: { id } });
    expect(result.status).toBe(200);
    expect(result.body).toMatchObject({
      sha256,
      filename: 'clip.mp4',
      size: bytes.length,
      content_type: 'video/mp4',
      duration: 3,
    });
    const file = Buffer.from(await (await fetch(result.body.url)).arrayBuffer());
    expect(createHash('sha256').update(file).digest('hex')).toBe(sha256);
    const redirect = await client
      .as(keys.alice)
      .call('GET', '/result/{id}', { params: { id }, query: 'redirect=true', redirect: 'manual' });
    expect(redirect.status).toBe(302);
    expect(redirect.headers.get('location')).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/results\//);
    await storage.removeObject(bucket, key);
    expect((await client.as(keys.alice).call('GET', '/result/{id}', { params: { id } })).status).toBe(410);
  });

  it("signs no link to a file outside the download's own bucket and prefix, whatever its status says", async () => {
    const storage = minioClient(plane.minio as NonNullable<ControlPlane['minio']>);
    const victim = await submit(client.as(keys.bob));
    const victimUid = api.downloads.get(`${namespace}/${victim}`)?.metadata.uid;
    const victimKey = `${namespace}/${victim}/${victimUid}/private.mp4`;
    await storage.putObject(bucket, victimKey, Buffer.from('bob only'), 8, { 'Content-Type': 'video/mp4' });
    const id = await submit(client.as(keys.alice));
    const forged = { size: 8, sha256: 'a'.repeat(64), contentType: 'video/mp4' };
    for (const result of [
      { bucket, key: victimKey },
      { bucket: 'elsewhere', key: `${namespace}/${id}/x.mp4` },
    ]) {
      await setStatus(id, { phase: 'Succeeded', result: { ...result, ...forged } });
      await eventually('the forged result in the cache', () =>
        api.downloads.get(`${namespace}/${id}`)?.status?.result?.bucket === result.bucket ? true : undefined,
      );
      const refused = await client
        .as(keys.alice)
        .call<{ detail: string }>('GET', '/result/{id}', { params: { id } });
      expect(refused.status).toBe(409);
      expect(refused.body.detail).toContain('outside its own storage');
      expect(refused.text).not.toContain('X-Amz-Signature');
    }
  });

  it('deletes a download for its owner', async () => {
    const id = await submit(client.as(keys.alice));
    const response = await client.as(keys.alice).call('DELETE', '/downloads/{id}', { params: { id } });
    expect(response.status).toBe(202);
    // Its finalizer holds it for the operator, which removes its files first; none runs here.
    await eventually('download marked for deletion', () =>
      api.downloads.get(`${namespace}/${id}`)?.metadata.deletionTimestamp ? true : undefined,
    );
    const held = await videoDownloads().get(id);
    await config.makeApiClient(k8s.CustomObjectsApi).patchNamespacedCustomObject(
      {
        group: 'vdl.dev',
        version: 'v1alpha1',
        plural: 'videodownloads',
        namespace,
        name: id,
        body: { metadata: { finalizers: [], resourceVersion: held.metadata.resourceVersion } },
      },
      mergePatch,
    );
    await eventually('download gone', () => (api.downloads.get(`${namespace}/${id}`) ? undefined : true));
    expect((await client.as(keys.alice).call('GET', '/status/{id}', { params: { id } })).status).toBe(404);
  });

  it('streams status changes over Server-Sent Events and ends on the terminal state', async () => {
    const id = await submit(client.as(keys.alice));
    const response = await fetch(`${api.url}/status/${id}/events`, {
      headers: { authorization: `Bearer ${keys.alice}` },
    });
    expect(response.headers.get('content-type')).toBe('text/event-stream');
    const reader = response.body?.getReader() as ReadableStreamDefaultReader<Uint8Array>;
    let text = '';
    const events = () => text.split('\n\n').filter((block) => block.includes('event: status'));
    const readUntil = async (count: number) => {
      while (events().length < count) {
        const { value, done } = await reader.read();
        if (done) break;
        text += Buffer.from(value).toString('utf8');
      }
    };
    await readUntil(1);
    await setStatus(id, { phase: 'Running', progress: { percent: 10, stage: 'downloading' } });
    await readUntil(2);
    await setStatus(id, { phase: 'Failed', reason: 'NotFound', message: 'gone' });
    await readUntil(3);
    const { done } = await reader.read();
    expect(done).toBe(true);
    const states = events().map((block) => JSON.parse(block.split('data: ')[1] as string).state);
    expect(states).toEqual(['PENDING', 'IN_PROGRESS', 'FAILED']);
    expect(events()[0]).toMatch(/^id: \d+/m);
  });

  it('streams several downloads over one WebSocket and closes when all are finished', async () => {
    const ids = [await submit(client.as(keys.alice)), await submit(client.as(keys.alice))];
    const ws = new WebSocket(`${api.url.replace('http', 'ws')}/ws`, {
      headers: { authorization: `Bearer ${keys.alice}` },
    });
    const messages: Array<{ type: string; job_id: string; state: string }> = [];
    const closed = new Promise<number>((resolve) => ws.on('close', (code) => resolve(code)));
    ws.on('message', (data) => messages.push(JSON.parse(String(data))));
    await new Promise((resolve) => ws.on('open', resolve));
    ws.send(JSON.stringify({ subscribe: [...ids, 'not-mine'] }));
    await eventually('initial states', () =>
      messages.filter((m) => m.type === 'status').length >= 2 ? true : undefined,
    );
    for (const id of ids)
      await setStatus(id, {
        phase: 'Succeeded',
        result: { bucket, key: `${id}/x`, size: 1, sha256: 'a'.repeat(64), contentType: 'video/mp4' },
      });
    expect(await closed).toBe(1000);
    for (const id of ids)
      expect(
        messages
          .filter((m) => m.job_id === id)
          .map((m) => m.state)
          .at(-1),
      ).toBe('DONE');
    expect(messages.find((m) => m.type === 'error')).toMatchObject({ job_id: 'not-mine' });
    const refused = new WebSocket(`${api.url.replace('http', 'ws')}/ws`);
    const error = await new Promise<string>((resolve) =>
      refused.on('unexpected-response', (_req, res) => resolve(String(res.statusCode))),
    );
    expect(error).toBe('401');
  });
});

describe('limits and keys', () => {
  let strict: RunningApi;
  beforeAll(async () => {
    strict = await startTestApi({ submitPerMinute: 2, submitBurst: 2, maxUnfinishedPerUser: 100 });
  });
  afterAll(async () => {
    await strict?.close();
  });

  it('rate-limits submissions per user with RateLimit headers, 429 and Retry-After', async () => {
    const limited = new ApiClient(strict.url, keys.root);
    const first = await limited.call('POST', '/download', { body: { url: 'https://v.example/1' } });
    expect(first.status).toBe(202);
    expect(first.headers.get('ratelimit')).toMatch(/^limit=2, remaining=1, reset=0$/);
    expect((await limited.call('POST', '/download', { body: { url: 'https://v.example/2' } })).status).toBe(
      202,
    );
    const third = await limited.call('POST', '/download', { body: { url: 'https://v.example/3' } });
    expect(third.status).toBe(429);
    expect(Number(third.headers.get('retry-after'))).toBeGreaterThan(0);
    // Another user has a bucket of their own.
    expect(
      (await limited.as(keys.bob).call('POST', '/download', { body: { url: 'https://v.example/4' } })).status,
    ).toBe(202);
  });

  it('counts refused submissions against the rate limit too', async () => {
    const limited = new ApiClient(strict.url, keys.alice);
    const refusals = [
      await limited.call('POST', '/download', { body: { url: 'ftp://v.example/1' } }),
      await limited.call('POST', '/download', {
        rawBody: 'not json',
        headers: { 'content-type': 'application/json' },
      }),
    ];
    expect(refusals.map((r) => r.status)).toEqual([422, 400]);
    const next = await limited.call<{ detail: string }>('POST', '/download', {
      body: { url: 'https://v.example/5' },
    });
    expect(next.status).toBe(429);
    expect(next.body.detail).toMatch(/more than 2 submissions a minute \(on this API replica\)/);
  });

  it('caps unfinished downloads per user', async () => {
    const capped = await startTestApi({ maxUnfinishedPerUser: 1, submitBurst: 100 });
    try {
      const carolKey = randomBytes(16).toString('hex');
      await config.makeApiClient(k8s.CoreV1Api).patchNamespacedSecret(
        {
          name: 'vdl-api-keys',
          namespace,
          body: { stringData: { keys: keysText(`carol:user:${hashKey(carolKey)}\n`) } },
        },
        mergePatch,
      );
      const carol = new ApiClient(capped.url, carolKey);
      // Key changes reach a running API through its Secret watch.
      await eventually("carol's key loaded", async () =>
        (await carol.call('GET', '/downloads')).status === 200 ? true : undefined,
      );
      const first = await carol.call<{ job_id: string }>('POST', '/download', {
        body: { url: 'https://v.example/c1' },
      });
      expect(first.status).toBe(202);
      await eventually('cache', () =>
        capped.downloads.get(`${namespace}/${first.body.job_id}`) ? true : undefined,
      );
      const second = await carol.call<{ detail: string }>('POST', '/download', {
        body: { url: 'https://v.example/c2' },
      });
      expect(second.status).toBe(429);
      expect(second.body.detail).toMatch(/1 unfinished downloads; the limit is 1/);
    } finally {
      await capped.close();
    }
  });
});

describe('operations', () => {
  it('serves /healthz, /readyz, /metrics and /openapi.json without a key', async () => {
    expect((await client.call('GET', '/healthz')).status).toBe(200);
    expect((await client.call<{ ready: boolean }>('GET', '/readyz')).body.ready).toBe(true);
    expect((await client.call('GET', '/metrics')).text).toMatch(
      /^vdl_api_submissions_total\{result="accepted"\} \d+$/m,
    );
    const doc = await client.call<{ openapi: string; paths: Record<string, unknown> }>(
      'GET',
      '/openapi.json',
    );
    expect(doc.body.openapi).toBe('3.1.0');
    // The submission rate limit is per replica, and the document says so.
    const submitDoc = (
      doc.body.paths['/download'] as { post: { responses: Record<string, { description: string }> } }
    ).post;
    expect(submitDoc.responses['429']?.description).toMatch(/per user and per API replica/);
    expect(Object.keys(doc.body.paths)).toEqual(
      expect.arrayContaining([
        '/download',
        '/status/{id}',
        '/result/{id}',
        '/downloads',
        '/downloads/{id}',
        '/status/{id}/events',
        '/ws',
      ]),
    );
  });

  it('keeps answering status from its cache while the API server restarts', async () => {
    const id = await submit(client.as(keys.alice));
    const stop = plane.processes.get('kube-apiserver')?.stop();
    const during = await client.as(keys.alice).call('GET', '/status/{id}', { params: { id } });
    expect(during.status).toBe(200);
    await stop;
    const whileDown = await client.as(keys.alice).call('GET', '/status/{id}', { params: { id } });
    expect(whileDown.status).toBe(200);
    await plane.restartApiServer();
    await setStatus(id, { phase: 'Running' });
    await eventually(
      'a change after the restart reaches the API',
      async () => {
        const response = await client
          .as(keys.alice)
          .call<{ state: string }>('GET', '/status/{id}', { params: { id } });
        return response.body.state === 'IN_PROGRESS' ? true : undefined;
      },
      { timeoutMs: 30_000 },
    );
  });

  it('answered every documented route and a 2xx and a 4xx for each that has one', () => {
    const seen = [...ApiClient.seen];
    for (const route of [
      'post /download 202',
      'get /status/{id} 200',
      'get /result/{id} 200',
      'get /downloads 200',
      'delete /downloads/{id} 202',
    ]) {
      expect(seen).toContain(route);
    }
    for (const route of [
      'post /download 422',
      'post /download 401',
      'post /download 413',
      'post /download 415',
      'post /download 429',
      'get /status/{id} 404',
      'get /result/{id} 409',
      'get /result/{id} 410',
      'get /downloads 400',
    ]) {
      expect(seen).toContain(route);
    }
  });
});
