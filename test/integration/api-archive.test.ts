// The API over live downloads and the archive together, on the real control
// plane, MinIO and PostgreSQL: downloads gone from the cluster are still
// listed and answered, each user sees only their own, the list pages across
// both with filters, and a broken filter or cursor is a 400 naming it.
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as k8s from '@kubernetes/client-node';
import type pg from 'pg';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { hashKey } from '../../api/api-keys.ts';
import { loadApiConfig } from '../../api/config.ts';
import { type RunningApi, startApi } from '../../api/server.ts';
import { type VideoDownload, VideoDownloadSpec } from '../../crds/video-download.ts';
import { archivedDownload } from '../../lib/archive/archive-record.ts';
import { archiveDownloads, archivePool } from '../../lib/archive/archive-store.ts';
import { migrateArchive } from '../../lib/archive/migrate.ts';
import { VideoDownloads } from '../../lib/kube/video-downloads.ts';
import { objectReaderFor } from '../../lib/storage/object-reader.ts';
import { type RunningPostgres, startPostgres } from '../cluster/postgres.ts';
import { ApiClient } from '../support/api-client.ts';
import { eventually } from '../support/eventually.ts';
import { createTestNamespace, deleteNamespace, kubeConfigFrom, uniqueName } from '../support/kube.ts';
import { minioClient } from '../support/storage.ts';
import { installCrd } from '../support/vdl.ts';

const config = kubeConfigFrom(inject('adminKubeconfig'));
const endpoint = inject('minio');
const keys = { alice: randomBytes(16).toString('hex'), bob: randomBytes(16).toString('hex') };
const bucket = uniqueName('archived');
let namespace: string;
let dir: string;
let postgres: RunningPostgres;
let pool: pg.Pool;
let api: RunningApi;
let alice: ApiClient;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'vdl-api-archive-'));
  postgres = await startPostgres(dir, dir);
  pool = archivePool(postgres.endpoint.url, { onError: () => {} });
  const client = await pool.connect();
  await migrateArchive(client).finally(() => client.release());
  await installCrd(config);
  namespace = await createTestNamespace(config, 'api-archive');
  await config.makeApiClient(k8s.CoreV1Api).createNamespacedSecret({
    namespace,
    body: {
      metadata: { name: 'vdl-api-keys' },
      stringData: { keys: `alice:user:${hashKey(keys.alice)}\nbob:user:${hashKey(keys.bob)}\n` },
    },
  });
  await minioClient(endpoint).makeBucket(bucket);
  api = await startApi({
    config: loadApiConfig(
      {},
      {
        namespace,
        port: 0,
        bucket,
        s3Endpoint: endpoint.url,
        logLevel: 'silent',
        archiveUrl: postgres.endpoint.url,
      },
    ),
    kubeConfig: config,
    logger: pino({ level: 'silent' }),
    storage: objectReaderFor({
      endpoint: endpoint.url,
      accessKey: endpoint.accessKey,
      secretKey: endpoint.secretKey,
      region: 'us-east-1',
    }),
  });
  alice = new ApiClient(api.url, keys.alice);
}, 180_000);

afterAll(async () => {
  await api?.close();
  await pool?.end();
  await postgres?.destroy();
  await deleteNamespace(config, namespace);
  await rm(dir, { recursive: true, force: true });
});

let serial = 0;
/** A download as the archiver recorded it once it finished and went (created minutes apart). */
function gone(owner: string, title: string, phase: 'Succeeded' | 'Failed' = 'Succeeded'): VideoDownload {
  serial += 1;
  const uid = `00000000-0000-4000-9000-${String(serial).padStart(12, '0')}`;
  return {
    apiVersion: 'vdl.dev/v1alpha1',
    kind: 'VideoDownload',
    metadata: {
      name: `old-${serial}`,
      namespace,
      uid,
      creationTimestamp: new Date(Date.UTC(2026, 10, 1, 0, serial)).toISOString().replace('.000', ''),
      labels: { 'vdl.dev/owner': owner },
    },
    spec: VideoDownloadSpec.parse({ url: `https://videos.example/watch?v=${serial}` }),
    status: {
      phase,
      completionTime: '2026-11-30T00:00:00Z',
      ...(phase === 'Succeeded'
        ? {
            result: {
              bucket,
              key: `${namespace}/old-${serial}/${uid}/file`,
              size: 5,
              sha256: 'a'.repeat(64),
              contentType: 'video/mp4',
              title,
            },
          }
        : { reason: 'VideoUnavailable', message: 'removed', progress: { title } }),
    },
  };
}

const archive = (downloads: VideoDownload[]) =>
  archiveDownloads(
    pool,
    downloads.map((d) => archivedDownload(d) as NonNullable<ReturnType<typeof archivedDownload>>),
  );

