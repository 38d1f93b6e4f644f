// Reconcile of one VideoDownload: read the resource, its Job and pods from
// the caches, decide with pure functions (desired Job, queue, status), and
// write only the difference. Running it twice, or after a crash, does nothing
// more: the Job's name is derived from the resource, and status is patched
// only when it changed. It reads only caches and its clock, and writes only
// through KubeWrites and the object store, so unit tests run it on fakes.
import { isDeepStrictEqual } from 'node:util';
import type * as k8s from '@kubernetes/client-node';
import type { Logger } from 'pino';
import { quantityBytes } from '../../../crds/quantity.ts';
import {
  finalizers,
  labels,
  type Result,
  type VideoDownload,
  type VideoDownloadStatus,
} from '../../../crds/video-download.ts';
import type { Archive } from '../../../lib/archive/archive.ts';
import { statusCodeOf } from '../../../lib/kube/api-errors.ts';
import type { ObjectStore } from '../../../lib/storage/object-store.ts';
import type { OperatorConfig } from '../../config.ts';
import type { Clock } from '../../manager/clock.ts';
import type { Cache, ReconcileResult } from '../../manager/controller.ts';
import type { Admission } from './admission/admission.ts';
import {
  bucketFor,
  deadlineSecondsFor,
  desiredJob,
  jobNameFor,
  keyPrefixFor,
  maxFileSizeFor,
} from './desired-job.ts';
import type { EventRecorder } from './event-recorder.ts';
import type { KubeWrites } from './kube-writes.ts';
import type { VideoDownloadMetrics } from './metrics.ts';
import { desiredStatus, isTerminal, jobFinished, reportToVerify, transitionEvent } from './status.ts';
import { ownerOfStatusField } from './status-ownership.ts';
import { prepareUploadPlan, uploadIdOf, uploadKeysFor, uploadSecret } from './upload-plan.ts';
import { cleanupComponent, cleanupJobNameFor, volumeCleanupJob, volumeRefusal } from './volume-output.ts';

export interface Caches {
  downloads: Cache<VideoDownload>;
  jobs: Cache<k8s.V1Job>;
  /** Indexed by "namespace/download name". */
  pods: Cache<k8s.V1Pod>;
}

/** The merge patch that turns current into desired; progress only where the operator owns it. */
export function statusPatch(
  current: VideoDownloadStatus | undefined,
  desired: VideoDownloadStatus,
): Record<string, unknown> | undefined {
  const patch: Record<string, unknown> = {};
  const keys = new Set([...Object.keys(current ?? {}), ...Object.keys(desired)]);
  for (const key of keys) {
    const before = (current as Record<string, unknown> | undefined)?.[key];
    const after = (desired as Record<string, unknown>)[key];
    if (isDeepStrictEqual(before, after)) continue;
    const owner = ownerOfStatusField(key);
    // Another controller's record (the notifier's deliveries, the archiver's): a derivation
    // from a cache that has not yet seen its last write must not put an older one back.
    if (owner !== 'operator' && owner !== 'download pod') continue;
    // A field the download pod owns (progress) is the operator's to write
    // only when the phase changes, so it never rolls the pod's back.
    if (owner === 'download pod' && current?.phase === desired.phase) continue;
    patch[key] = after === undefined ? null : after;
  }
  return Object.keys(patch).length > 0 ? patch : undefined;
}

export interface ReconcilerDependencies {
  config: OperatorConfig;
  caches: Caches;
  writes: KubeWrites;
  recorder: Pick<EventRecorder, 'record'>;
  metrics: Pick<VideoDownloadMetrics, 'jobsCreated' | 'statusWrites' | 'finished'>;
  objectStore: ObjectStore | undefined;
  /** The archive; a finished download's row is written before its finalizer goes. */
  archive?: Archive | undefined;
  admission: Admission;
  clock: Clock;
  logger: Logger;
}

