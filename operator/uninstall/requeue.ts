// What a download's status becomes when helm uninstall stops its Job: pure,
// so the drain that writes it is I/O only.
import type { VideoDownload, VideoDownloadStatus } from '../../crds/video-download.ts';
import { conditionsFor, isTerminal } from '../controllers/video-download/status.ts';

export const interruptedReason = 'Interrupted';
export const interruptedMessage =
  'vdl was uninstalled while this download had a Job; it starts again from the beginning when vdl is installed';

/**
 * Whether the drain must put the download back in the queue: it has a Job (or
 * had one) and no outcome yet. A queued download has nothing to stop, and a
 * finished one keeps its status as its record.
 */
export function needsRequeue(download: VideoDownload): boolean {
  return !isTerminal(download) && Boolean(download.status?.jobName);
}

/**
 * The status merge patch that puts an interrupted download back in the queue.
 * jobName is removed (null in a merge patch), so the next operator makes a
 * new Job instead of calling the old one lost (reason JobDeleted); attempts and
 * startTime stay, they are the download's history.
 */
export function requeuedStatus(download: VideoDownload, now: Date): Record<string, unknown> {
  const requeued = {
    phase: 'Queued',
    progress: { stage: 'queued' },
    reason: interruptedReason,
    message: interruptedMessage,
  } satisfies VideoDownloadStatus;
  const status: VideoDownloadStatus = { ...download.status, ...requeued, jobName: undefined };
  return {
    ...requeued,
    jobName: null,
    conditions: conditionsFor(status, download.metadata.generation, now),
    observedGeneration: download.metadata.generation,
  };
}
