// The archive's schema and queries on a real PostgreSQL (Debian's server,
// started for this file): migrations from an empty database, idempotent
// writes, hostile text stored and found back exactly, and the filters and
// paging GET /downloads will read with.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type VideoDownload, VideoDownloadSpec } from '../../crds/video-download.ts';
import { archivedDownload } from '../../lib/archive/archive-record.ts';
import {
  archiveDownloads,
  archivedByName,
  archivedUids,
  archivePool,
  deleteArchivedBefore,
  listArchived,
} from '../../lib/archive/archive-store.ts';
import { migrateArchive, migrationsTable } from '../../lib/archive/migrate.ts';
import { type RunningPostgres, startPostgres } from '../cluster/postgres.ts';

let dir: string;
let postgres: RunningPostgres;
let pool: pg.Pool;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'vdl-archive-'));
  postgres = await startPostgres(dir, dir);
  pool = archivePool(postgres.endpoint.url);
}, 120_000);

afterAll(async () => {
  await pool?.end();
  await postgres?.destroy();
  await rm(dir, { recursive: true, force: true });
});

let serial = 0;
function finished(
  overrides: {
    owner?: string;
    title?: string;
    url?: string;
    phase?: 'Succeeded' | 'Failed';
    created?: string;
  } = {},
): VideoDownload {
  serial += 1;
  const uid = `00000000-0000-4000-8000-${String(serial).padStart(12, '0')}`;
  return {
    apiVersion: 'vdl.dev/v1alpha1',
    kind: 'VideoDownload',
    metadata: {
      name: `dl-${serial}`,
      namespace: 'vdl',
      uid,
      creationTimestamp: overrides.created ?? new Date(Date.UTC(2026, 10, 1) + serial * 60_000).toISOString(),
      labels: { 'vdl.dev/owner': overrides.owner ?? 'alice' },
    },
    spec: VideoDownloadSpec.parse({ url: overrides.url ?? `https://example.com/v/${serial}` }),
    status: {
      phase: overrides.phase ?? 'Succeeded',
      completionTime: '2026-12-01T12:00:00Z',
      ...(overrides.phase === 'Failed'
        ? { reason: 'VideoUnavailable' }
        : {
            result: {
              bucket: 'videos',
              key: `vdl/dl-${serial}/${uid}/file`,
              size: serial,
              sha256: 'a'.repeat(64),
              contentType: 'video/mp4',
              title: overrides.title ?? `Video ${serial}`,
            },
          }),
    },
  };
}

const byteOrder = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

const rowOf = (download: VideoDownload) => {
  const row = archivedDownload(download);
  if (!row) throw new Error('not finished');
  return row;
};

