// Keys and tenants against the API process. No key, a wrong key in any
// shape, a revoked key (removed from the Secret while the API runs): 401 on
// every route, the same answer whether the job exists or not. Alice against
// every route of Bob's jobs (running, done with a stored file, failed): the
// very answer an unknown id gets, byte for byte but for the id, and Bob's
// jobs untouched.
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { hashKey } from '../../api/api-keys.ts';
import type { VideoDownloadStatus } from '../../crds/video-download.ts';
import { VideoDownloads } from '../../lib/kube/video-downloads.ts';
import { type ApiProcess, startApiProcess } from '../support/api-process.ts';
import { eventually } from '../support/eventually.ts';
import { minioClient } from '../support/storage.ts';

let api: ApiProcess;
const bobs: Record<'running' | 'done' | 'failed', string> = { running: '', done: '', failed: '' };
// The API's default bucket (VDL_API_BUCKET): GET /result signs only inside a download's own bucket.
const bucket = 'vdl';

/** An id of the same shape and length as a real one, that no job has. */
const unknownId = () => `dl-${randomBytes(10).toString('hex')}`;

/** Every route that takes a job id, as method and path. */
const jobRoutes = (id: string): Array<[string, string]> => [
  ['GET', `/status/${id}`],
  ['GET', `/status/${id}/events`],
  ['GET', `/result/${id}`],
  ['GET', `/result/${id}?redirect=true`],
  ['DELETE', `/downloads/${id}`],
];

interface Answer {
  status: number;
  headers: Record<string, string>;
  body: string;
}

/** One request, its answer with the id masked; a stream that never ends fails at the deadline. */
async function ask(
  method: string,
  path: string,
  authorization: string | undefined,
  id = '',
): Promise<Answer> {
  const response = await fetch(`${api.url}${path}`, {
    method,
    redirect: 'manual',
    headers: authorization === undefined ? {} : { authorization },
    signal: AbortSignal.timeout(30_000),
  });
  const mask = (text: string) => (id ? text.replaceAll(id, 'ID') : text);
  const headers = Object.fromEntries(
    [...response.headers].filter(([name]) => !['date', 'etag'].includes(name)).map(([n, v]) => [n, mask(v)]),
  );
  return { status: response.status, headers, body: mask(await response.text()) };
}

async function submitAs(key: string): Promise<string> {
  const response = await fetch(`${api.url}/download`, {
    method: 'POST',
    headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
    body: JSON.stringify({ url: `https://videos.example/${randomBytes(4).toString('hex')}` }),
  });
  expect(response.status).toBe(202);
  return ((await response.json()) as { job_id: string }).job_id;
}

async function setStatus(name: string, status: VideoDownloadStatus): Promise<void> {
  await new VideoDownloads(api.kube, api.namespace).patchStatus(name, status);
}

/** What a WebSocket subscription to these ids answers, ids masked, in order. */
async function subscribe(key: string, ids: string[]): Promise<string[]> {
  const ws = new WebSocket(`${api.url.replace('http', 'ws')}/ws`, {
    headers: { authorization: `Bearer ${key}` },
  });
  const messages: string[] = [];
  ws.on('message', (data) => messages.push(String(data)));
  await new Promise((resolve, reject) => {
    ws.on('open', resolve);
    ws.on('error', reject);
  });
  ws.send(JSON.stringify({ subscribe: ids }));
  await eventually('an answer per id', () => (messages.length >= ids.length ? true : undefined));
  ws.close();
  return messages.map((message, index) => message.replaceAll(ids[index] as string, 'ID'));
}

