import type { V1Pod } from '@kubernetes/client-node';
import { pino } from 'pino';
import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { finalizers, labels } from '../../../crds/video-download.ts';
import { loadOperatorConfig } from '../../config.ts';
import { FakeClock } from '../../manager/fake-clock.ts';
import { Admission } from './admission/admission.ts';
import { downloaderContainerName } from './desired-job.ts';
import { FakeCluster, fakeObjectStore } from './fake-cluster.ts';
import { videoDownloadMetrics } from './metrics.ts';
import { Reconciler } from './reconciler.ts';
import { download } from './test-fixtures.ts';

const key = (name: string) => `team/${name}`;

function setup(overrides: Parameters<typeof loadOperatorConfig>[1] = {}) {
  const clock = new FakeClock('2026-01-01T00:00:10Z');
  const cluster = new FakeCluster(clock);
  /** What storage holds, "bucket/key" → size. */
  const stored = new Map<string, number>();
  const config = loadOperatorConfig({}, { s3Endpoint: 'http://minio:9000', ...overrides });
  const enqueued: string[] = [];
  const admission = new Admission({
    downloads: cluster.downloads,
    jobs: cluster.jobs,
    limits: { maxActive: config.maxActiveDownloads, maxActivePerOwner: config.maxActivePerOwner },
    enqueue: (k) => enqueued.push(k),
  });
  const metrics = videoDownloadMetrics(new Registry());
  const reconciler = new Reconciler({
    config,
    caches: cluster,
    writes: cluster,
    recorder: cluster,
    metrics,
    objectStore: fakeObjectStore(cluster.writes, stored),
    admission,
    clock,
    logger: pino({ level: 'silent' }),
  });
  /** A download as kubectl makes it: without the finalizer the API adds (apiCreated). */
  const add = (name: string, spec = {}, createdAt = '2026-01-01T00:00:00Z', apiCreated = false) => {
    const made = download(name, spec);
    made.metadata.resourceVersion = '1';
    made.metadata.creationTimestamp = createdAt;
    if (apiCreated) made.metadata.finalizers = [finalizers.storedObject];
    cluster.downloads.put(made);
  };
  /** The download pod's progress patch, which only it makes. */
  const progress = (name: string, value: Record<string, unknown>) => {
    const current = cluster.downloads.get(key(name));
    if (!current) throw new Error(`no download ${name}`);
    cluster.downloads.put({
      ...current,
      metadata: {
        ...current.metadata,
        resourceVersion: String(Number(current.metadata.resourceVersion) + 1),
      },
      status: { ...current.status, progress: { ...current.status?.progress, ...value } },
    });
  };
  /** The writes made by one reconcile of name, and what it asked for. */
  const reconcile = async (name: string) => {
    const before = cluster.writes.length;
    const result = await reconciler.reconcile(key(name));
    return { result, writes: cluster.writes.slice(before) };
  };
  return { clock, cluster, stored, admission, enqueued, metrics, add, progress, reconcile, config };
}

/** A pod of the download's current Job, as the Job controller makes it. */
function podOf(cluster: FakeCluster, name: string, phase: string, message?: string): V1Pod {
  const job = cluster.jobs.get(key(name));
  return {
    metadata: {
      name: `${name}-pod`,
      namespace: 'team',
      labels: { [labels.download]: name },
      creationTimestamp: new Date('2026-01-01T00:00:20Z'),
      ownerReferences: [
        { apiVersion: 'batch/v1', kind: 'Job', name, uid: job?.metadata?.uid as string, controller: true },
      ],
    },
    status: {
      phase,
      containerStatuses: [
        {
          name: downloaderContainerName,
          image: 'x',
          imageID: '',
          ready: phase === 'Running',
          restartCount: 0,
          state: message === undefined ? { running: {} } : { terminated: { exitCode: 0, message } },
        },
      ],
    },
  };
}

