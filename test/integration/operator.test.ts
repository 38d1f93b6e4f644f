// The operator against the real API server, Job controller, scheduler and
// garbage collector. The test plays the kubelet: it sets pod status through
// the API, as envtest users do, until the process node exists.
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import * as k8s from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { UploadPlan } from '../../crds/upload-plan.ts';
import { permanentFailureExitCode, type VideoDownload } from '../../crds/video-download.ts';
import { isConflict, statusCodeOf } from '../../lib/kube/api-errors.ts';
import { programArgs } from '../../lib/runtime/node-flags.ts';
import { kubeWrites } from '../../operator/controllers/video-download/kube-writes.ts';
import type { Operator } from '../../operator/operator.ts';
import { ManagedProcess } from '../cluster/managed-process.ts';
import { freePort } from '../cluster/readiness.ts';
import { eventually } from '../support/eventually.ts';
import { incompleteUploads } from '../support/storage.ts';
import { createTestEnvironment, type TestEnvironment } from '../support/test-operator.ts';
import { toolPath } from '../toolchain/tools.ts';

const run = promisify(execFile);

function resultFor(download: VideoDownload, bucket: string, name = 'video.mp4') {
  const { namespace, uid } = download.metadata;
  return {
    bucket,
    key: `${namespace}/${download.metadata.name}/${uid}/${name}`,
    size: 4096,
    sha256: 'b'.repeat(64),
    contentType: 'video/mp4',
    title: 'Big Buck Bunny',
    durationSeconds: 10,
  };
}

/** The download pod's last progress patch, naming its stored file, as the downloader sends it. */
function reportDone(env: TestEnvironment, name: string, result: ReturnType<typeof resultFor>) {
  return env.config.makeApiClient(k8s.CustomObjectsApi).patchNamespacedCustomObjectStatus(
    {
      group: 'vdl.dev',
      version: 'v1alpha1',
      plural: 'videodownloads',
      namespace: env.namespace,
      name,
      body: { status: { progress: { stage: 'done', percent: 100, result } } },
    },
    k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.MergePatch),
  );
}

const isPhase = (phase: string) => (d: VideoDownload) => d.status?.phase === phase;

