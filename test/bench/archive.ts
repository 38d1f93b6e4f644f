// The archive on a real PostgreSQL (issue 21's benchmarks), each side by side
// with its baseline:
// - 1,000 downloads finishing at once, archived through the operator's
//   archive (postgresArchive: concurrent record() calls batched into
//   INSERTs): the lag until all are stored, against plain batched INSERTs of
//   the same rows (500 a statement) into the emptied table.
// - GET /downloads with a text filter over 100,000 archived rows of one
//   user, through the API (its own process) under 16 clients, against the
//   API's own SQL query sent straight to PostgreSQL by 16 clients.
import { execFile } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import * as k8s from '@kubernetes/client-node';
import type autocannon from 'autocannon';
import { hashKey } from '../../api/api-keys.ts';
import { type VideoDownload, VideoDownloadSpec } from '../../crds/video-download.ts';
import { postgresArchive } from '../../lib/archive/archive.ts';
import { type ArchivedDownload, archivedDownload } from '../../lib/archive/archive-record.ts';
import { archiveDownloads, archivePool, listArchived } from '../../lib/archive/archive-store.ts';
import { migrateArchive } from '../../lib/archive/migrate.ts';
import { nodeFlags } from '../../lib/runtime/node-flags.ts';
import { startControlPlane } from '../cluster/control-plane.ts';
import { ManagedProcess } from '../cluster/managed-process.ts';
import { startPostgres } from '../cluster/postgres.ts';
import { freePort, waitForHealthy } from '../cluster/readiness.ts';
import { createTestNamespace, kubeConfigFrom } from '../support/kube.ts';
import { installCrd } from '../support/vdl.ts';
import { percentile } from './measures.ts';
import { reportBench } from './results-table.ts';

const root = fileURLToPath(new URL('../../', import.meta.url));
const startedAt = performance.now();
const finishing = 1_000;
const archivedRows = Number(process.env.VDL_BENCH_ARCHIVED ?? 100_000);
const connections = 16;
const seconds = Number(process.env.VDL_BENCH_SECONDS ?? 10);
const words = ['cats', 'dogs', 'trains', 'cooking', 'music', 'lecture', 'news', 'travel', 'kestrel', 'space'];

let serial = 0;
function finished(owner: string): VideoDownload {
  serial += 1;
  const uid = `00000000-0000-4000-a000-${String(serial).padStart(12, '0')}`;
  const word = words[serial % words.length] as string;
  return {
    apiVersion: 'vdl.dev/v1alpha1',
    kind: 'VideoDownload',
    metadata: {
      name: `dl-${serial}`,
      namespace: 'vdl',
      uid,
      creationTimestamp: new Date(Date.UTC(2026, 0, 1) + serial * 1000).toISOString().replace('.000', ''),
      labels: { 'vdl.dev/owner': owner },
    },
    spec: VideoDownloadSpec.parse({ url: `https://videos.example/watch?v=${serial}` }),
    status: {
      phase: 'Succeeded',
      completionTime: '2026-12-01T00:00:00Z',
      result: {
        bucket: 'vdl',
        key: `vdl/dl-${serial}/${uid}/file`,
        size: serial,
        sha256: 'a'.repeat(64),
        contentType: 'video/mp4',
        title: `A video about ${word} number ${serial}`,
      },
    },
  };
}

const rowOf = (download: VideoDownload) => archivedDownload(download) as ArchivedDownload;

