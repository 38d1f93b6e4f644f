// What the API shows of a VideoDownload: pure functions from the resource
// to the response bodies, in the seed's vocabulary.

import type { z } from 'zod';
import type { VideoDownload } from '../crds/video-download.ts';
import type { StatusResponse } from './schemas.ts';
import { type State, stateOfPhase } from './schemas.ts';

export function stateOf(download: VideoDownload): State {
  return stateOfPhase[download.status?.phase ?? 'None'];
}

export function isFinished(download: VideoDownload): boolean {
  const state = stateOf(download);
  return state === 'DONE' || state === 'FAILED';
}

export function statusView(download: VideoDownload): z.output<typeof StatusResponse> {
  const status = download.status ?? {};
  const progress = status.progress ?? {};
  return {
    job_id: download.metadata.name as string,
    state: stateOf(download),
    url: download.spec.url,
    title: status.result?.title ?? progress.title ?? null,
    progress: {
      percent: progress.percent ?? null,
      downloaded_bytes: progress.downloadedBytes ?? null,
      total_bytes: progress.totalBytes ?? null,
      speed: progress.speedBytesPerSecond ?? null,
      eta: progress.etaSeconds ?? null,
      stage: progress.stage ?? null,
    },
    created_at: download.metadata.creationTimestamp ?? null,
    started_at: status.startTime ?? null,
    finished_at: status.completionTime ?? null,
    attempts: status.attempts ?? 0,
    error:
      status.phase === 'Failed'
        ? { reason: status.reason ?? 'Failed', message: status.message ?? 'the download failed' }
        : null,
  };
}