describe('operator', () => {
  let env: TestEnvironment;
  let jobs: k8s.BatchV1Api;
  beforeAll(async () => {
    env = await createTestEnvironment('operator');
    jobs = env.config.makeApiClient(k8s.BatchV1Api);
    await env.startOperator();
  });
  afterAll(async () => {
    await env?.close();
  });

  it('turns a VideoDownload into a Job with an owner reference and the expected pod', async () => {
    const created = await env.downloads.create('first', { url: 'https://example.com/a', retries: 3 });
    const job = await eventually('Job first', () =>
      jobs.readNamespacedJob({ name: 'first', namespace: env.namespace }),
    );
    expect(job.metadata?.ownerReferences).toEqual([
      expect.objectContaining({
        kind: 'VideoDownload',
        name: 'first',
        uid: created.metadata.uid,
        controller: true,
      }),
    ]);
    expect(job.spec?.backoffLimit).toBe(3);
    const pod = await env.kubelet.livePod('first');
    // The Job controller and the scheduler did the rest: a pod of our spec, bound to the node.
    expect(pod.spec?.serviceAccountName).toBe('vdl-downloader');
    expect(pod.spec?.automountServiceAccountToken).toBe(false);
    expect(pod.spec?.containers[0]?.securityContext?.readOnlyRootFilesystem).toBe(true);
    await eventually('pod bound to a node', async () => (await env.kubelet.livePod('first')).spec?.nodeName);
    const started = await env.downloads.waitFor(
      'first',
      'Running with its Job',
      (d) => d.status?.jobName === 'first',
    );
    // Running from the Job's creation, its first attempt counted: the pod's start writes nothing.
    expect(started.status).toMatchObject({
      phase: 'Running',
      attempts: 1,
      observedGeneration: 1,
      progress: { stage: 'starting' },
    });
    // Its TTL given at creation, not patched in later.
    expect(job.spec?.ttlSecondsAfterFinished).toBe(300);
    // Its upload plan: presigned requests for its own keys, in a Secret the Job owns.
    const secret = await eventually('the upload Secret', () =>
      env.config
        .makeApiClient(k8s.CoreV1Api)
        .readNamespacedSecret({ name: `vdl-upload-${created.metadata.uid}`, namespace: env.namespace }),
    );
    expect(secret.metadata?.ownerReferences).toEqual([
      expect.objectContaining({ kind: 'Job', name: 'first', uid: job.metadata?.uid }),
    ]);
    const plan = UploadPlan.parse(
      JSON.parse(Buffer.from(secret.data?.['upload-plan.json'] as string, 'base64').toString('utf8')),
    );
    const prefix = `${env.namespace}/first/${created.metadata.uid}/`;
    expect([plan.bucket, plan.file.key, plan.info.key]).toEqual([
      env.bucket,
      `${prefix}file`,
      `${prefix}info.json`,
    ]);
    expect(pod.spec?.volumes?.find((v) => v.name === 'upload')?.secret?.secretName).toBe(
      secret.metadata?.name,
    );
  });

  it('runs a download whose name is longer than a label value (63 characters) to Succeeded', async () => {
    const name = `long-${'n'.repeat(70)}`;
    const created = await env.downloads.create(name, { url: 'https://example.com/long' });
    const pod = await env.kubelet.livePod(name);
    expect(pod.metadata?.labels?.['vdl.dev/download']).toHaveLength(63);
    // Its upload plan exists too: the Secret's label is the same hashed value, not the name.
    await eventually('the upload Secret of a long-named download', async () =>
      env.config
        .makeApiClient(k8s.CoreV1Api)
        .readNamespacedSecret({ name: `vdl-upload-${created.metadata.uid}`, namespace: env.namespace })
        .catch(() => undefined),
    );
    await env.kubelet.running(pod);
    await env.downloads.waitFor(name, 'Running', isPhase('Running'));
    const result = resultFor(created, env.bucket);
    await env.kubelet.terminated(pod, 0, JSON.stringify({ result }));
    const done = await env.downloads.waitFor(name, 'Succeeded', isPhase('Succeeded'));
    expect(done.status).toMatchObject({ result, jobName: expect.stringMatching(/^long-n+-[0-9a-f]{8}$/) });
  });

  it('follows the pod to Running and records the result on success; kubectl wait and get see it', async () => {
    const created = await env.downloads.create('ok', { url: 'https://example.com/ok' });
    const pod = await env.kubelet.livePod('ok');
    await env.kubelet.running(pod);
    await env.downloads.waitFor('ok', 'Running', isPhase('Running'));

    const kubectl = toolPath('kubectl');
    const kubeconfig = inject('adminKubeconfig');
    const waiting = run(kubectl, [
      '--kubeconfig',
      kubeconfig,
      '-n',
      env.namespace,
      'wait',
      '--for=condition=Complete',
      'vd/ok',
      '--timeout=60s',
    ]);
    const result = resultFor(created, env.bucket);
    await env.kubelet.terminated(pod, 0, JSON.stringify({ result }));
    const { stdout } = await waiting;
    expect(stdout).toContain('videodownload.vdl.dev/ok condition met');

    const done = await env.downloads.get('ok');
    expect(done.status).toMatchObject({
      phase: 'Succeeded',
      result,
      attempts: 1,
      progress: { percent: 100, stage: 'done' },
    });
    expect(done.status?.completionTime).toBeDefined();

    const table = await run(kubectl, [
      '--kubeconfig',
      kubeconfig,
      '-n',
      env.namespace,
      'get',
      'vd',
      'ok',
      '-o',
      'wide',
    ]);
    const [header, row] = table.stdout.trim().split('\n');
    expect(header?.split(/\s{2,}/)).toEqual(['NAME', 'PHASE', 'PROGRESS', 'TITLE', 'AGE', 'URL', 'REASON']);
    expect(row).toMatch(/^ok\s+Succeeded\s+100\s+Big Buck Bunny\s+\S+\s+https:\/\/example\.com\/ok/);

    // kubectl describe tells the story from the conditions; the routine steps cost no Events.
    const described = await run(kubectl, [
      '--kubeconfig',
      kubeconfig,
      '-n',
      env.namespace,
      'describe',
      'vd',
      'ok',
    ]);
    expect(described.stdout).toMatch(/Reason:\s+Downloaded/);
    expect(described.stdout).toMatch(/Type:\s+Complete/);
    const events = await env.config.makeApiClient(k8s.CoreV1Api).listNamespacedEvent({
      namespace: env.namespace,
      fieldSelector: 'involvedObject.kind=VideoDownload,involvedObject.name=ok',
    });
    expect(events.items.map((e) => e.reason)).toEqual([]);
  });

  it("records DONE from the pod's own report of its stored file, before the pod exits", async () => {
    const created = await env.downloads.create('early', { url: 'https://example.com/early' });
    const pod = await env.kubelet.livePod('early');
    await env.kubelet.running(pod);
    await env.downloads.waitFor('early', 'its Job', (d) => d.status?.jobName === 'early');
    const result = { ...resultFor(created, env.bucket, 'file'), size: 11 };
    // As the downloader does: the file stored, then its last progress patch names it.
    await env.minio.putObject(env.bucket, result.key, Buffer.from('video bytes'));
    await reportDone(env, 'early', result);
    const done = await env.downloads.waitFor('early', 'Succeeded', isPhase('Succeeded'));
    expect(done.status?.result).toEqual(result);
    expect((await env.kubelet.livePod('early')).status?.phase).toBe('Running');
    // The pod exits and its Job completes after: the record stands as it is.
    await env.kubelet.terminated(pod, 0, JSON.stringify({ result }));
    await eventually('the Job complete', async () => {
      const job = await jobs.readNamespacedJob({ name: 'early', namespace: env.namespace });
      return job.status?.conditions?.some((c) => c.type === 'Complete' && c.status === 'True') || undefined;
    });
    expect((await env.downloads.get('early')).metadata.resourceVersion).toBe(done.metadata.resourceVersion);
    await env.minio.removeObject(env.bucket, result.key);
  });

  it('does not keep a phase or result it did not derive: a forged Succeeded is put back to Running', async () => {
    await env.downloads.create('forged', { url: 'https://example.com/forged' });
    const pod = await env.kubelet.livePod('forged');
    await env.kubelet.running(pod);
    await env.downloads.waitFor('forged', 'Running', isPhase('Running'));
    const victim = {
      bucket: env.bucket,
      key: `${env.namespace}/victim/uid-v/private.mp4`,
      size: 1,
      sha256: 'd'.repeat(64),
      contentType: 'video/mp4',
    };
    // As a download pod could before the admission policy: written through the status subresource.
    await env.config.makeApiClient(k8s.CustomObjectsApi).patchNamespacedCustomObjectStatus(
      {
        group: 'vdl.dev',
        version: 'v1alpha1',
        plural: 'videodownloads',
        namespace: env.namespace,
        name: 'forged',
        body: { status: { phase: 'Succeeded', result: victim } },
      },
      k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.MergePatch),
    );
    const restored = await env.downloads.waitFor(
      'forged',
      'Running again, without the forged result',
      (d) => d.status?.phase === 'Running' && d.status.result === undefined,
    );
    expect(restored.status?.conditions?.find((c) => c.type === 'Reconciling')?.status).toBe('True');
  });

  it('fails at once, without retries, on the permanent-failure exit code', async () => {
    await env.downloads.create('gone', { url: 'https://example.com/gone', retries: 5 });
    const pod = await env.kubelet.livePod('gone');
    const error = { reason: 'VideoUnavailable', message: 'This video has been removed by the uploader' };
    await env.kubelet.terminated(pod, permanentFailureExitCode, JSON.stringify({ error }));
    const failed = await env.downloads.waitFor('gone', 'Failed', isPhase('Failed'));
    expect(failed.status).toMatchObject({ ...error, attempts: 1 });
    expect(failed.status?.conditions?.filter((c) => c.status === 'True')).toEqual([
      expect.objectContaining({ type: 'Stalled', reason: 'VideoUnavailable' }),
      expect.objectContaining({ type: 'Failed', reason: 'VideoUnavailable' }),
    ]);
    expect(await env.kubelet.podsOf('gone')).toHaveLength(1);
  });

  it('retries transient failures up to the limit, then fails naming the last exit', async () => {
    await env.downloads.create('flaky', { url: 'https://example.com/flaky', retries: 1 });
    await env.kubelet.terminated(await env.kubelet.livePod('flaky'), 1);
    // A second attempt comes from the Job controller.
    const second = await eventually('a second pod', async () => {
      const pods = await env.kubelet.podsOf('flaky');
      return pods.length >= 2 ? env.kubelet.livePod('flaky') : undefined;
    });
    await env.kubelet.terminated(second, 137, undefined, 'OOMKilled');
    const failed = await env.downloads.waitFor('flaky', 'Failed', isPhase('Failed'));
    expect(failed.status).toMatchObject({ reason: 'OutOfMemory', attempts: 2 });
    expect(failed.status?.message).toContain('exit code 137');
  });

  it('stops a running download when it is deleted: Job and pod go', async () => {
    await env.downloads.create('cancel', { url: 'https://example.com/cancel' });
    const pod = await env.kubelet.livePod('cancel');
    await env.kubelet.running(pod);
    await env.downloads.waitFor('cancel', 'Running', isPhase('Running'));
    await env.downloads.delete('cancel');
    await eventually('Job and pod gone', async () => {
      const jobList = await jobs.listNamespacedJob({
        namespace: env.namespace,
        labelSelector: 'vdl.dev/download=cancel',
      });
      const pods = await env.kubelet.podsOf('cancel');
      return jobList.items.length === 0 && pods.length === 0 ? true : undefined;
    });
    // The finalizer lets the download go once its pods are gone (they could still be writing before).
    await eventually('download gone', async () => {
      try {
        await env.downloads.get('cancel');
        return undefined;
      } catch (error) {
        return (error as { code?: number }).code === 404 ? true : undefined;
      }
    });
  });

  it('deleting a running download with deletionPolicy Retain keeps its files but no unfinished upload', async () => {
    const created = await env.downloads.create('retain', {
      url: 'https://example.com/retain',
      storage: { bucket: env.bucket, deletionPolicy: 'Retain' },
    });
    const pod = await env.kubelet.livePod('retain');
    await env.kubelet.running(pod);
    await env.downloads.waitFor('retain', 'Running', isPhase('Running'));
    const prefix = `${env.namespace}/retain/${created.metadata.uid}/`;
    // The operator opened the download's uploads for its pod; a file of an earlier try is there too.
    await eventually('its uploads open', async () =>
      (await incompleteUploads(env.minio, env.bucket, prefix)).length === 2 ? true : undefined,
    );
    await env.minio.putObject(env.bucket, `${prefix}kept.mp4`, Buffer.from('kept'));
    await env.downloads.delete('retain');
    await eventually('download gone', async () => {
      try {
        await env.downloads.get('retain');
        return undefined;
      } catch (error) {
        return (error as { code?: number }).code === 404 ? true : undefined;
      }
    });
    expect(await incompleteUploads(env.minio, env.bucket, prefix)).toEqual([]);
    const left: string[] = [];
    for await (const item of env.minio.listObjectsV2(env.bucket, prefix, true))
      left.push(item.name as string);
    expect(left).toEqual([`${prefix}kept.mp4`]);
    await env.minio.removeObject(env.bucket, `${prefix}kept.mp4`);
  });

  it('deletes an expired download and, per its deletion policy, its stored files', async () => {
    const created = await env.downloads.create('short', {
      url: 'https://example.com/short',
      ttlSecondsAfterFinished: 2,
      storage: { bucket: env.bucket },
    });
    const result = resultFor(created, env.bucket);
    await env.minio.putObject(env.bucket, result.key, Buffer.from('video bytes'));
    await env.minio.putObject(env.bucket, result.key.replace('video.mp4', 'info.json'), Buffer.from('{}'));
    const keep = 'someone-else/keep.mp4';
    await env.minio.putObject(env.bucket, keep, Buffer.from('not ours'));

    await env.kubelet.terminated(await env.kubelet.livePod('short'), 0, JSON.stringify({ result }));
    await env.downloads.waitFor('short', 'Succeeded', isPhase('Succeeded'));
    await eventually('expired download deleted', async () => {
      try {
        await env.downloads.get('short');
        return undefined;
      } catch (error) {
        return (error as { code?: number }).code === 404 ? true : undefined;
      }
    });
    const left: string[] = [];
    for await (const item of env.minio.listObjectsV2(env.bucket, '', true)) left.push(item.name as string);
    expect(left).toEqual([keep]);
  });
});