describe('the API over the archive', () => {
  // Made once the namespace exists (the file's beforeAll).
  let aliceOld: VideoDownload[] = [];
  let bobOld: VideoDownload;

  beforeAll(async () => {
    aliceOld = [gone('alice', 'Cats one'), gone('alice', 'Dogs two', 'Failed'), gone('alice', 'Cats three')];
    bobOld = gone('bob', 'Cats of bob');
    await archive([...aliceOld, bobOld]);
  });

  it('answers GET /status for a download gone from the cluster with its final state; not for another user', async () => {
    const done = await alice.call<{ state: string; title: string }>('GET', '/status/{id}', {
      params: { id: aliceOld[0]?.metadata.name as string },
    });
    expect(done.status, done.text).toBe(200);
    expect(done.body).toMatchObject({ state: 'DONE', title: 'Cats one' });
    const failed = await alice.call('GET', '/status/{id}', {
      params: { id: aliceOld[1]?.metadata.name as string },
    });
    expect(failed.body).toMatchObject({ state: 'FAILED', error: { reason: 'VideoUnavailable' } });
    const others = await alice.call('GET', '/status/{id}', {
      params: { id: bobOld.metadata.name as string },
    });
    expect(others.status).toBe(404);
  });

  it('lists live and archived downloads as one list, newest first, paged across both, own only', async () => {
    const live = await alice.call<{ job_id: string }>('POST', '/download', {
      body: { url: 'https://videos.example/watch?v=live' },
    });
    expect(live.status, live.text).toBe(202);
    await eventually('the live one cached', async () =>
      api.downloads.get(`${namespace}/${live.body.job_id}`) ? true : undefined,
    );
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const page: { status: number; body: { items: Array<{ job_id: string }>; next_cursor: string | null } } =
        await alice.call('GET', '/downloads', { query: `limit=2${cursor ? `&cursor=${cursor}` : ''}` });
      expect(page.status).toBe(200);
      seen.push(...page.body.items.map((item) => item.job_id));
      cursor = page.body.next_cursor;
    } while (cursor);
    expect(seen).toEqual([live.body.job_id, ...[...aliceOld].reverse().map((d) => d.metadata.name)]);
    expect(seen).not.toContain(bobOld.metadata.name);
  });

  it('filters by text, state and dates across the archive', async () => {
    const names = async (query: string) =>
      (
        (await alice.call<{ items: Array<{ job_id: string }> }>('GET', '/downloads', { query })).body.items ??
        []
      ).map((item) => item.job_id);
    expect(await names('q=cats')).toEqual([aliceOld[2]?.metadata.name, aliceOld[0]?.metadata.name]);
    expect(await names('state=FAILED')).toEqual([aliceOld[1]?.metadata.name]);
    const from = aliceOld[1]?.metadata.creationTimestamp as string;
    expect(await names(`from=${from}&to=2026-11-02`)).toEqual([
      aliceOld[2]?.metadata.name,
      aliceOld[1]?.metadata.name,
    ]);
  });

  it('refuses a filter that is not a state or a date, and a cursor it did not hand out, naming them', async () => {
    for (const [query, words] of [
      ['state=DELETED', 'state must be one of'],
      ['from=yesterday', 'from must be a date'],
      ['cursor=bm90LWEtY3Vyc29y', 'cursor: not a cursor this API handed out'],
    ] as const) {
      const refused = await alice.call<{ detail: string }>('GET', '/downloads', { query });
      expect(refused.status, query).toBe(400);
      expect(refused.body.detail).toContain(words);
    }
  });

  it('answers GET /result for an archived download: a link while its file is stored, 410 once it is not', async () => {
    const kept = gone('alice', 'Kept file');
    await minioClient(endpoint).putObject(bucket, kept.status?.result?.key as string, Buffer.from('bytes'));
    await archive([kept]);
    const link = await alice.call<{ url: string }>('GET', '/result/{id}', {
      params: { id: kept.metadata.name as string },
    });
    expect(link.status, link.text).toBe(200);
    expect(await (await fetch(link.body.url)).text()).toBe('bytes');
    const expired = await alice.call<{ detail: string }>('GET', '/result/{id}', {
      params: { id: aliceOld[0]?.metadata.name as string },
    });
    expect(expired.status).toBe(410);
  });

  it('answers live downloads while the archive is down, and says the archive cannot be read for the rest', async () => {
    await postgres.stop();
    try {
      const list = await alice.call<{ detail: string }>('GET', '/downloads');
      expect(list.status).toBe(503);
      expect(list.body.detail).toContain('the archive cannot be read now');
      const old = await alice.call('GET', '/status/{id}', {
        params: { id: aliceOld[0]?.metadata.name as string },
      });
      expect(old.status).toBe(503);
      const [live] = await new VideoDownloads(config, namespace).list();
      const status = await alice.call('GET', '/status/{id}', {
        params: { id: live?.metadata.name as string },
      });
      expect(status.status).toBe(200);
    } finally {
      await postgres.start();
    }
  });

  it("forgets the caller's archived history on DELETE /history: their rows only, never a live download", async () => {
    const before = await alice.call<{ items: Array<{ job_id: string }> }>('GET', '/downloads', {
      query: 'limit=200',
    });
    const forgot = await alice.call<{ forgotten: number }>('DELETE', '/history');
    expect(forgot.status, forgot.text).toBe(200);
    expect(forgot.body.forgotten).toBe(aliceOld.length + 1);
    const after = await alice.call<{ items: Array<{ job_id: string }> }>('GET', '/downloads', {
      query: 'limit=200',
    });
    // What is left is what is live.
    const liveNames = (await new VideoDownloads(config, namespace).list()).map((d) => d.metadata.name);
    expect(after.body.items.map((item) => item.job_id).sort()).toEqual(liveNames.sort());
    expect(before.body.items.length).toBeGreaterThan(after.body.items.length);
    expect(
      (await alice.call('GET', '/status/{id}', { params: { id: aliceOld[0]?.metadata.name as string } }))
        .status,
    ).toBe(404);
    // Bob's history is his.
    const bobsRows = await pool.query(
      'SELECT count(*)::int AS n FROM vdl_archived_downloads WHERE owner = $1',
      ['bob'],
    );
    expect(bobsRows.rows[0].n).toBe(1);
  });
});
