// Faults injected into the whole running system (`make dev`'s environment
// with two operator replicas), each while 50 throttled downloads are in
// flight: the active operator killed, kube-apiserver and etcd restarted,
// MinIO stopped for 30 s, download processes killed, the API restarted under
// live streams. Then an audit: nothing accepted is lost, nothing is left over.
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import * as k8s from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { archivePool } from '../../lib/archive/archive-store.ts';
import { type DevEnvironment, startDevEnvironment } from '../dev-environment/environment.ts';
import { eventually } from '../support/eventually.ts';
import { followEvents, followSocket } from '../support/live-streams.ts';
import { incompleteUploads, minioClient } from '../support/storage.ts';
import { type AuditReport, audit } from './audit.ts';
import { FaultRun } from './fault-run.ts';

let env: DevEnvironment;
let run: FaultRun;
let sourceSha256: string;
let report: AuditReport | undefined;
const startedAt = Date.now();

async function leaseHolder(): Promise<string | undefined> {
  const lease = await run.config
    .makeApiClient(k8s.CoordinationV1Api)
    .readNamespacedLease({ name: 'vdl-operator', namespace: env.namespace });
  return lease.spec?.holderIdentity ?? undefined;
}

async function readyz(): Promise<{ status: number; body: { status: string; cache: string } }> {
  const response = await fetch(`${env.apiUrl}/readyz`);
  return { status: response.status, body: (await response.json()) as { status: string; cache: string } };
}

/** Every download of the wave finished DONE, with the fixture's bytes. */
async function expectAllDone(ids: string[]): Promise<void> {
  const finished = await run.finished(ids);
  const failures = finished
    .filter((d) => d.status?.phase !== 'Succeeded')
    .map((d) => `${d.metadata.name}: ${d.status?.reason} ${d.status?.message}`);
  expect(failures).toEqual([]);
  expect(new Set(finished.map((d) => d.status?.result?.sha256))).toEqual(new Set([sourceSha256]));
}

beforeAll(async () => {
  env = await startDevEnvironment({
    dir: mkdtempSync(join(tmpdir(), 'vdl-chaos-')),
    namespace: 'chaos',
    operatorReplicas: 2,
    // Many at once, yet each is a yt-dlp process: about what 2 cores carry.
    maxActiveDownloads: 8,
    maxUnfinishedPerUser: 200,
    minUploadPartSize: '5Mi',
  });
  run = new FaultRun(env);
  await run.ready();
  sourceSha256 = createHash('sha256')
    .update(readFileSync(env.media.file('large.mp4')))
    .digest('hex');
}, 300_000);

afterAll(async () => {
  const seconds = Math.round((Date.now() - startedAt) / 1000);
  console.log(
    `faults suite: ${run?.faults.length ?? 0} faults injected (${run?.faults.join('; ')}); ` +
      `downloads submitted ${report?.submitted}, terminal ${report?.terminal} ` +
      `(DONE ${report?.done}, FAILED ${report?.failed}), lost ${report?.lost.length}; ${seconds} s`,
  );
  run?.stop();
  await env?.stop();
});