describe('operator, once a finished Job goes', () => {
  let env: TestEnvironment;
  let jobs: k8s.BatchV1Api;
  beforeAll(async () => {
    env = await createTestEnvironment('job-ttl');
    jobs = env.config.makeApiClient(k8s.BatchV1Api);
    // The Job may go at once after its result is recorded: the real TTL controller
    // deletes it in the foreground, so its pods go before it does.
    await env.startOperator({ jobTtlSecondsAfterFinished: 0 });
  });
  afterAll(async () => {
    await env?.close();
  });

  it('keeps a DONE download DONE while its pods and then its Job are removed', async () => {
    const created = await env.downloads.create('kept', { url: 'https://example.com/kept' });
    const pod = await env.kubelet.livePod('kept');
    await env.kubelet.running(pod);
    await env.downloads.waitFor('kept', 'its Job', (d) => d.status?.jobName === 'kept');
    // As the downloader does: the file stored, then reported with the last progress, then the exit.
    // With a TTL of 0 the Job and its pods may be gone before the operator sees them end.
    const result = { ...resultFor(created, env.bucket, 'file'), size: 5 };
    await env.minio.putObject(env.bucket, result.key, Buffer.from('bytes'));
    await reportDone(env, 'kept', result);
    await env.kubelet.terminated(pod, 0, JSON.stringify({ result }));
    await env.downloads.waitFor('kept', 'Succeeded', isPhase('Succeeded'));
    await eventually('the Job removed by its TTL', async () => {
      const gone = await jobs.readNamespacedJob({ name: 'kept', namespace: env.namespace }).then(
        () => false,
        (error: unknown) => statusCodeOf(error) === 404,
      );
      return gone || undefined;
    });
    // A finished status is terminal: had the operator read the pod-less Job
    // (its pods go first) as ResultMissing, the download would stay Failed.
    expect((await env.downloads.get('kept')).status).toMatchObject({ phase: 'Succeeded', result });
  });
});