export class Reconciler {
  private readonly deps: ReconcilerDependencies;
  /** Downloads (by uid) whose upload Secret exists, as this replica made or found it. */
  private readonly uploadSecrets = new Set<string>();

  constructor(deps: ReconcilerDependencies) {
    this.deps = deps;
  }

  async reconcile(key: string): Promise<ReconcileResult> {
    const download = this.deps.caches.downloads.get(key);
    if (!download) {
      this.deps.admission.settled(key);
      return {};
    }
    if (download.metadata.deletionTimestamp) return this.finalize(download);
    await this.ensureFinalizer(download);

    const { namespace, name, uid } = download.metadata as Required<VideoDownload['metadata']>;
    let job = this.deps.caches.jobs.get(`${namespace}/${jobNameFor(name)}`);
    if (job && !this.ownedBy(job, uid)) {
      // A Job of an earlier download with the same name; the garbage collector removes it.
      return { requeueAfterMs: 1_000 };
    }
    if (!job && this.deps.admission.pending(key)) return {};

    let admitted = false;
    // A claim the operator does not allow: failed before any Job could mount it.
    const refused = job ? undefined : volumeRefusal(download, this.deps.config);
    if (!job && !isTerminal(download) && !refused) {
      if (download.status?.jobName) {
        // The cache may lag behind a Job another leader created: ask the server before calling it lost.
        job = await this.deps.writes.readJob(namespace, download.status.jobName);
        if (job && !this.ownedBy(job, uid)) job = undefined;
      } else {
        const started = await this.admitAndCreate(download);
        admitted = started.admitted;
        job = started.job;
      }
    }

    const pods = this.deps.caches.pods.byIndex(key);
    const bucket = bucketFor(download, this.deps.config);
    const reported = await this.storedReport(download, bucket);
    const status = desiredStatus({
      download,
      job,
      pods,
      admitted,
      bucket,
      reported,
      refused,
      now: this.now(),
    });
    if ((status.phase === 'Succeeded' || status.phase === 'Failed') && !isTerminal(download)) {
      // A pod stopped at the deadline may still be writing: wait for it (its pod event comes back here).
      // A pod that reported its file stored has written all it will.
      if (!reported && pods.some((pod) => !podStopped(pod)) && !this.pastCleanupTimeout(job))
        return { requeueAfterMs: 2_000 };
      await this.releaseUploads(download, job, status.phase);
    }
    // The Job's pod cannot start without its upload plan: made right after the
    // Job (and once by each new leader, which finds the one already there), beside
    // the status write, which the pod does not wait for.
    const planFor =
      job &&
      !jobFinished(job) &&
      status.phase !== 'Succeeded' &&
      status.phase !== 'Failed' &&
      !download.spec.storage?.volume
        ? job
        : undefined;
    // Both settle before the reconcile ends, so no write of this key outlives it.
    const [wrote, planned] = await Promise.allSettled([
      this.writeStatus(download, status),
      planFor ? this.ensureUploadSecret(download, planFor) : undefined,
    ]);
    if (wrote.status === 'rejected') throw wrote.reason;
    if (planned.status === 'rejected') throw planned.reason;

    if (status.phase === 'Succeeded' || status.phase === 'Failed') {
      this.uploadSecrets.delete(uid);
      // Jobs get their TTL when made; one made by an older operator without it, once its result is recorded.
      if (job && jobFinished(job) && job.spec?.ttlSecondsAfterFinished === undefined) {
        await this.deps.writes.setJobTtl(
          namespace,
          job.metadata?.name as string,
          this.deps.config.jobTtlSecondsAfterFinished,
        );
      }
      if (!isTerminal(download)) this.deps.admission.released();
      return this.expire(download, status);
    }
    return {};
  }

