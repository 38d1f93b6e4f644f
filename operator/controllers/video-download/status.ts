// What status follows from what the operator observed: a pure function of
// the resource, its Job and the Job's pods, so every path is a table test.
import { isDeepStrictEqual } from 'node:util';
import type { V1Job, V1JobCondition, V1Pod } from '@kubernetes/client-node';
import { statusMessage } from '../../../crds/status-text.ts';
import { resultOutside, resultOutsideDownload } from '../../../crds/storage-location.ts';
import { parseTerminationMessage } from '../../../crds/termination-message.ts';
import {
  type Condition,
  kubernetesTime,
  type Phase,
  type Result,
  type VideoDownload,
  type VideoDownloadStatus,
} from '../../../crds/video-download.ts';
import { downloaderContainerName, keyPrefixFor } from './desired-job.ts';
import { uploadKeysFor } from './upload-plan.ts';

export interface Observed {
  download: VideoDownload;
  job: V1Job | undefined;
  /** Pods of the download, any order; only those the current Job made are read. */
  pods: V1Pod[];
  /** Whether the queue lets this download start now (only asked when it has no Job). */
  admitted: boolean;
  /** The bucket the download stores into; a result naming another one is refused. */
  bucket: string;
  /**
   * The result of the pod's final progress report (reportToVerify), once the
   * reconciler found that file stored with the size reported: the download is
   * done then, without waiting for its pod to exit and its Job to complete.
   */
  reported?: Result;
  /** Why the download may not start at all (a volume claim the operator does not allow). */
  refused?: Failure | undefined;
  now: Date;
}

export const terminalPhases: ReadonlySet<Phase | undefined> = new Set(['Succeeded', 'Failed']);

export function isTerminal(download: VideoDownload): boolean {
  return terminalPhases.has(download.status?.phase);
}

function jobCondition(job: V1Job | undefined, type: string): V1JobCondition | undefined {
  return job?.status?.conditions?.find((condition) => condition.type === type && condition.status === 'True');
}

export function jobFinished(job: V1Job): boolean {
  return jobCondition(job, 'Complete') !== undefined || jobCondition(job, 'Failed') !== undefined;
}

function iso(value: Date | string | undefined): string | undefined {
  if (value === undefined) return undefined;
  return kubernetesTime(value);
}

function newest(pods: V1Pod[]): V1Pod[] {
  const created = (pod: V1Pod) => new Date(pod.metadata?.creationTimestamp ?? 0).getTime();
  return [...pods].sort((a, b) => created(b) - created(a));
}

/**
 * The pods the Job made. The label names only the download, so a pod of an
 * older Job of the same name (a download deleted and made again) carries it
 * too; its termination message is not this download's result.
 */
export function podsOfJob(job: V1Job, pods: V1Pod[]): V1Pod[] {
  const uid = job.metadata?.uid;
  if (!uid) return [];
  return pods.filter(
    (pod) => pod.metadata?.ownerReferences?.some((ref) => ref.controller && ref.uid === uid) ?? false,
  );
}

function terminationOf(pod: V1Pod) {
  const container = pod.status?.containerStatuses?.find((status) => status.name === downloaderContainerName);
  return container?.state?.terminated ?? container?.lastState?.terminated;
}

/**
 * The conditions vdl sets, all of them on every download. Ready, Reconciling
 * and Stalled are what kstatus (Flux, kpt, Config Sync) and the API
 * conventions read: queued and running are Reconciling, done is Ready, a
 * failure for good is Stalled. Complete and Failed are a Job's, for kubectl wait.
 */
export const conditionTypes = ['Ready', 'Reconciling', 'Stalled', 'Complete', 'Failed'] as const;

function phaseReason(status: VideoDownloadStatus): { reason: string; message: string } {
  switch (status.phase) {
    case 'Queued':
      // A download put back in the queue (its Job stopped by helm uninstall) says why.
      return {
        reason: status.reason ?? 'Queued',
        message: status.message ?? 'waiting for a free download slot',
      };
    case 'Running':
      // Written once when the Job is made (the pod's progress tells the rest), so it names no moment of the run.
      return {
        reason: 'Running',
        message: `Job ${status.jobName} runs the download (attempt ${status.attempts || 1}); status.progress tells how far it is`,
      };
    case 'Succeeded':
      return {
        reason: 'Downloaded',
        message: `stored ${status.result?.size} bytes as ${storedAs(status.result)}`,
      };
    case 'Failed':
      return { reason: status.reason ?? 'Failed', message: status.message ?? 'the download failed' };
    default:
      return status.jobName
        ? { reason: 'Starting', message: `Job ${status.jobName} created; waiting for its pod to start` }
        : { reason: 'Starting', message: 'a download slot is free; starting' };
  }
}