describe('operator, downloads onto a volume', () => {
  let env: TestEnvironment;
  let jobs: k8s.BatchV1Api;
  beforeAll(async () => {
    env = await createTestEnvironment('volume');
    jobs = env.config.makeApiClient(k8s.BatchV1Api);
    await env.startOperator({ volumeClaims: 'media' });
  });
  afterAll(async () => {
    await env?.close();
  });

  it('fails a download naming a claim it does not allow, before any Job, and says where to allow it', async () => {
    await env.downloads.create('db-claim', {
      url: 'https://example.com/a',
      storage: { volume: { claimName: 'postgres-data' } },
    });
    const failed = await env.downloads.waitFor('db-claim', 'Failed', isPhase('Failed'));
    expect(failed.status?.reason).toBe('VolumeNotAllowed');
    expect(failed.status?.message).toContain('VDL_VOLUME_CLAIMS');
    expect(failed.status?.jobName).toBeUndefined();
    expect((await jobs.listNamespacedJob({ namespace: env.namespace })).items).toEqual([]);
  });

  it('mounts the allowed claim, records the file on it, and on deletion removes it with a cleanup Job before the download goes', async () => {
    await env.downloads.create('to-volume', {
      url: 'https://example.com/b',
      storage: { volume: { claimName: 'media', uid: 1000, gid: 1000 } },
    });
    const pod = await env.kubelet.livePod('to-volume');
    expect(pod.spec?.volumes?.find((v) => v.name === 'output')?.persistentVolumeClaim?.claimName).toBe(
      'media',
    );
    // No upload plan: no Secret made for it.
    const secrets = await env.config
      .makeApiClient(k8s.CoreV1Api)
      .listNamespacedSecret({ namespace: env.namespace });
    expect(secrets.items.map((secret) => secret.metadata?.name)).not.toContainEqual(
      expect.stringMatching(/^vdl-upload-/),
    );
    await env.kubelet.running(pod);
    const result = {
      volume: { claimName: 'media', path: 'Chan/Title [b].mp4' },
      filename: 'Title [b].mp4',
      size: 5,
      sha256: 'c'.repeat(64),
      contentType: 'video/mp4',
    };
    await env.kubelet.terminated(pod, 0, JSON.stringify({ result }));
    const done = await env.downloads.waitFor('to-volume', 'Succeeded', isPhase('Succeeded'));
    expect(done.status?.result).toEqual(result);
    expect(done.status?.conditions?.find((c) => c.type === 'Ready')?.message).toContain(
      'media:Chan/Title [b].mp4',
    );

    await env.downloads.delete('to-volume');
    const cleanup = await eventually('the cleanup Job', async () =>
      (await jobs.listNamespacedJob({ namespace: env.namespace })).items.find((job) =>
        job.metadata?.name?.startsWith('vdl-clean-'),
      ),
    );
    const cleanupEnv = Object.fromEntries(
      (cleanup.spec?.template.spec?.containers[0]?.env ?? []).map((e) => [e.name, e.value]),
    );
    expect(cleanupEnv).toMatchObject({
      VDL_REMOVE_PATH: 'Chan/Title [b].mp4',
      VDL_REMOVE_SHA256: 'c'.repeat(64),
    });
    // The download waits for its file to go.
    expect((await env.downloads.get('to-volume')).metadata.deletionTimestamp).toBeDefined();
    const cleaner = await eventually('the cleanup pod', async () =>
      (await env.kubelet.podsOf('to-volume')).find(
        (p) => p.metadata?.labels?.['app.kubernetes.io/component'] === 'volume-cleanup',
      ),
    );
    await env.kubelet.terminated(cleaner, 0);
    await eventually('the download gone', async () => {
      try {
        await env.downloads.get('to-volume');
        return undefined;
      } catch (error) {
        return (error as { code?: number }).code === 404 ? true : undefined;
      }
    });
  });
});