const dir = mkdtempSync(join(tmpdir(), 'vdl-bench-archive-'));
const postgres = await startPostgres(dir, dir);
const pool = archivePool(postgres.endpoint.url, { max: 20, onError: () => {} });
const plane = await startControlPlane({ minio: false, log: (m) => console.error(`[cluster] ${m}`) });
let api: ManagedProcess | undefined;
try {
  const client = await pool.connect();
  await migrateArchive(client).finally(() => client.release());

  // 1. 1,000 finishing at once.
  const batch = Array.from({ length: finishing }, () => finished('burst'));
  const archive = postgresArchive(pool);
  let began = performance.now();
  await Promise.all(batch.map((download) => archive.record(download)));
  const archivedMs = performance.now() - began;
  const stored = (
    await pool.query("SELECT count(*)::int AS n FROM vdl_archived_downloads WHERE owner = 'burst'")
  ).rows[0].n as number;
  if (stored !== finishing) throw new Error(`${stored} of ${finishing} rows stored`);
  await pool.query('TRUNCATE vdl_archived_downloads');
  const rows = batch.map(rowOf);
  began = performance.now();
  for (let i = 0; i < rows.length; i += 500) await archiveDownloads(pool, rows.slice(i, i + 500));
  const plainMs = performance.now() - began;
  await pool.query('TRUNCATE vdl_archived_downloads');

  // 2. 100,000 archived rows of one user, then GET /downloads?q= through the API.
  const loading = performance.now();
  for (let i = 0; i < archivedRows; i += 1_000)
    await archiveDownloads(
      pool,
      Array.from({ length: Math.min(1_000, archivedRows - i) }, () => rowOf(finished('bench'))),
    );
  await pool.query('ANALYZE vdl_archived_downloads');
  const loadSeconds = (performance.now() - loading) / 1000;

  const config = kubeConfigFrom(plane.adminKubeconfig);
  await installCrd(config);
  const namespace = await createTestNamespace(config, 'bench-archive');
  const key = 'bench-archive-key';
  await config.makeApiClient(k8s.CoreV1Api).createNamespacedSecret({
    namespace,
    body: { metadata: { name: 'vdl-api-keys' }, stringData: { keys: `bench:user:${hashKey(key)}\n` } },
  });
  const port = await freePort();
  api = new ManagedProcess({
    name: 'api',
    command: process.execPath,
    args: [...nodeFlags('api', root), join(root, 'api/main.ts')],
    env: {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      KUBECONFIG: plane.adminKubeconfig,
      VDL_API_PORT: String(port),
      VDL_API_NAMESPACE: namespace,
      VDL_API_LOG_LEVEL: 'warn',
      VDL_API_ARCHIVE_URL: postgres.endpoint.url,
    },
    logFile: join(dir, 'api.log'),
  });
  const apiUrl = `http://127.0.0.1:${port}`;
  await waitForHealthy(api, `${apiUrl}/readyz`, { timeoutMs: 120_000 });
  const path = '/downloads?q=kestrel&limit=50';
  const check = await fetch(`${apiUrl}${path}`, { headers: { authorization: `Bearer ${key}` } });
  const checked = (await check.json()) as { items: unknown[] };
  if (check.status !== 200 || checked.items.length !== 50) throw new Error(`GET ${path}: ${check.status}`);
  const { stdout } = await promisify(execFile)(
    process.execPath,
    [
      join(root, 'test/bench/load.ts'),
      JSON.stringify({
        url: `${apiUrl}${path}`,
        connections,
        duration: seconds,
        headers: { authorization: `Bearer ${key}` },
      }),
    ],
    { maxBuffer: 64 * 2 ** 20 },
  );
  const viaApi = JSON.parse(stdout) as autocannon.Result;

  // The baseline: the API's own query, straight to PostgreSQL, by as many clients.
  const latencies: number[] = [];
  const until = performance.now() + seconds * 1000;
  await Promise.all(
    Array.from({ length: connections }, async () => {
      while (performance.now() < until) {
        const t = performance.now();
        await listArchived(pool, { owner: 'bench', text: 'kestrel', limit: 51 });
        latencies.push(performance.now() - t);
      }
    }),
  );
  const sqlP50 = percentile(latencies, 50);
  const sqlP99 = percentile(latencies, 99);
  const failures = viaApi.errors + viaApi.non2xx;

  reportBench(
    'archive',
    startedAt,
    [
      {
        id: 'A1',
        measure: `${finishing} downloads finishing at once: lag until all archived`,
        vdl: `${archivedMs.toFixed(0)} ms (${Math.round((finishing / archivedMs) * 1000)} rows/s)`,
        baseline: `${plainMs.toFixed(0)} ms (${Math.round((finishing / plainMs) * 1000)} rows/s, plain INSERTs of 500 rows)`,
        ratio: (archivedMs / plainMs).toFixed(2),
        goal: '',
        met: undefined,
      },
      {
        id: 'A2',
        measure: `GET /downloads?q= over ${archivedRows.toLocaleString('en')} archived rows, ${connections} clients: p99`,
        vdl: `${viaApi.latency.p99} ms (p50 ${viaApi.latency.p50} ms, ${Math.round(viaApi.requests.average)} req/s)`,
        baseline: `${sqlP99.toFixed(1)} ms (p50 ${sqlP50.toFixed(1)} ms, the same SQL straight to PostgreSQL)`,
        ratio: (viaApi.latency.p99 / sqlP99).toFixed(2),
        goal: '< 50 ms',
        met: viaApi.latency.p99 < 50 && failures === 0,
      },
    ],
    [
      ['rows loaded for A2', `${archivedRows} in ${loadSeconds.toFixed(1)} s (1,000 a statement)`],
      ['text filter', `q=kestrel (1 row in ${words.length}), limit 50, trigram index on title and url`],
      ['errors + non-2xx through the API', String(failures)],
      ['SQL queries in the baseline', String(latencies.length)],
      [
        'PostgreSQL',
        `Debian's server, fsync off (a test cluster), ${postgres.endpoint.host}:${postgres.endpoint.port}`,
      ],
    ],
  );
} finally {
  await api?.stop();
  await plane.stop();
  await pool.end();
  await postgres.destroy();
}