/** Where a result lies, as people read it: bucket/key, or claim:path on a volume. */
export function storedAs(result: Result | undefined): string {
  if (result?.volume) return `${result.volume.claimName}:${result.volume.path}`;
  return `${result?.bucket}/${result?.key}`;
}

/** The conditions that follow from a status' phase; lastTransitionTime kept where a status stayed. */
export function conditionsFor(
  status: VideoDownloadStatus,
  generation: number | undefined,
  now: Date,
): Condition[] {
  const { reason, message } = phaseReason(status);
  const phase = status.phase ?? 'Pending';
  const isTrue: Record<(typeof conditionTypes)[number], boolean> = {
    Ready: phase === 'Succeeded',
    Reconciling: !terminalPhases.has(phase),
    Stalled: phase === 'Failed',
    Complete: phase === 'Succeeded',
    Failed: phase === 'Failed',
  };
  const withTime = (next: Omit<Condition, 'lastTransitionTime'>): Condition => {
    const existing = status.conditions?.find((condition) => condition.type === next.type);
    const lastTransitionTime =
      existing && existing.status === next.status ? existing.lastTransitionTime : (iso(now) as string);
    return { ...next, lastTransitionTime };
  };
  const conditions = conditionTypes.map((type) =>
    withTime({
      type,
      status: isTrue[type] ? 'True' : 'False',
      reason,
      message: statusMessage(message),
      observedGeneration: generation,
    }),
  );
  // Archived, only once the archiver had something to say (archiving failed): from its record.
  const archive = status.archive;
  if (archive)
    conditions.push(
      withTime({
        type: 'Archived',
        status: archive.state === 'Archived' ? 'True' : 'False',
        reason: archive.state === 'Archived' ? 'Archived' : (archive.reason ?? 'ArchiveUnavailable'),
        message: statusMessage(
          archive.state === 'Archived'
            ? 'recorded in the archive'
            : `not yet in the archive, retrying: ${archive.message ?? 'the database cannot be written'}`,
        ),
        observedGeneration: generation,
      }),
    );
  return conditions;
}

type Failure = { reason: string; message: string };

function failed(
  observed: Observed,
  base: VideoDownloadStatus,
  failure: Failure,
  at?: Date | string,
): VideoDownloadStatus {
  return {
    ...base,
    phase: 'Failed',
    result: undefined,
    reason: failure.reason,
    message: statusMessage(failure.message),
    completionTime: recordedCompletion(observed) ?? iso(at ?? observed.now),
  };
}

function recordedCompletion(observed: Observed): string | undefined {
  return isTerminal(observed.download) ? observed.download.status?.completionTime : undefined;
}

/** The limit from the Job's pod template: the operator caches pods without their spec. */
function memoryLimitOf(job: V1Job): string {
  const limit = job.spec?.template?.spec?.containers?.[0]?.resources?.limits?.memory;
  return limit ? ` of ${limit}` : '';
}

/** Why a failed Job failed: the downloader's own words first, then the Job controller's. */
function jobFailure(job: V1Job, pods: V1Pod[]): Failure {
  // The kernel's OOM killer may have killed yt-dlp or ffmpeg and not the
  // downloader, whose own words would then blame the tool; the runtime marks
  // the container OOMKilled either way. Say what happened and what to change,
  // since a retry with the same limit ends the same way.
  const last = newest(pods)
    .map(terminationOf)
    .find((terminated) => terminated !== undefined);
  if (last?.reason === 'OOMKilled' && jobCondition(job, 'Failed'))
    return {
      reason: 'OutOfMemory',
      message: `the download ran out of memory: its container was killed at its memory limit${memoryLimitOf(job)} (exit code ${last.exitCode}); raise the downloader's memory limit (chart value downloader.limits.memory)`,
    };
  for (const pod of newest(pods)) {
    const message = parseTerminationMessage(terminationOf(pod)?.message);
    if (message && 'error' in message) return message.error;
  }
  const condition = jobCondition(job, 'Failed');
  switch (condition?.reason) {
    case 'DeadlineExceeded':
      return { reason: 'DeadlineExceeded', message: 'the download did not finish within its deadline' };
    case 'BackoffLimitExceeded': {
      const exit = newest(pods)
        .map(terminationOf)
        .find((terminated) => terminated !== undefined);
      const how = exit
        ? ` (last attempt: exit code ${exit.exitCode}${exit.reason ? `, ${exit.reason}` : ''})`
        : '';
      return { reason: 'RetriesExhausted', message: `the download failed on every attempt${how}` };
    }
    case 'PodFailurePolicy':
      return {
        reason: 'PermanentFailure',
        message: condition.message ?? 'the downloader reported a permanent failure',
      };
    default:
      return { reason: condition?.reason ?? 'JobFailed', message: condition?.message ?? 'the Job failed' };
  }
}