describe('operator download queue', () => {
  let env: TestEnvironment;
  beforeAll(async () => {
    env = await createTestEnvironment('queue');
    await env.startOperator({ maxActiveDownloads: 2, maxActivePerOwner: 2 });
  });
  afterAll(async () => {
    await env?.close();
  });

  it('holds the global limit and releases slots fairly across owners', async () => {
    for (const name of ['a1', 'a2', 'a3'])
      await env.downloads.create(
        name,
        { url: `https://example.com/${name}` },
        { labels: { 'vdl.dev/owner': 'alice' } },
      );
    await env.downloads.create(
      'b1',
      { url: 'https://example.com/b1' },
      { labels: { 'vdl.dev/owner': 'bob' } },
    );
    const batch = env.config.makeApiClient(k8s.BatchV1Api);
    const jobNames = async () =>
      (await batch.listNamespacedJob({ namespace: env.namespace })).items.map((j) => j.metadata?.name).sort();

    await env.downloads.waitFor('a3', 'Queued', isPhase('Queued'));
    await env.downloads.waitFor('b1', 'Queued or started', (d) => d.status?.phase !== undefined);
    const started = await eventually('two Jobs', async () =>
      (await jobNames()).length === 2 ? jobNames() : undefined,
    );
    expect(started).toHaveLength(2);
    expect(started).toContain('a1');

    // Finishing alice's first frees a slot; the fair order decides who goes next.
    const a1 = await env.downloads.get('a1');
    await env.kubelet.terminated(
      await env.kubelet.livePod('a1'),
      0,
      JSON.stringify({ result: resultFor(a1, env.bucket) }),
    );
    await env.downloads.waitFor('a1', 'Succeeded', isPhase('Succeeded'));
    const after = await eventually('a third Job', async () =>
      (await jobNames()).length === 3 ? jobNames() : undefined,
    );
    expect(after).toEqual(['a1', 'a2', 'b1']);
    expect((await env.downloads.get('a3')).status?.phase).toBe('Queued');
    expect((await jobNames()).length).toBe(3);
  });
});