  /**
   * The result of the pod's final progress report when storage holds that
   * file with the size reported; undefined otherwise, and when storage cannot
   * say (the Job's termination message still tells, once the pod exits).
   */
  private async storedReport(download: VideoDownload, bucket: string): Promise<Result | undefined> {
    const reported = reportToVerify(download, bucket);
    const store = this.deps.objectStore;
    if (!reported) return undefined;
    // The operator cannot look into a volume; the pod's report stands as its termination message would.
    if (reported.volume) return reported;
    if (!store || reported.bucket === undefined || reported.key === undefined) return undefined;
    try {
      const stored = await store.statObject(reported.bucket, reported.key);
      if (stored?.size === reported.size) return reported;
      this.deps.logger.warn(
        {
          download: `${download.metadata.namespace}/${download.metadata.name}`,
          stored,
          reported: reported.size,
        },
        'the reported file is not stored as reported; waiting for the Job',
      );
    } catch (error) {
      this.deps.logger.info(
        { download: `${download.metadata.namespace}/${download.metadata.name}`, err: String(error) },
        'could not check the reported file; waiting for the Job',
      );
    }
    return undefined;
  }

  private ownedBy(job: k8s.V1Job, uid: string): boolean {
    return job.metadata?.ownerReferences?.some((ref) => ref.controller && ref.uid === uid) ?? false;
  }

  private now(): Date {
    return new Date(this.deps.clock.now());
  }

  /** Start this download if admission lets it; the Job creates of admitted downloads run in parallel. */
  private async admitAndCreate(
    download: VideoDownload,
  ): Promise<{ admitted: boolean; job: k8s.V1Job | undefined }> {
    const key = `${download.metadata.namespace}/${download.metadata.name}`;
    if (this.deps.admission.tryAdmit(download) === 'queued') return { admitted: false, job: undefined };
    try {
      return { admitted: true, job: await this.createJob(download) };
    } catch (error) {
      this.deps.admission.createFailed(key);
      throw error;
    }
  }

  private async createJob(download: VideoDownload): Promise<k8s.V1Job> {
    const key = `${download.metadata.namespace}/${download.metadata.name}`;
    const body = desiredJob(download, this.deps.config);
    const namespace = download.metadata.namespace as string;
    try {
      const job = await this.deps.writes.createJob(namespace, body);
      this.deps.metrics.jobsCreated.inc();
      this.deps.logger.info({ download: key, job: job.metadata?.name }, 'created Job');
      return job;
    } catch (error) {
      if (statusCodeOf(error) !== 409) throw error;
      // Created before a crash or by a previous leader: adopt it if it is ours.
      const existing = await this.deps.writes.readJob(namespace, body.metadata?.name as string);
      if (!existing || !this.ownedBy(existing, download.metadata.uid as string)) {
        throw new Error(
          `Job ${body.metadata?.name} exists but belongs to another object; waiting for it to go`,
        );
      }
      return existing;
    }
  }

  /**
   * Creates the download's multipart uploads and hands the pod presigned
   * requests for them in a Secret owned by the Job: the pod holds no storage
   * credential. An existing Secret is kept (its uploads are the ones in use).
   */
  private async ensureUploadSecret(download: VideoDownload, job: k8s.V1Job): Promise<void> {
    const uid = download.metadata.uid as string;
    if (this.uploadSecrets.has(uid)) return;
    const store = this.deps.objectStore;
    if (!store)
      throw new Error('no object store configured (VDL_S3_ACCESS_KEY unset): downloads cannot upload');
    const { config } = this.deps;
    const plan = await prepareUploadPlan(store, {
      bucket: bucketFor(download, config),
      prefix: keyPrefixFor(download),
      maxFileSize: maxFileSizeFor(download, config),
      minimumPartSize: quantityBytes(config.minUploadPartSize),
      deadlineSeconds: deadlineSecondsFor(download, config),
      sourceUrl: download.spec.url,
      now: this.now(),
    });
    const body = uploadSecret(
      download,
      { name: job.metadata?.name as string, uid: job.metadata?.uid as string },
      plan,
    );
    try {
      await this.deps.writes.createSecret(download.metadata.namespace as string, body);
    } catch (error) {
      // Made before (by a previous leader, say): the pod may already use those uploads; drop the new ones.
      await Promise.all([
        store.abortUpload(plan.bucket, plan.file.key, uploadIdOf(plan.file.abort)),
        store.abortUpload(plan.bucket, plan.info.key, uploadIdOf(plan.info.abort)),
      ]).catch(() => {});
      if (statusCodeOf(error) !== 409) throw error;
    }
    this.uploadSecrets.add(uid);
  }