function succeeded(
  observed: Observed,
  base: VideoDownloadStatus,
  result: Result,
  at?: Date | string,
): VideoDownloadStatus {
  return {
    ...base,
    phase: 'Succeeded',
    result,
    completionTime: recordedCompletion(observed) ?? iso(at ?? observed.now),
    progress: { ...base.progress, stage: 'done', percent: 100, title: result.title ?? base.progress?.title },
  };
}

/**
 * The result a download pod reported with its final progress (stage done),
 * when it names the very keys the operator planned for this download: the
 * reconciler then checks storage for it (reported). Only for a download the
 * operator made a Job for and has not recorded as finished.
 */
export function reportToVerify(download: VideoDownload, bucket: string): Result | undefined {
  const status = download.status;
  const reported = status?.progress?.stage === 'done' ? status.progress.result : undefined;
  if (!reported || !status?.jobName || isTerminal(download)) return undefined;
  // A file on a volume is checked as its termination message would be: the operator mounts no volume.
  if (download.spec.storage?.volume)
    return resultOutsideDownload(reported, download, bucket) ? undefined : reported;
  const prefix = keyPrefixFor(download);
  const planned = uploadKeysFor(prefix);
  if (resultOutside(reported, { bucket, prefix })) return undefined;
  if (reported.key !== planned.file) return undefined;
  if (reported.infoKey !== undefined && reported.infoKey !== planned.info) return undefined;
  return reported;
}

/**
 * A Succeeded status the operator recorded from the pod's own report (its
 * result is the one the pod reported in progress, which only the pod
 * writes): it stands whatever the Job does after, so a later completion
 * writes nothing again, and a pod that fails after its file was stored
 * (killed at its deadline while it exits, say) does not undo the download.
 */
function recordedFromReport(status: VideoDownloadStatus): boolean {
  return (
    status.phase === 'Succeeded' &&
    status.result !== undefined &&
    isDeepStrictEqual(status.result, status.progress?.result)
  );
}

/** What only a finished download has: a download that is not finished carries none of it. */
function withoutOutcome(status: VideoDownloadStatus): VideoDownloadStatus {
  return { ...status, result: undefined, reason: undefined, message: undefined, completionTime: undefined };
}

/**
 * A finished download whose Job is gone keeps its status as its record. The
 * operator records an outcome only for a download it made a Job for, and a
 * result only inside the download's own bucket and prefix; a record that is
 * not like that was written by someone else and does not stand.
 */
function keptRecord(observed: Observed): VideoDownloadStatus | undefined {
  const { download } = observed;
  const current = download.status ?? {};
  if (!current.jobName) return undefined;
  const base = { ...current, observedGeneration: download.metadata.generation };
  if (current.phase !== 'Succeeded') return base;
  const outside = current.result
    ? resultOutsideDownload(current.result, download, observed.bucket)
    : 'the record names no result';
  return outside ? failed(observed, base, { reason: 'InvalidResult', message: outside }) : base;
}

/**
 * Whether what a finished download's status was derived from is gone or going:
 * no Job, a Job being deleted (foreground deletion removes its pods first), or
 * a finished Job whose pods were removed (for a Complete one: its succeeded
 * pod). Derived again then, a DONE download would read as ResultMissing.
 */
function evidenceGone(job: V1Job | undefined, pods: V1Pod[]): boolean {
  if (!job || job.metadata?.deletionTimestamp) return true;
  const jobPods = podsOfJob(job, pods);
  // A Complete Job's result is read from its succeeded pod; a retried Job
  // keeps its failed pods too, and they may outlast the one that succeeded.
  if (jobCondition(job, 'Complete')) return !jobPods.some((pod) => pod.status?.phase === 'Succeeded');
  return jobCondition(job, 'Failed') !== undefined && jobPods.length === 0;
}