describe('faults with 50 downloads in flight', () => {
  it('kill -9 of the active operator: a standby takes the Lease and finishes every download, one Job each', async () => {
    const ids = await run.wave('leader');
    await run.running(ids, 3);
    const leader = await eventually('a leader', leaseHolder);
    const index = env.operatorIdentities.indexOf(leader);
    expect(index).toBeGreaterThanOrEqual(0);
    await env.processes.operators[index]?.kill();
    run.fault(`kill -9 ${leader}`);
    const successor = await eventually(
      'a standby to take the Lease',
      async () => {
        const holder = await leaseHolder();
        return holder && holder !== leader ? holder : undefined;
      },
      { timeoutMs: 60_000, intervalMs: 500 },
    );
    expect(env.operatorIdentities).toContain(successor);
    await expectAllDone(ids);
    expect(ids.filter((id) => (run.jobUids.get(id)?.size ?? 0) !== 1)).toEqual([]);
  });

  it('kube-apiserver restart: /readyz says the API serves from cache, reads go on, nothing is missed', async () => {
    const ids = await run.wave('apiserver');
    await run.running(ids, 3);
    const restarted = env.plane.restartApiServer();
    run.fault('restart kube-apiserver');
    const degraded = await eventually(
      'the API to report serving from cache',
      async () => {
        const ready = await readyz();
        return ready.body.status === 'degraded' ? ready : undefined;
      },
      { timeoutMs: 60_000, intervalMs: 100 },
    );
    // Still ready: a load balancer keeps sending reads, which the cache answers.
    expect(degraded.status).toBe(200);
    expect(degraded.body.cache).toMatch(/^serving from cache, API server unreachable since \d{4}-/);
    const read = await fetch(`${env.apiUrl}/status/${ids[0]}`, {
      headers: { authorization: `Bearer ${env.apiKey}` },
    });
    expect(read.status).toBe(200);
    await restarted;
    await eventually('the API cache current again', async () =>
      (await readyz()).body.status === 'ok' ? true : undefined,
    );
    await expectAllDone(ids);
  });

  it('etcd restart: operator, API and downloads carry on and every download finishes', async () => {
    const ids = await run.wave('etcd');
    await run.running(ids, 3);
    await env.plane.restartEtcd();
    run.fault('restart etcd');
    await expectAllDone(ids);
    await eventually('the API cache current', async () =>
      (await readyz()).body.status === 'ok' ? true : undefined,
    );
  });

  it('MinIO stopped for 30 s while downloads upload: each retries, then is DONE with its bytes or FAILED saying why; nothing partial left', async () => {
    // The noisy fixture takes parts of 5 MiB each: uploads of several parts, long enough to be caught.
    const noisy = readFileSync(env.media.file('noisy.mp4'));
    const noisySha256 = createHash('sha256').update(noisy).digest('hex');
    const parts = Math.ceil(noisy.length / (5 * 2 ** 20));
    expect(parts).toBeGreaterThan(1);
    // A limit of 50Mi makes the operator choose parts of the configured 5 MiB (4Gi would give 21 MB parts).
    const ids = await run.wave('noisy-minio', 50, { limits: { maxFileSize: '50Mi' } });
    const uploading = await eventually(
      'a download uploading',
      () => {
        const found = ids.filter((id) => run.get(id)?.status?.progress?.stage === 'uploading');
        return found.length > 0 ? found : undefined;
      },
      { timeoutMs: 180_000, intervalMs: 20 },
    );
    await env.plane.stopMinio();
    run.fault(`stop MinIO for 30 s while ${uploading.length} uploaded`);
    await delay(30_000); // the outage itself: its length is the fault, not a wait for readiness
    await env.plane.startMinio();
    const finished = await run.finished(ids);
    const unclear = finished.filter(
      (d) => d.status?.phase === 'Failed' && !(d.status.reason && d.status.message),
    );
    expect(unclear).toEqual([]);
    const failedReasons = finished.filter((d) => d.status?.phase === 'Failed').map((d) => d.status?.reason);
    console.log(
      `MinIO outage: ${finished.length - failedReasons.length} DONE, ${failedReasons.length} FAILED ` +
        `(${failedReasons.join(', ')}), ${finished.filter((d) => (d.status?.attempts ?? 0) > 1).length} retried in a new pod`,
    );
    const storage = minioClient(env.plane.minio as NonNullable<typeof env.plane.minio>);
    for (const d of finished.filter((d) => d.status?.phase === 'Succeeded')) {
      const result = d.status?.result as NonNullable<NonNullable<typeof d.status>['result']>;
      expect(result.sha256).toBe(noisySha256);
      // Really a multipart upload: S3's ETag of one ends in "-<number of parts>".
      expect((await storage.statObject(result.bucket as string, result.key as string)).etag).toMatch(
        new RegExp(`-${parts}$`),
      );
    }
    // Some downloads met the outage and came through it.
    expect(finished.filter((d) => (d.status?.attempts ?? 0) > 1).length).toBeGreaterThan(0);
    // A failed download keeps nothing; no unfinished upload is left anywhere.
    const failedLeft: string[] = [];
    for (const d of finished.filter((d) => d.status?.phase === 'Failed'))
      for await (const item of storage.listObjectsV2(
        env.bucket,
        `${env.namespace}/${d.metadata.name}/`,
        true,
      ))
        failedLeft.push(item.name as string);
    expect(failedLeft).toEqual([]);
    expect(await incompleteUploads(storage, env.bucket, '')).toEqual([]);
  });

  it('PostgreSQL stopped for a minute while 100 downloads finish: none fails for it; once back, each is archived once', async () => {
    await env.postgres.stop();
    run.fault('stop PostgreSQL for 60 s');
    const stoppedAt = Date.now();
    const ids = await run.wave('archive', 100);
    // Down for a minute: the fault itself, not a wait for readiness.
    await delay(Math.max(0, 60_000 - (Date.now() - stoppedAt)));
    const saidWhy = ids.filter((id) => run.get(id)?.status?.archive?.state === 'Failing');
    expect(saidWhy.length).toBeGreaterThan(0);
    await env.postgres.start();
    await expectAllDone(ids);
    const uids = ids.map((id) => run.get(id)?.metadata.uid as string);
    const pool = archivePool(env.postgres.endpoint.url, { onError: () => {} });
    try {
      const rows = await eventually(
        'all 100 archived',
        async () => {
          const counted = await pool.query<{ uid: string; n: number }>(
            'SELECT uid, count(*)::int AS n FROM vdl_archived_downloads WHERE uid = ANY($1::uuid[]) GROUP BY uid',
            [uids],
          );
          return counted.rows.length === uids.length ? counted.rows : undefined;
        },
        { timeoutMs: 120_000, intervalMs: 500 },
      );
      expect(rows.filter((row) => row.n !== 1)).toEqual([]);
    } finally {
      await pool.end();
    }
    // Those that said they were not archived say now that they are.
    await eventually('Archived=True on each that said why', () =>
      saidWhy.every((id) =>
        run.get(id)?.status?.conditions?.some((c) => c.type === 'Archived' && c.status === 'True'),
      )
        ? true
        : undefined,
    );
  });

  it('killed download processes are retried within the Job limit; a permanent failure is not retried', async () => {
    const ids = await run.wave('oom');
    const once = await run.submit(`${env.media.url}/throttled-oom-once.mp4`, { retries: 2 });
    const noRetry = await run.submit(`${env.media.url}/throttled-oom-no-retry.mp4`, { retries: 0 });
    const permanent = await run.submit(`${env.media.url}/missing.mp4`, { retries: 3 });
    const kill = async (id: string) => {
      await eventually(
        `the process of ${id}`,
        async () => {
          const pods = await run.config.makeApiClient(k8s.CoreV1Api).listNamespacedPod({
            namespace: env.namespace,
            labelSelector: `vdl.dev/download=${id}`,
          });
          return pods.items.some((pod) => env.node.killPod(env.namespace, pod.metadata?.name as string))
            ? true
            : undefined;
        },
        { timeoutMs: 180_000, intervalMs: 100 },
      );
      run.fault(`SIGKILL the process of ${id}`);
    };
    await Promise.all([kill(once), kill(noRetry)]);
    const [afterKill, notRetried, failedAtOnce] = await run.finished([once, noRetry, permanent]);
    expect(afterKill?.status).toMatchObject({ phase: 'Succeeded', attempts: 2 });
    expect(notRetried?.status).toMatchObject({ phase: 'Failed', reason: 'RetriesExhausted', attempts: 1 });
    expect(failedAtOnce?.status).toMatchObject({ phase: 'Failed', reason: 'NotFound', attempts: 1 });
    await expectAllDone(ids);
  });

  it('API restart under live SSE and WebSocket streams: clients resume and see every terminal state', async () => {
    const ids = await run.wave('streams');
    const deadline = Date.now() + 360_000;
    const sse = Promise.all(ids.slice(0, 10).map((id) => followEvents(env.apiUrl, env.apiKey, id, deadline)));
    const socket = followSocket(env.apiUrl, env.apiKey, ids, deadline);
    await run.running(ids, 3);
    await env.restartApi();
    run.fault('restart the API');
    const [streams, sockets] = await Promise.all([sse, socket]);
    expect(streams.map((s) => s.states.at(-1))).toEqual(Array(10).fill('DONE'));
    // Those that were open across the restart resumed.
    expect(streams.some((s) => s.reconnects > 0)).toBe(true);
    expect(ids.map((id) => sockets.get(id)?.states.at(-1))).toEqual(Array(ids.length).fill('DONE'));
    expect([...sockets.values()].some((s) => s.reconnects > 0)).toBe(true);
    await expectAllDone(ids);
  });
});

describe('afterwards', () => {
  it('audit: every 202 finished, every DONE has its bytes, nothing orphaned, no second Job', async () => {
    // Pods of finished Jobs end on their own; wait for the process node to be idle first.
    await eventually('no download process left', () =>
      env.node.runningProcesses() === 0 ? true : undefined,
    );
    report = await audit(run);
    expect(report.submitted).toBeGreaterThanOrEqual(300);
    expect({
      lost: report.lost,
      badObjects: report.badObjects,
      orphanedJobs: report.orphanedJobs,
      orphanedPods: report.orphanedPods,
      orphanedObjects: report.orphanedObjects,
      incompleteUploads: report.incompleteUploads,
      secondJobs: report.secondJobs,
    }).toEqual({
      lost: [],
      badObjects: [],
      orphanedJobs: [],
      orphanedPods: [],
      orphanedObjects: [],
      incompleteUploads: [],
      secondJobs: [],
    });
    expect(report.terminal).toBe(report.submitted);
  });
});