  /**
   * Once a download is over, no multipart upload of it may stay open (a pod
   * that failed for the last time left its parts), and a failed one keeps
   * nothing at all (its file may have been stored before its info JSON
   * failed). Done before the terminal status is written, so a storage outage
   * retries it; given up after the finalizer timeout, so the status is never
   * held back for good.
   */
  private async releaseUploads(
    download: VideoDownload,
    job: k8s.V1Job | undefined,
    phase: 'Succeeded' | 'Failed',
  ): Promise<void> {
    const store = this.deps.objectStore;
    // A volume download has no uploads; its pod leaves no partial file (it removes its own on the way out).
    if (!store || !job || download.spec.storage?.volume) return;
    const bucket = bucketFor(download, this.deps.config);
    const prefix = keyPrefixFor(download);
    try {
      const released =
        phase === 'Failed'
          ? await store.removePrefix(bucket, prefix, uploadedKeys(prefix))
          : await store.abortIncompleteUploads(bucket, prefix, uploadedKeys(prefix));
      if (released > 0)
        this.deps.logger.info(
          { download: `${download.metadata.namespace}/${download.metadata.name}`, phase, released },
          'released unfinished uploads',
        );
    } catch (error) {
      const finishedAt =
        job.status?.completionTime ??
        job.status?.conditions?.find((c) => c.status === 'True')?.lastTransitionTime;
      const since = finishedAt ? this.deps.clock.now() - new Date(finishedAt).getTime() : 0;
      if (since < this.deps.config.finalizerTimeoutSeconds * 1000) throw error;
      this.deps.logger.warn({ bucket, prefix, err: String(error) }, 'gave up aborting unfinished uploads');
    }
  }

  /** Whether the Job finished longer than the finalizer timeout ago: cleanup no longer holds the status back. */
  private pastCleanupTimeout(job: k8s.V1Job | undefined): boolean {
    const finishedAt =
      job?.status?.completionTime ??
      job?.status?.conditions?.find(
        (c) => c.status === 'True' && (c.type === 'Complete' || c.type === 'Failed'),
      )?.lastTransitionTime;
    if (!finishedAt) return false;
    return (
      this.deps.clock.now() - new Date(finishedAt).getTime() >=
      this.deps.config.finalizerTimeoutSeconds * 1000
    );
  }

  private async writeStatus(download: VideoDownload, status: VideoDownloadStatus): Promise<void> {
    const patch = statusPatch(download.status, status);
    if (!patch) return;
    const { namespace, name, resourceVersion } = download.metadata as Required<VideoDownload['metadata']>;
    await this.deps.writes.patchStatus(namespace, name, resourceVersion, patch);
    this.deps.metrics.statusWrites.inc();
    // Counted once, by the write that records the end: a later reconcile finds it terminal already.
    if ((status.phase === 'Succeeded' || status.phase === 'Failed') && !isTerminal(download)) {
      this.deps.metrics.finished(status.phase, status.reason);
    }
    const event = transitionEvent(download.status, status);
    // Not awaited, as client-go's recorder sends events in the background: an
    // event is for people, and waiting for it held each worker one more round trip.
    if (event) void this.deps.recorder.record(download, event.type, event.reason, event.message);
  }