/** The status the resource should have; equal to the current one when nothing changed. */
export function desiredStatus(observed: Observed): VideoDownloadStatus {
  const status = phaseStatus(observed);
  return {
    ...status,
    conditions: conditionsFor(status, observed.download.metadata.generation, observed.now),
  };
}

function phaseStatus(observed: Observed): VideoDownloadStatus {
  const { download, job, admitted, now } = observed;
  const current = download.status ?? {};
  // While the Job and its pods are there, status is derived from them every
  // time: a phase or result written by anyone else is overwritten, not kept.
  // Once that evidence is going, a finished download's record stands (checked).
  if (isTerminal(download) && (evidenceGone(job, observed.pods) || recordedFromReport(current))) {
    const kept = keptRecord(observed);
    if (kept) return kept;
  }

  const base: VideoDownloadStatus = {
    ...withoutOutcome(current),
    observedGeneration: download.metadata.generation,
  };

  // The pod reported its file stored, and it is: done now, whether the Job
  // is still running, complete, or already gone by its TTL.
  if (observed.reported && (job || current.jobName)) {
    return succeeded(observed, job ? withJobFields(observed, job, base) : base, observed.reported);
  }

  if (!job) {
    if (!current.jobName && observed.refused) return failed(observed, base, observed.refused);
    if (current.jobName) {
      return failed(observed, base, {
        reason: 'JobDeleted',
        message: `Job ${current.jobName} was deleted before the download finished`,
      });
    }
    return {
      ...base,
      phase: admitted ? 'Pending' : 'Queued',
      progress: base.progress ?? { stage: 'queued' },
    };
  }

  const pods = podsOfJob(job, observed.pods);
  const withJob = withJobFields(observed, job, base);

  const complete = jobCondition(job, 'Complete');
  if (complete) {
    const succeededPod = newest(pods).find((pod) => pod.status?.phase === 'Succeeded');
    const message = succeededPod ? parseTerminationMessage(terminationOf(succeededPod)?.message) : undefined;
    if (!message || !('result' in message)) {
      return failed(
        observed,
        withJob,
        {
          reason: 'ResultMissing',
          message: 'the download finished but reported no result in its termination message',
        },
        complete.lastTransitionTime,
      );
    }
    const { result } = message;
    const outside = resultOutsideDownload(result, download, observed.bucket);
    if (outside) {
      return failed(
        observed,
        withJob,
        { reason: 'InvalidResult', message: outside },
        complete.lastTransitionTime,
      );
    }
    return succeeded(observed, withJob, result, complete.lastTransitionTime ?? now);
  }

  const failedCondition = jobCondition(job, 'Failed');
  if (failedCondition) {
    return failed(observed, withJob, jobFailure(job, pods), failedCondition.lastTransitionTime);
  }

  // Running from the Job's creation to its end, as the Job counts a pending
  // pod active: the pod's start is no transition the operator writes (its own
  // progress shows it downloading), so a download costs one status write here.
  const waiting = !withJob.progress || withJob.progress.stage === 'queued';
  return { ...withJob, phase: 'Running', progress: waiting ? { stage: 'starting' } : withJob.progress };
}

/** What follows from the download's Job: its name, when it started, how many attempts it made. */
function withJobFields(observed: Observed, job: V1Job, base: VideoDownloadStatus): VideoDownloadStatus {
  const current = observed.download.status ?? {};
  return {
    ...base,
    jobName: job.metadata?.name,
    startTime:
      current.startTime ?? iso(job.status?.startTime ?? job.metadata?.creationTimestamp ?? observed.now),
    // The first attempt counts from the Job's creation, so its pod's start changes nothing here.
    attempts: Math.max(
      current.attempts ?? 0,
      1,
      (job.status?.active ?? 0) + (job.status?.failed ?? 0) + (job.status?.succeeded ?? 0),
    ),
  };
}

/**
 * A Kubernetes Event for a change of phase that a person should hear of: a
 * failure. The routine steps (queued, started, done) are in the status
 * conditions `kubectl describe` shows; an Event for each cost the API server
 * writes for every download.
 */
export function transitionEvent(
  before: VideoDownloadStatus | undefined,
  after: VideoDownloadStatus,
): { type: 'Warning'; reason: string; message: string } | undefined {
  if (before?.phase === after.phase || after.phase !== 'Failed') return undefined;
  return {
    type: 'Warning',
    reason: after.reason ?? 'Failed',
    message: after.message ?? 'the download failed',
  };
}
