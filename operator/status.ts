// What status follows from what the operator observed: a pure function of
// the resource, its Job and the Job's pods, so every path is a table test.
import type { V1Job, V1JobCondition, V1Pod } from '@kubernetes/client-node';
import { parseTerminationMessage } from '../crds/termination-message.ts';
import {
  type Condition,
  kubernetesTime,
  type Phase,
  type VideoDownload,
  type VideoDownloadStatus,
} from '../crds/video-download.ts';
import { downloaderContainerName, keyPrefixFor } from './desired-job.ts';

export interface Observed {
  download: VideoDownload;
  job: V1Job | undefined;
  /** Pods of the Job, any order. */
  pods: V1Pod[];
  /** Whether the queue lets this download start now (only asked when it has no Job). */
  admitted: boolean;
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

function terminationOf(pod: V1Pod) {
  const container = pod.status?.containerStatuses?.find((status) => status.name === downloaderContainerName);
  return container?.state?.terminated ?? container?.lastState?.terminated;
}

/** Sets a condition, keeping lastTransitionTime when its status did not change (metav1 semantics). */
export function withCondition(
  conditions: Condition[] | undefined,
  next: Omit<Condition, 'lastTransitionTime'>,
  now: Date,
): Condition[] {
  const existing = conditions?.find((condition) => condition.type === next.type);
  const lastTransitionTime =
    existing && existing.status === next.status ? existing.lastTransitionTime : (iso(now) as string);
  return [
    ...(conditions ?? []).filter((condition) => condition.type !== next.type),
    { ...next, lastTransitionTime },
  ];
}

type Failure = { reason: string; message: string };

function failed(observed: Observed, base: VideoDownloadStatus, failure: Failure): VideoDownloadStatus {
  const { now, download } = observed;
  return {
    ...base,
    phase: 'Failed',
    reason: failure.reason,
    message: failure.message,
    completionTime: base.completionTime ?? iso(now),
    conditions: withCondition(
      base.conditions,
      {
        type: 'Failed',
        status: 'True',
        reason: failure.reason,
        message: failure.message,
        observedGeneration: download.metadata.generation,
      },
      now,
    ),
  };
}

/** Why a failed Job failed: the downloader's own words first, then the Job controller's. */
function jobFailure(job: V1Job, pods: V1Pod[]): Failure {
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

/** The status the resource should have; equal to the current one when nothing changed. */
export function desiredStatus(observed: Observed): VideoDownloadStatus {
  const { download, job, pods, admitted, now } = observed;
  const current = download.status ?? {};
  // A finished download's status is its record; nothing observed later changes it.
  if (isTerminal(download)) return current;

  const base: VideoDownloadStatus = { ...current, observedGeneration: download.metadata.generation };

  if (!job) {
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

  const withJob: VideoDownloadStatus = {
    ...base,
    jobName: job.metadata?.name,
    startTime: current.startTime ?? iso(job.status?.startTime ?? job.metadata?.creationTimestamp ?? now),
    attempts: Math.max(
      current.attempts ?? 0,
      (job.status?.active ?? 0) + (job.status?.failed ?? 0) + (job.status?.succeeded ?? 0),
    ),
  };

  if (jobCondition(job, 'Complete')) {
    const succeededPod = newest(pods).find((pod) => pod.status?.phase === 'Succeeded');
    const message = succeededPod ? parseTerminationMessage(terminationOf(succeededPod)?.message) : undefined;
    if (!message || !('result' in message)) {
      return failed(observed, withJob, {
        reason: 'ResultMissing',
        message: 'the download finished but reported no result in its termination message',
      });
    }
    const prefix = keyPrefixFor(download);
    const { result } = message;
    const keys = [result.key, result.infoKey].filter((key): key is string => key !== undefined);
    if (keys.some((key) => !key.startsWith(prefix) || key.split('/').includes('..'))) {
      return failed(observed, withJob, {
        reason: 'InvalidResult',
        message: `the download reported a key outside its own prefix ${prefix}`,
      });
    }
    const done = `stored ${result.size} bytes as ${result.bucket}/${result.key}`;
    return {
      ...withJob,
      phase: 'Succeeded',
      result,
      reason: undefined,
      message: undefined,
      completionTime: withJob.completionTime ?? iso(jobCondition(job, 'Complete')?.lastTransitionTime ?? now),
      progress: {
        ...withJob.progress,
        stage: 'done',
        percent: 100,
        title: result.title ?? withJob.progress?.title,
      },
      conditions: withCondition(
        withJob.conditions,
        {
          type: 'Complete',
          status: 'True',
          reason: 'Downloaded',
          message: done,
          observedGeneration: download.metadata.generation,
        },
        now,
      ),
    };
  }

  if (jobCondition(job, 'Failed')) return failed(observed, withJob, jobFailure(job, pods));

  // Once a pod has started, the download stays Running until the Job finishes:
  // between a pod's exit and the Job's condition, or while a retry's pod waits.
  const started = pods.some(
    (pod) =>
      (pod.status?.phase === 'Running' && !pod.metadata?.deletionTimestamp) ||
      pod.status?.phase === 'Succeeded' ||
      pod.status?.phase === 'Failed',
  );
  const running = started || current.phase === 'Running';
  return {
    ...withJob,
    phase: running ? 'Running' : 'Pending',
    progress: withJob.progress ?? { stage: 'starting' },
  };
}

/** A Kubernetes Event for a change of phase, so `kubectl describe vd` tells the story. */
export function transitionEvent(
  before: VideoDownloadStatus | undefined,
  after: VideoDownloadStatus,
): { type: 'Normal' | 'Warning'; reason: string; message: string } | undefined {
  if (before?.phase === after.phase) return undefined;
  switch (after.phase) {
    case 'Queued':
      return { type: 'Normal', reason: 'Queued', message: 'waiting for a free download slot' };
    case 'Pending':
      return after.jobName
        ? { type: 'Normal', reason: 'JobCreated', message: `created Job ${after.jobName}` }
        : { type: 'Normal', reason: 'Admitted', message: 'a download slot is free; starting' };
    case 'Running':
      return {
        type: 'Normal',
        reason: 'Started',
        message: `download running (attempt ${after.attempts ?? 1})`,
      };
    case 'Succeeded':
      return {
        type: 'Normal',
        reason: 'Succeeded',
        message: `stored ${after.result?.bucket}/${after.result?.key} (${after.result?.size} bytes)`,
      };
    case 'Failed':
      return {
        type: 'Warning',
        reason: after.reason ?? 'Failed',
        message: after.message ?? 'the download failed',
      };
    default:
      return undefined;
  }
}