/** The status of a WebSocket upgrade with this Authorization header. */
function upgradeStatus(authorization: string | undefined): Promise<number> {
  const ws = new WebSocket(`${api.url.replace('http', 'ws')}/ws`, {
    headers: authorization === undefined ? {} : { authorization },
  });
  return new Promise((resolve) => {
    ws.on('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0));
    ws.on('open', () => {
      ws.close();
      resolve(101);
    });
  });
}

beforeAll(async () => {
  api = await startApiProcess({ VDL_API_SUBMIT_PER_MINUTE: '600', VDL_API_SUBMIT_BURST: '100' });
  const storage = minioClient(api.plane.minio as NonNullable<ApiProcess['plane']['minio']>);
  await storage.makeBucket(bucket);
  bobs.running = await submitAs(api.keys.bob);
  bobs.done = await submitAs(api.keys.bob);
  bobs.failed = await submitAs(api.keys.bob);
  // Under the download's own prefix, uid included: GET /result signs nothing outside it.
  const { uid } = (await new VideoDownloads(api.kube, api.namespace).get(bobs.done)).metadata;
  const key = `${api.namespace}/${bobs.done}/${uid}/clip.mp4`;
  await storage.putObject(bucket, key, Buffer.from('bob only'), 8, { 'Content-Type': 'video/mp4' });
  await setStatus(bobs.running, { phase: 'Running', progress: { percent: 40, stage: 'downloading' } });
  await setStatus(bobs.done, {
    phase: 'Succeeded',
    result: { bucket, key, filename: 'clip.mp4', size: 8, sha256: 'b'.repeat(64), contentType: 'video/mp4' },
  });
  await setStatus(bobs.failed, { phase: 'Failed', reason: 'NotFound', message: 'private detail of bob' });
  // Bob sees every one of them, so a 404 for Alice below is the tenancy check and nothing else.
  await eventually("Bob's jobs in the API's cache", async () => {
    const states = await Promise.all(
      Object.values(bobs).map(
        async (id) => (await ask('GET', `/status/${id}`, `Bearer ${api.keys.bob}`)).body,
      ),
    );
    return states.every((body) => /"state":"(IN_PROGRESS|DONE|FAILED)"/.test(body)) ? true : undefined;
  });
  expect((await ask('GET', `/result/${bobs.done}`, `Bearer ${api.keys.bob}`)).status).toBe(200);
});

afterAll(async () => {
  await api?.stop();
});

describe('another user', () => {
  it("gets for every route of Bob's jobs exactly what an unknown id gets", async () => {
    let compared = 0;
    for (const [state, id] of Object.entries(bobs)) {
      const unknown = unknownId();
      const theirs = jobRoutes(id);
      const nobodys = jobRoutes(unknown);
      for (const [index, [method, path]] of theirs.entries()) {
        const [, unknownPath] = nobodys[index] as [string, string];
        const answer = await ask(method, path, `Bearer ${api.keys.alice}`, id);
        const baseline = await ask(method, unknownPath, `Bearer ${api.keys.alice}`, unknown);
        expect(answer.status, `${state}: ${method} ${path}`).toBe(404);
        expect(answer, `${state}: ${method} ${path}`).toEqual(baseline);
        compared += 1;
      }
      expect(await subscribe(api.keys.alice, [id])).toEqual(await subscribe(api.keys.alice, [unknown]));
      compared += 1;
    }
    console.info(`tenancy: ${compared} of Alice's requests for Bob's jobs answered as for unknown ids`);
  });

  it("does not list Bob's jobs, nor reach them through his Idempotency-Key", async () => {
    const listed = await ask('GET', '/downloads?limit=200', `Bearer ${api.keys.alice}`);
    expect(listed.status).toBe(200);
    for (const id of Object.values(bobs)) expect(listed.body).not.toContain(id);
    for (const state of ['IN_PROGRESS', 'DONE', 'FAILED']) {
      const filtered = await ask('GET', `/downloads?state=${state}`, `Bearer ${api.keys.alice}`);
      expect(JSON.parse(filtered.body).items).toEqual([]);
    }
    const headers = { 'content-type': 'application/json', 'idempotency-key': 'shared-key' };
    const submit = (key: string) =>
      fetch(`${api.url}/download`, {
        method: 'POST',
        headers: { ...headers, authorization: `Bearer ${key}` },
        body: JSON.stringify({ url: 'https://videos.example/same' }),
      }).then((r) => r.json() as Promise<{ job_id: string }>);
    const bobsJob = await submit(api.keys.bob);
    const alicesJob = await submit(api.keys.alice);
    expect(alicesJob.job_id).not.toBe(bobsJob.job_id);
  });

  it("leaves Bob's jobs as they were, and an admin sees them", async () => {
    for (const id of Object.values(bobs)) {
      expect((await ask('GET', `/status/${id}`, `Bearer ${api.keys.bob}`)).status).toBe(200);
      expect((await ask('GET', `/status/${id}`, `Bearer ${api.keys.root}`)).status).toBe(200);
    }
  });
});

describe('keys', () => {
  const everyRoute = (id: string): Array<[string, string]> => [
    ['POST', '/download'],
    ['GET', '/downloads'],
    ...jobRoutes(id),
  ];

  /** Each route with this header answers 401, the same as with no key and as for an unknown id. */
  async function refusedEverywhere(authorization: string | undefined): Promise<number> {
    let refused = 0;
    for (const id of Object.values(bobs)) {
      const unknown = unknownId();
      const routes = everyRoute(id);
      for (const [index, [method, path]] of routes.entries()) {
        const answer = await ask(method, path, authorization, id);
        const [, unknownPath] = everyRoute(unknown)[index] as [string, string];
        expect(answer.status, `${authorization}: ${method} ${path}`).toBe(401);
        expect(answer.headers['www-authenticate']).toBe('Bearer realm="vdl"');
        expect(answer).toEqual(await ask(method, unknownPath, undefined, unknown));
        refused += 1;
      }
    }
    expect(await upgradeStatus(authorization)).toBe(401);
    return refused + 1;
  }

  it('refuses a missing key and every wrong one on every route', async () => {
    const key = api.keys.alice;
    const wrong = [
      undefined,
      '',
      'Bearer',
      'Bearer ',
      'Bearer wrong',
      `Bearer ${hashKey(key)}`,
      `Basic ${Buffer.from(`alice:${key}`).toString('base64')}`,
      `Token ${key}`,
      key,
      `Bearer ${key.toUpperCase()}`,
      `Bearer ${key}x`,
      `Bearer ${key.slice(0, -1)}`,
      `Bearer ${key} ${key}`,
      `Bearer ${'a'.repeat(8000)}`,
    ];
    let refused = 0;
    for (const authorization of wrong) refused += await refusedEverywhere(authorization);
    // A key in the URL opens nothing (browsers open streams with tickets: hostile-streams.test.ts).
    const viaQuery = await ask('GET', `/downloads?access_token=${key}`, undefined);
    expect(viaQuery.status).toBe(401);
    console.info(`keys: ${wrong.length} missing or wrong keys refused on ${refused + 1} requests`);
  });

  it('refuses a revoked key on every route once the Secret changes, and ends its open streams', async () => {
    const bob = `Bearer ${api.keys.bob}`;
    expect((await ask('GET', '/downloads', bob)).status).toBe(200);
    // Streams opened before the revocation would otherwise go on telling Bob about his job.
    const events = await fetch(`${api.url}/status/${bobs.running}/events`, {
      headers: { authorization: bob },
    });
    expect(events.status).toBe(200);
    const reader = events.body?.getReader() as ReadableStreamDefaultReader<Uint8Array>;
    expect(String(Buffer.from((await reader.read()).value ?? []))).toContain('event: status');
    const ws = new WebSocket(`${api.url.replace('http', 'ws')}/ws`, { headers: { authorization: bob } });
    let wsClosed = false;
    ws.on('close', () => {
      wsClosed = true;
    });
    const wsStatus = new Promise((resolve) => ws.on('message', resolve));
    await new Promise((resolve) => ws.on('open', resolve));
    ws.send(JSON.stringify({ subscribe: [bobs.running] }));
    await wsStatus;
    let streamEnded = false;
    void (async () => {
      while (!(await reader.read()).done);
      streamEnded = true;
    })().catch(() => {
      streamEnded = true;
    });
    await api.setKeysText(api.keysText(['bob']));
    await eventually("the API to drop Bob's key", async () =>
      (await ask('GET', '/downloads', bob)).status === 401 ? true : undefined,
    );
    await eventually('the open event stream and WebSocket to end', () =>
      streamEnded && wsClosed ? true : undefined,
    );
    const refused = await refusedEverywhere(bob);
    expect((await ask('GET', '/downloads', `Bearer ${api.keys.alice}`)).status).toBe(200);
    console.info(`keys: a revoked key refused on ${refused} requests`);
  });
});
