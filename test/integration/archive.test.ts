// The archiver on the real control plane and a real PostgreSQL: each
// finished download archived once, before its deletion lets it go; with the
// database stopped, downloads still finish, say why they are not archived,
// and are archived once each when it is back.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { VideoDownload } from '../../crds/video-download.ts';
import { postgresArchive } from '../../lib/archive/archive.ts';
import { archivedByName, archivePool } from '../../lib/archive/archive-store.ts';
import { migrateArchive } from '../../lib/archive/migrate.ts';
import { type RunningPostgres, startPostgres } from '../cluster/postgres.ts';
import { eventually } from '../support/eventually.ts';
import { createTestEnvironment, type TestEnvironment } from '../support/test-operator.ts';

let dir: string;
let postgres: RunningPostgres;
let pool: pg.Pool;
let env: TestEnvironment;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'vdl-archiver-'));
  postgres = await startPostgres(dir, dir);
  pool = archivePool(postgres.endpoint.url, { onError: () => {} });
  const client = await pool.connect();
  await migrateArchive(client).finally(() => client.release());
  env = await createTestEnvironment('archive');
  await env.startOperator(
    { archive: { url: '', finalizerTimeoutSeconds: 600, retrySeconds: 0.5, ttlDays: 0 } },
    {
      archive: postgresArchive(archivePool(postgres.endpoint.url, { onError: () => {} })),
    },
  );
}, 180_000);

afterAll(async () => {
  await postgres?.start().catch(() => {});
  await env?.close();
  await pool?.end();
  await postgres?.destroy();
  await rm(dir, { recursive: true, force: true });
});

const rowsOf = async (uid: string) =>
  (await pool.query('SELECT count(*)::int AS n FROM vdl_archived_downloads WHERE uid = $1', [uid])).rows[0]
    .n as number;

async function finish(name: string): Promise<VideoDownload> {
  const created = await env.downloads.create(name, { url: `https://example.com/${name}` });
  const pod = await env.kubelet.livePod(name);
  await env.kubelet.running(pod);
  const error = { reason: 'VideoUnavailable', message: 'removed by the uploader' };
  await env.kubelet.terminated(pod, 42, JSON.stringify({ error }));
  await env.downloads.waitFor(name, 'Failed', (d) => d.status?.phase === 'Failed');
  return created;
}

describe('the archiver', () => {
  it('archives a finished download once; deleting it leaves its row, found by its name', async () => {
    const created = await finish('archived-once');
    await eventually('its row', async () =>
      (await rowsOf(created.metadata.uid as string)) === 1 ? true : undefined,
    );
    await env.downloads.delete('archived-once');
    await eventually('the download gone', async () =>
      env.downloads.get('archived-once').then(
        () => undefined,
        (error: { code?: number }) => (error.code === 404 ? true : undefined),
      ),
    );
    expect(await rowsOf(created.metadata.uid as string)).toBe(1);
    const row = await archivedByName(pool, `namespace:${env.namespace}`, 'archived-once');
    expect(row).toMatchObject({ state: 'FAILED', url: 'https://example.com/archived-once' });
    // Nothing said on the resource: archiving that worked costs no status write.
  });

  it('with the database stopped, downloads still finish and say why they are not archived; once it is back, each is archived once', async () => {
    await postgres.stop();
    const names = ['outage-1', 'outage-2', 'outage-3'];
    const created = await Promise.all(names.map((name) => finish(name)));
    for (const name of names) {
      const failing = await env.downloads.waitFor(
        name,
        'Archived False',
        (d) => d.status?.conditions?.some((c) => c.type === 'Archived' && c.status === 'False') ?? false,
      );
      expect(failing.status?.archive).toMatchObject({ state: 'Failing', reason: 'ArchiveUnavailable' });
      expect(failing.status?.phase).toBe('Failed');
      // No credential in what status says.
      expect(JSON.stringify(failing.status)).not.toContain(postgres.endpoint.password);
    }
    // Deleted while the database is down: held by its finalizer until its row is written.
    await env.downloads.delete('outage-3');
    await postgres.start();
    for (const download of created)
      await eventually(`${download.metadata.name} archived`, async () =>
        (await rowsOf(download.metadata.uid as string)) === 1 ? true : undefined,
      );
    for (const name of ['outage-1', 'outage-2'])
      await env.downloads.waitFor(
        name,
        'Archived True',
        (d) => d.status?.conditions?.some((c) => c.type === 'Archived' && c.status === 'True') ?? false,
      );
    await eventually('outage-3 gone after its row was written', async () =>
      env.downloads.get('outage-3').then(
        () => undefined,
        (error: { code?: number }) => (error.code === 404 ? true : undefined),
      ),
    );
    for (const download of created) expect(await rowsOf(download.metadata.uid as string)).toBe(1);
  });
});