describe('the archive on PostgreSQL', () => {
  it('migrates an empty database once; running the migrations again applies nothing', async () => {
    const client = await pool.connect();
    try {
      expect(await migrateArchive(client)).toEqual(['1764700000000_downloads']);
      expect(await migrateArchive(client)).toEqual([]);
      const recorded = await client.query(`SELECT name FROM ${migrationsTable}`);
      expect(recorded.rows.map((row) => row.name)).toEqual(['1764700000000_downloads']);
    } finally {
      client.release();
    }
  });

  it('archives a download once, however often and however concurrently it is written', async () => {
    const row = rowOf(finished());
    const written = await Promise.all([archiveDownloads(pool, [row]), archiveDownloads(pool, [row])]);
    expect(written.flat()).toEqual([row.uid]);
    expect(await archiveDownloads(pool, [row])).toEqual([]);
    const count = await pool.query('SELECT count(*)::int AS n FROM vdl_archived_downloads WHERE uid = $1', [
      row.uid,
    ]);
    expect(count.rows[0].n).toBe(1);
    expect(await archivedUids(pool, [row.uid, '00000000-0000-4000-8000-999999999999'])).toEqual(
      new Set([row.uid]),
    );
  });

  it.each([
    ['SQL', "Robert'); DROP TABLE vdl_archived_downloads; --"],
    ['NUL bytes', 'before\u0000after\u0000'],
    ['10,000 characters', 'long '.repeat(2_000)],
    ['invalid UTF-16 (a lone surrogate, as JSON may hold)', 'broken \ud83d title'],
    ['LIKE wildcards and backslashes', '100% _real_ \\ title'],
  ])('stores a title holding %s and finds it back as it was', async (_, title) => {
    const download = finished({
      owner: `hostile-${serial}`,
      title,
      // The URL holds the same text, as far as a URL can (no lone surrogate, at most its length).
      url: `https://example.com/v?q=${encodeURIComponent(title.slice(0, 60).replace(/[\ud800-\udfff]/gu, ''))}`,
    });
    await archiveDownloads(pool, [rowOf(download)]);
    const owner = download.metadata.labels?.['vdl.dev/owner'] as string;
    const [found] = await listArchived(pool, { owner, text: title.slice(3, 40), limit: 10 });
    expect(found?.title).toBe(title);
    expect((found?.record as VideoDownload | undefined)?.status?.result?.title).toBe(title);
    expect(await archivedByName(pool, owner, download.metadata.name as string)).toMatchObject({ title });
    // The table is still there, and holds one row per download.
    expect(
      (await pool.query('SELECT count(*)::int AS n FROM vdl_archived_downloads WHERE owner = $1', [owner]))
        .rows[0].n,
    ).toBe(1);
  });

  it('lists one owner only, newest first, filtered by state, dates and text, paged without gaps or repeats', async () => {
    const owner = 'pager';
    const downloads = Array.from({ length: 25 }, (_, i) =>
      finished({
        owner,
        phase: i % 5 === 0 ? 'Failed' : 'Succeeded',
        title: i % 2 === 0 ? `Cats ${i}` : `Dogs ${i}`,
        // Several share a creation second: the name orders them.
        created: new Date(Date.UTC(2026, 10, 1, 0, Math.floor(i / 3))).toISOString(),
      }),
    );
    await archiveDownloads(pool, downloads.map(rowOf));
    await archiveDownloads(pool, [rowOf(finished({ owner: 'someone-else', title: 'Cats elsewhere' }))]);

    const seen: string[] = [];
    let after: { createdAt: Date; name: string } | undefined;
    for (;;) {
      const page = await listArchived(pool, { owner, limit: 7, after });
      seen.push(...page.map((row) => row.uid));
      const last = page.at(-1);
      if (page.length < 7 || !last) break;
      after = { createdAt: last.createdAt, name: last.name };
    }
    const expected = [...downloads]
      .sort((a, b) =>
        a.metadata.creationTimestamp === b.metadata.creationTimestamp
          ? byteOrder(b.metadata.name as string, a.metadata.name as string)
          : byteOrder(b.metadata.creationTimestamp as string, a.metadata.creationTimestamp as string),
      )
      .map((d) => d.metadata.uid);
    expect(seen).toEqual(expected);

    expect(await listArchived(pool, { owner, state: 'FAILED', limit: 100 })).toHaveLength(5);
    const cats = await listArchived(pool, { owner, text: 'cats', limit: 100 });
    // Failed downloads have no title: only the done ones are cats.
    expect(cats).toHaveLength(10);
    expect(cats.every((row) => row.title?.startsWith('Cats') && row.owner === owner)).toBe(true);
    const window = await listArchived(pool, {
      owner,
      from: new Date(Date.UTC(2026, 10, 1, 0, 2)),
      to: new Date(Date.UTC(2026, 10, 1, 0, 4)),
      limit: 100,
    });
    expect(window).toHaveLength(6);
  });

  it('retention deletes the rows finished before the cutoff, in batches, and no others', async () => {
    const old = Array.from({ length: 7 }, () => finished({ owner: 'retention' }));
    const recent = finished({ owner: 'retention' });
    (recent.status as { completionTime: string }).completionTime = '2027-01-01T00:00:00Z';
    await archiveDownloads(pool, [...old, recent].map(rowOf));
    const before = (await pool.query('SELECT count(*)::int AS n FROM vdl_archived_downloads')).rows[0]
      .n as number;
    // Every row but the recent one finished on 2026-12-01.
    const deleted = await deleteArchivedBefore(pool, new Date('2026-12-31T00:00:00Z'), 3);
    expect(deleted).toBe(before - 1);
    expect(await listArchived(pool, { owner: 'retention', limit: 10 })).toEqual([
      expect.objectContaining({ uid: recent.metadata.uid }),
    ]);
  });
});