  private async expire(download: VideoDownload, status: VideoDownloadStatus): Promise<ReconcileResult> {
    const ttl = download.spec.ttlSecondsAfterFinished;
    if (ttl === undefined || !status.completionTime) return {};
    const remaining = new Date(status.completionTime).getTime() + ttl * 1000 - this.deps.clock.now();
    if (remaining > 0) return { requeueAfterMs: remaining };
    const { namespace, name } = download.metadata as { namespace: string; name: string };
    // Logged, not told in an Event: an Event on an object about to go is one more write nobody reads.
    this.deps.logger.info({ download: `${namespace}/${name}`, ttl }, 'deleting an expired download');
    await this.deps.writes.deleteDownload(namespace, name);
    return {};
  }

  private async ensureFinalizer(download: VideoDownload): Promise<void> {
    // Retain keeps the files, yet the download's unfinished uploads go with it: a finalizer either way.
    if (download.metadata.finalizers?.includes(finalizers.storedObject)) return;
    const next = [...(download.metadata.finalizers ?? []), finalizers.storedObject];
    await this.patchFinalizers(download, next);
  }

  /** Also brings this reconcile's copy up to the write, whose resourceVersion the status patch then names. */
  private async patchFinalizers(download: VideoDownload, next: string[]): Promise<void> {
    const { namespace, name, resourceVersion } = download.metadata as Required<VideoDownload['metadata']>;
    // resourceVersion in a merge patch is a precondition: a stale cache gets 409 and a retry.
    const written = await this.deps.writes.setFinalizers(namespace, name, resourceVersion, next);
    download.metadata.finalizers = next;
    download.metadata.resourceVersion = written;
  }

  /**
   * A finished download's row is in the archive before the download may go,
   * so a TTL or a kubectl delete never beats the archiver. While the database
   * cannot be written this throws (the reconcile is retried with backoff),
   * for at most the archive's finalizer timeout; then the download goes with
   * an Event ArchiveAbandoned, so deletion never hangs for good.
   */
  private async ensureArchived(download: VideoDownload, sinceDeletionMs: number): Promise<void> {
    const archive = this.deps.archive;
    if (!archive || !isTerminal(download)) return;
    try {
      await archive.record(download);
    } catch (error) {
      const limit = this.deps.config.archive.finalizerTimeoutSeconds;
      if (sinceDeletionMs < limit * 1000) throw error;
      await this.deps.recorder.record(
        download,
        'Warning',
        'ArchiveAbandoned',
        `not archived within ${limit}s of its deletion: ${error instanceof Error ? error.message : String(error)}`,
      );
    }
  }

  /**
   * Removes what a deleted download left on its volume with a Job that
   * mounts the claim (the operator mounts none): true once that Job is
   * Complete, or there is nothing to remove; true too, with an Event, when it
   * failed or ran past the finalizer timeout (counted from the Job's
   * creation, so an operator that was down still tries once), so deletion
   * never hangs.
   */
  private async removeVolumeFile(download: VideoDownload): Promise<boolean> {
    const body = volumeCleanupJob(download, this.deps.config);
    if (!body) return true;
    const { namespace } = download.metadata as { namespace: string };
    const name = cleanupJobNameFor(download);
    const path = download.status?.result?.volume?.path;
    const job =
      this.deps.caches.jobs.get(`${namespace}/${name}`) ?? (await this.deps.writes.readJob(namespace, name));
    if (!job) {
      try {
        await this.deps.writes.createJob(namespace, body);
        this.deps.logger.info(
          { download: `${namespace}/${download.metadata.name}`, path },
          'removing what the download left on its volume',
        );
      } catch (error) {
        if (statusCodeOf(error) !== 409) throw error;
      }
      return false;
    }
    const done = job.status?.conditions?.find(
      (c) => c.status === 'True' && (c.type === 'Complete' || c.type === 'Failed'),
    );
    if (done?.type === 'Complete') return true;
    const age = this.deps.clock.now() - new Date(job.metadata?.creationTimestamp ?? 0).getTime();
    if (!done && age < this.deps.config.finalizerTimeoutSeconds * 1000) return false;
    await this.deps.recorder.record(
      download,
      'Warning',
      'CleanupAbandoned',
      `could not clean volume ${download.spec.storage?.volume?.claimName}${path ? ` of ${path}` : ''}: ${done ? `Job ${name} failed: ${done.message ?? done.reason}` : `not done within ${this.deps.config.finalizerTimeoutSeconds}s`}`,
    );
    return true;
  }