describe('operator replicas', () => {
  let env: TestEnvironment;
  beforeAll(async () => {
    env = await createTestEnvironment('replicas');
  });
  afterAll(async () => {
    await env?.close();
  });

  it('hands leadership over through the Lease; only the leader acts', async () => {
    const first: Operator = await env.startOperator({ leaderElection: true, identity: 'first' });
    await eventually('first leads', () => (first.leading ? true : undefined));
    const second = await env.startOperator({ leaderElection: true, identity: 'second' });
    await env.downloads.create('led-1', { url: 'https://example.com/1' });
    await env.downloads.waitFor('led-1', 'Pending', (d) => d.status?.jobName === 'led-1');
    expect(second.leading).toBe(false);

    await first.stop();
    await eventually('second leads', () => (second.leading ? true : undefined), { timeoutMs: 20_000 });
    await env.downloads.create('led-2', { url: 'https://example.com/2' });
    await env.downloads.waitFor('led-2', 'Pending', (d) => d.status?.jobName === 'led-2');
    const lease = await env.config
      .makeApiClient(k8s.CoordinationV1Api)
      .readNamespacedLease({ name: 'vdl-operator', namespace: env.namespace });
    expect(lease.spec?.holderIdentity).toBe('second');
  });

  it('refuses a status write on a stale resourceVersion with a Conflict the manager retries, not an error', async () => {
    const created = await env.downloads.create('stale', { url: 'https://example.com/stale' });
    await env.downloads.waitFor('stale', 'its Job', (d) => d.status?.jobName === 'stale');
    const writes = kubeWrites(env.config);
    const refused = await writes
      .patchStatus(env.namespace, 'stale', created.metadata.resourceVersion as string, { phase: 'Failed' })
      .catch((error: unknown) => error);
    expect(statusCodeOf(refused)).toBe(409);
    expect(isConflict(refused)).toBe(true);
    // A create of a name that exists is a 409 too, but no conflict to retry quietly.
    const exists = await env.downloads
      .create('stale', { url: 'https://example.com/stale' })
      .catch((e: unknown) => e);
    expect(statusCodeOf(exists)).toBe(409);
    expect(isConflict(exists)).toBe(false);
    expect((await env.downloads.get('stale')).status?.phase).not.toBe('Failed');
  });

  it('creates no second Job when an operator restarts mid-run', async () => {
    const batch = env.config.makeApiClient(k8s.BatchV1Api);
    const before = await env.startOperator({ leaderElection: false, identity: 'before' });
    await env.downloads.create('survivor', { url: 'https://example.com/s' });
    await env.downloads.waitFor('survivor', 'Pending', (d) => d.status?.jobName === 'survivor');
    await before.stop();
    await env.startOperator({ leaderElection: false, identity: 'after' });
    const created = await env.downloads.get('survivor');
    await env.kubelet.terminated(
      await env.kubelet.livePod('survivor'),
      0,
      JSON.stringify({ result: resultFor(created, env.bucket) }),
    );
    await env.downloads.waitFor('survivor', 'Succeeded', isPhase('Succeeded'));
    const list = await batch.listNamespacedJob({
      namespace: env.namespace,
      labelSelector: 'vdl.dev/download=survivor',
    });
    expect(list.items).toHaveLength(1);
  });
});