const result = (name: string) => ({
  bucket: 'vdl',
  key: `team/${name}/uid-${name}/${name}.mp4`,
  size: 1234,
  sha256: 'a'.repeat(64),
  contentType: 'video/mp4',
  title: 'A clip',
});

/** Runs the download to Succeeded, its Job completing at completedAt. */
async function succeed(env: ReturnType<typeof setup>, name: string, completedAt: string) {
  await env.reconcile(name);
  env.cluster.syncJobs();
  env.cluster.pods.put(podOf(env.cluster, name, 'Succeeded', JSON.stringify({ result: result(name) })));
  env.cluster.updateJob(key(name), (job) => {
    job.status = {
      completionTime: new Date(completedAt),
      conditions: [{ type: 'Complete', status: 'True', lastTransitionTime: new Date(completedAt) }],
    };
  });
  return env.reconcile(name);
}

describe('Reconciler', () => {
  it('writes its status once when a reconcile runs on a cache that has not seen its status write', async () => {
    const env = setup();
    env.add('clip');
    await env.reconcile('clip');
    const statusWrites = () => env.cluster.writes.filter((w) => w.startsWith('patchStatus')).length;
    expect(statusWrites()).toBe(1);
    // The Job's watch event comes in before the status write's (the Job was made
    // first), so the next reconcile sees the Job and the download as the
    // finalizer write left it: no status yet.
    const written = env.cluster.downloads.get(key('clip'));
    const stale = structuredClone(written) as NonNullable<typeof written>;
    delete stale.status;
    stale.metadata.resourceVersion = String(Number(stale.metadata.resourceVersion) - 1);
    env.cluster.staleCache(stale);
    env.cluster.syncJobs();
    // The server refuses a status derived from that copy: a retry, not a second write.
    const refused = await env.reconcile('clip').catch((error: unknown) => error);
    expect(refused).toMatchObject({ code: 409 });
    env.cluster.syncDownloads();
    expect((await env.reconcile('clip')).writes).toEqual([]);
    expect(env.cluster.downloads.get(key('clip'))?.status?.phase).toBe('Running');
    expect(env.cluster.events).toEqual([]);
  });

  it('spends 4 writes on a download the API made, besides the upload plan and the pod’s progress', async () => {
    const env = setup();
    env.add('clip', {}, undefined, true);
    const first = await env.reconcile('clip');
    expect(first.writes).toEqual([
      'createJob team/clip',
      'patchStatus team/clip attempts,conditions,jobName,observedGeneration,phase,progress,startTime',
      'createUpload vdl/team/clip/uid-clip/file',
      'createUpload vdl/team/clip/uid-clip/info.json',
      'createSecret team/vdl-upload-uid-clip',
    ]);
    // Made with its TTL: nothing to patch in once the result is recorded.
    expect(env.cluster.serverJobs.get(key('clip'))?.spec?.ttlSecondsAfterFinished).toBe(
      env.config.jobTtlSecondsAfterFinished,
    );
    env.cluster.syncJobs();
    // The pod starts and reports progress: no write of the operator's.
    env.cluster.pods.put(podOf(env.cluster, 'clip', 'Running'));
    env.cluster.updateJob(key('clip'), (job) => {
      job.status = { active: 1, startTime: new Date('2026-01-01T00:00:12Z') };
    });
    env.progress('clip', { stage: 'downloading', percent: 40 });
    expect((await env.reconcile('clip')).writes).toEqual([]);
    // Its last report names the stored file; storage holds it: DONE while the pod still exits.
    const reported = {
      ...result('clip'),
      key: 'team/clip/uid-clip/file',
      infoKey: 'team/clip/uid-clip/info.json',
    };
    env.stored.set(`vdl/${reported.key}`, reported.size);
    env.progress('clip', { stage: 'done', percent: 100, result: reported });
    const done = await env.reconcile('clip');
    expect(done.writes).toEqual([
      'abortIncompleteUploads vdl/team/clip/uid-clip/',
      'patchStatus team/clip completionTime,conditions,phase,progress,result',
    ]);
    expect(env.cluster.downloads.get(key('clip'))?.status).toMatchObject({
      phase: 'Succeeded',
      result: reported,
    });
    expect(env.admission.pending(key('clip'))).toBe(false);
    // The pod exits, the Job completes: nothing more.
    env.cluster.pods.put(podOf(env.cluster, 'clip', 'Succeeded', JSON.stringify({ result: reported })));
    env.cluster.updateJob(key('clip'), (job) => {
      job.status = {
        succeeded: 1,
        completionTime: new Date('2026-01-01T00:00:40Z'),
        conditions: [
          { type: 'Complete', status: 'True', lastTransitionTime: new Date('2026-01-01T00:00:40Z') },
        ],
      };
    });
    expect((await env.reconcile('clip')).writes).toEqual([]);
    const kubeWrites = env.cluster.writes.filter((w) => !/^(createUpload|abort|remove)/.test(w));
    expect(kubeWrites.map((w) => w.split(' ')[0])).toEqual([
      'createJob',
      'patchStatus',
      'createSecret',
      'patchStatus',
    ]);
    expect(env.cluster.events).toEqual([]);
  });

  it('waits for the Job when the reported file is not stored as reported', async () => {
    const env = setup();
    env.add('clip', {}, undefined, true);
    await env.reconcile('clip');
    env.cluster.syncJobs();
    env.cluster.pods.put(podOf(env.cluster, 'clip', 'Running'));
    const reported = { ...result('clip'), key: 'team/clip/uid-clip/file' };
    env.progress('clip', { stage: 'done', percent: 100, result: reported });
    // Nothing stored, then a different size: no DONE on the pod's word alone.
    expect((await env.reconcile('clip')).writes).toEqual([]);
    env.stored.set(`vdl/${reported.key}`, reported.size - 1);
    expect((await env.reconcile('clip')).writes).toEqual([]);
    expect(env.cluster.downloads.get(key('clip'))?.status?.phase).toBe('Running');
  });

  it('adds its finalizer, creates the Job once when admitted, then its upload plan', async () => {
    const env = setup();
    env.add('clip');
    const first = await env.reconcile('clip');
    expect(first.writes).toEqual([
      `setFinalizers team/clip [${finalizers.storedObject}]`,
      'createJob team/clip',
      'patchStatus team/clip attempts,conditions,jobName,observedGeneration,phase,progress,startTime',
      'createUpload vdl/team/clip/uid-clip/file',
      'createUpload vdl/team/clip/uid-clip/info.json',
      'createSecret team/vdl-upload-uid-clip',
    ]);
    expect(env.cluster.downloads.get(key('clip'))?.status).toMatchObject({
      phase: 'Running',
      jobName: 'clip',
      attempts: 1,
    });
    // The informer has not seen the Job yet: the expectation holds, nothing is created twice.
    expect((await env.reconcile('clip')).writes).toEqual([]);
    env.cluster.syncJobs();
    expect((await env.reconcile('clip')).writes).toEqual([]);
    expect(env.cluster.serverJobs.size).toBe(1);
    expect(await env.metrics.jobsCreated.get()).toMatchObject({ values: [{ value: 1 }] });
  });

  it('waits for a cache that has not seen its Job nor its status yet, instead of deciding again', async () => {
    const env = setup();
    env.add('clip');
    await env.reconcile('clip');
    // The informers lag: the download as it was before this replica's writes, no Job cached.
    const stale = structuredClone(env.cluster.downloads.get(key('clip')));
    if (!stale) throw new Error('no download');
    stale.status = undefined;
    env.cluster.downloads.put(stale);
    expect(await env.reconcile('clip')).toEqual({ result: {}, writes: [] });
    env.cluster.syncJobs();
    expect((await env.reconcile('clip')).writes).not.toContain('createJob team/clip');
  });

  it('adopts its own Job when a create finds it made before a crash', async () => {
    const env = setup();
    env.add('clip');
    await env.reconcile('clip');
    // A new leader: no expectation, a cache without the Job, a status without jobName.
    const restarted = setup();
    restarted.add('clip');
    for (const [k, job] of env.cluster.serverJobs) restarted.cluster.serverJobs.set(k, job);
    const before = env.cluster.serverJobs.get(key('clip'))?.metadata?.uid;
    const { writes } = await restarted.reconcile('clip');
    // Its create is refused (409): it adopts the Job there, whose uid it then records.
    expect(writes.filter((w) => w.startsWith('createJob'))).toEqual(['createJob team/clip']);
    expect(restarted.cluster.serverJobs.size).toBe(1);
    expect(restarted.cluster.serverJobs.get(key('clip'))?.metadata?.uid).toBe(before);
    expect(restarted.cluster.downloads.get(key('clip'))?.status?.jobName).toBe('clip');
    expect(
      restarted.cluster.secrets.get('team/vdl-upload-uid-clip')?.metadata?.ownerReferences?.[0]?.uid,
    ).toBe(before);
  });

  it('waits, Queued and without a Job, while the slots are taken; a freed slot queues it again', async () => {
    const env = setup({ maxActiveDownloads: 1 });
    env.add('first', {}, '2026-01-01T00:00:00Z');
    env.add('second', {}, '2026-01-01T00:00:01Z');
    await env.reconcile('first');
    env.cluster.syncJobs();
    const waiting = await env.reconcile('second');
    expect(waiting.writes).toEqual([
      `setFinalizers team/second [${finalizers.storedObject}]`,
      'patchStatus team/second conditions,observedGeneration,phase,progress',
    ]);
    expect(env.cluster.downloads.get(key('second'))?.status?.phase).toBe('Queued');
    expect((await env.reconcile('second')).writes).toEqual([]);

    // first finishes: its reconcile releases the slot, and admission queues second.
    await succeed(env, 'first', '2026-01-01T00:00:30Z');
    expect(env.enqueued).toEqual([key('second')]);
    const started = await env.reconcile('second');
    expect(started.writes).toContain('createJob team/second');
  });

  it('writes status only when it changes, however often and late it reconciles', async () => {
    const env = setup();
    env.add('clip');
    await env.reconcile('clip');
    env.cluster.syncJobs();
    const writes = async () => (await env.metrics.statusWrites.get()).values[0]?.value;
    expect(await writes()).toBe(1);
    for (const ms of [0, 1_000, 3_600_000]) {
      env.clock.advance(ms);
      expect((await env.reconcile('clip')).writes).toEqual([]);
    }
    // Its pod starting is no transition the operator writes.
    env.cluster.pods.put(podOf(env.cluster, 'clip', 'Running'));
    env.cluster.updateJob(key('clip'), (job) => {
      job.status = { active: 1 };
    });
    expect((await env.reconcile('clip')).writes).toEqual([]);
    expect(await writes()).toBe(1);
  });

  it('on deletion stops the Job, waits for its pods to stop, then cleans storage and lets go', async () => {
    const env = setup();
    env.add('clip');
    await env.reconcile('clip');
    env.cluster.syncJobs();
    env.cluster.pods.put(podOf(env.cluster, 'clip', 'Running'));
    env.cluster.deleteNow(key('clip'));

    const stop = await env.reconcile('clip');
    expect(stop.writes).toEqual(['deleteJob team/clip']);
    expect(stop.result).toEqual({ requeueAfterMs: 2_000 });
    // The Job is gone, its pod still stops: storage is left alone while it could still write.
    env.cluster.syncJobs();
    const wait = await env.reconcile('clip');
    expect(wait).toEqual({ result: { requeueAfterMs: 2_000 }, writes: [] });

    env.cluster.pods.put(podOf(env.cluster, 'clip', 'Failed', '{}'));
    const clean = await env.reconcile('clip');
    expect(clean.writes).toEqual(['removePrefix vdl/team/clip/uid-clip/', 'setFinalizers team/clip []']);
    expect(env.cluster.downloads.get(key('clip'))).toBeUndefined();
  });

  it('keeps the files of a Retain download on deletion, aborting only its unfinished uploads', async () => {
    const env = setup();
    env.add('clip', { storage: { deletionPolicy: 'Retain' } });
    await env.reconcile('clip');
    env.cluster.syncJobs();
    env.cluster.deleteNow(key('clip'));
    await env.reconcile('clip');
    env.cluster.syncJobs();
    expect((await env.reconcile('clip')).writes).toEqual([
      'abortIncompleteUploads vdl/team/clip/uid-clip/',
      'setFinalizers team/clip []',
    ]);
  });

  it('stops waiting for a pod that never stops after the finalizer timeout, on its clock', async () => {
    const env = setup({ finalizerTimeoutSeconds: 600 });
    env.add('clip');
    await env.reconcile('clip');
    env.cluster.syncJobs();
    env.cluster.pods.put(podOf(env.cluster, 'clip', 'Running'));
    env.cluster.deleteNow(key('clip'));
    await env.reconcile('clip');
    env.cluster.syncJobs();
    env.clock.advance(599_999);
    expect((await env.reconcile('clip')).result).toEqual({ requeueAfterMs: 2_000 });
    env.clock.advance(1);
    expect((await env.reconcile('clip')).writes).toEqual([
      'removePrefix vdl/team/clip/uid-clip/',
      'setFinalizers team/clip []',
    ]);
  });

  it('records the result from the termination message, and deletes the download when its own TTL expires', async () => {
    const env = setup();
    env.add('clip', { ttlSecondsAfterFinished: 300 });
    env.clock.set('2026-01-01T00:01:00Z');
    const done = await succeed(env, 'clip', '2026-01-01T00:01:00Z');
    expect(done.writes).toEqual([
      'abortIncompleteUploads vdl/team/clip/uid-clip/',
      'patchStatus team/clip completionTime,conditions,phase,progress,result',
    ]);
    expect(done.result).toEqual({ requeueAfterMs: 300_000 });
    env.clock.advance(120_000);
    expect(await env.reconcile('clip')).toEqual({ result: { requeueAfterMs: 180_000 }, writes: [] });
    env.clock.advance(180_000);
    expect((await env.reconcile('clip')).writes).toEqual(['deleteDownload team/clip']);
    expect(env.cluster.events).toEqual([]);
  });

  it('gives a finished Job made without a TTL (by an older operator) one once its result is recorded', async () => {
    const env = setup({ jobTtlSecondsAfterFinished: 60 });
    env.add('clip');
    await env.reconcile('clip');
    env.cluster.updateJob(key('clip'), (job) => {
      job.spec = { ...job.spec, ttlSecondsAfterFinished: undefined } as typeof job.spec;
    });
    const done = await succeed(env, 'clip', '2026-01-01T00:01:00Z');
    expect(done.writes.at(-1)).toBe('setJobTtl team/clip 60');
  });

  it('counts a download that failed once, however often it is reconciled after', async () => {
    const env = setup();
    env.add('clip');
    await env.reconcile('clip');
    env.cluster.syncJobs();
    env.cluster.updateJob(key('clip'), (job) => {
      job.status = {
        failed: 1,
        conditions: [{ type: 'Failed', status: 'True', reason: 'BackoffLimitExceeded' }],
      };
    });
    await env.reconcile('clip');
    const failed = env.cluster.downloads.get(key('clip'));
    expect(failed?.status).toMatchObject({ phase: 'Failed', reason: 'RetriesExhausted' });
    // A later status write of the finished download (its conditions lost, say) is no second end.
    env.cluster.downloads.put({
      ...failed,
      status: { ...failed?.status, conditions: [] },
    } as typeof failed & {});
    expect((await env.reconcile('clip')).writes).toEqual(['patchStatus team/clip conditions']);
    expect((await env.metrics.downloadsFinished.get()).values).toEqual([
      { value: 1, labels: { phase: 'Failed', reason: 'RetriesExhausted' } },
    ]);
  });
});