  /**
   * Deleting a download stops its Job and, per its deletion policy, removes
   * its files and unfinished uploads, but only once no pod of it can write
   * any more (a pod still stopping could complete an upload after the removal).
   */
  private async finalize(download: VideoDownload): Promise<ReconcileResult> {
    const { namespace, name, uid } = download.metadata as Required<VideoDownload['metadata']>;
    const key = `${namespace}/${name}`;
    this.uploadSecrets.delete(uid);
    const job = this.deps.caches.jobs.get(`${namespace}/${jobNameFor(name)}`);
    const ours = job && this.ownedBy(job, uid);
    if (ours && !jobFinished(job)) {
      await this.deps.writes.deleteJob(namespace, job.metadata?.name as string);
    }
    if (!download.metadata.finalizers?.includes(finalizers.storedObject)) return {};
    const since = this.deps.clock.now() - new Date(download.metadata.deletionTimestamp as string).getTime();
    const timeoutMs = this.deps.config.finalizerTimeoutSeconds * 1000;

    const stopping = this.deps.caches.pods
      .byIndex(key)
      .filter((pod) => !podStopped(pod) && pod.metadata?.labels?.[labels.component] !== cleanupComponent);
    // Until the Job is gone from the cache it may still make a pod.
    const jobStopping = ours && !jobFinished(job);
    if ((stopping.length > 0 || jobStopping) && since < timeoutMs) {
      // The pod informer reconciles again as each pod goes; the requeue is a safety net.
      return { requeueAfterMs: 2_000 };
    }
    await this.ensureArchived(download, since);
    if (download.spec.storage?.volume) {
      const cleaned = await this.removeVolumeFile(download);
      if (!cleaned) return { requeueAfterMs: 5_000 };
      await this.patchFinalizers(
        download,
        (download.metadata.finalizers ?? []).filter((f) => f !== finalizers.storedObject),
      );
      return {};
    }
    const bucket = bucketFor(download, this.deps.config);
    const prefix = keyPrefixFor(download);
    // Retain: the files stay, only what can never become a file goes.
    const retain = download.spec.storage?.deletionPolicy === 'Retain';
    try {
      if (!this.deps.objectStore) throw new Error('no object store configured (VDL_S3_ACCESS_KEY unset)');
      const store = this.deps.objectStore;
      const removed = retain
        ? await store.abortIncompleteUploads(bucket, prefix, uploadedKeys(prefix))
        : await store.removePrefix(bucket, prefix, uploadedKeys(prefix));
      this.deps.logger.info(
        { download: key, bucket, prefix, removed, retain },
        retain ? 'aborted unfinished uploads, kept the files' : 'removed stored files',
      );
    } catch (error) {
      if (since < timeoutMs) throw error;
      await this.deps.recorder.record(
        download,
        'Warning',
        'CleanupAbandoned',
        `could not remove ${bucket}/${prefix} within ${this.deps.config.finalizerTimeoutSeconds}s: ${String(error)}`,
      );
    }
    await this.patchFinalizers(
      download,
      (download.metadata.finalizers ?? []).filter((f) => f !== finalizers.storedObject),
    );
    return {};
  }
}

/** The keys the operator makes uploads for under a prefix. */
function uploadedKeys(prefix: string): string[] {
  return Object.values(uploadKeysFor(prefix));
}

/** A pod whose process has ended; any other may still write (a pending one may yet start). */
function podStopped(pod: k8s.V1Pod): boolean {
  return pod.status?.phase === 'Succeeded' || pod.status?.phase === 'Failed';
}