describe('operator process', () => {
  let env: TestEnvironment;
  beforeAll(async () => {
    env = await createTestEnvironment('process');
  });
  afterAll(async () => {
    await env?.close();
  });

  it('serves /readyz and /metrics, does its work, and on SIGTERM releases the Lease and exits 0', async () => {
    const port = await freePort();
    const dir = mkdtempSync(join(tmpdir(), 'vdl-operator-'));
    const operator = new ManagedProcess({
      name: 'operator',
      command: process.execPath,
      args: programArgs('operator', fileURLToPath(new URL('../..', import.meta.url))),
      env: {
        ...process.env,
        KUBECONFIG: inject('adminKubeconfig'),
        VDL_WATCH_NAMESPACE: env.namespace,
        VDL_LEASE_NAMESPACE: env.namespace,
        VDL_IDENTITY: 'process-test',
        VDL_METRICS_PORT: String(port),
        // It prepares each download's uploads.
        VDL_S3_ENDPOINT: inject('minio').url,
        VDL_S3_ACCESS_KEY: inject('minio').accessKey,
        VDL_S3_SECRET_KEY: inject('minio').secretKey,
        VDL_DEFAULT_BUCKET: env.bucket,
      },
      logFile: join(dir, 'operator.log'),
    });
    try {
      const ready = await eventually('operator /readyz', async () => {
        const response = await fetch(`http://127.0.0.1:${port}/readyz`);
        return response.ok ? ((await response.json()) as { ready: boolean }) : undefined;
      });
      expect(ready.ready).toBe(true);
      await env.downloads.create('by-process', { url: 'https://example.com/p' });
      await env.downloads.waitFor('by-process', 'Pending', (d) => d.status?.jobName === 'by-process');
      const metrics = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
      expect(metrics).toMatch(/^vdl_operator_jobs_created_total 1$/m);
      expect(metrics).toMatch(/^vdl_operator_leader 1$/m);

      await operator.stop(10_000);
      expect(operator.exit).toBe('exited with code 0');
      const lease = await env.config
        .makeApiClient(k8s.CoordinationV1Api)
        .readNamespacedLease({ name: 'vdl-operator', namespace: env.namespace });
      expect(lease.spec?.holderIdentity).toBeUndefined();
      const log = readFileSync(join(dir, 'operator.log'), 'utf8').trim().split('\n');
      // JSON logs that name the download they are about.
      expect(log.map((line) => JSON.parse(line))).toEqual(
        expect.arrayContaining([
          expect.objectContaining({ msg: 'created Job', download: `${env.namespace}/by-process` }),
        ]),
      );
    } finally {
      await operator.stop();
    }
  });
});
