import { describe, expect, it } from 'vitest';
import type { VideoDownload, VideoDownloadStatus } from '../../crds/video-download.ts';
import { desiredStatus } from '../controllers/video-download/status.ts';
import { download } from '../controllers/video-download/test-fixtures.ts';
import { interruptedReason, needsRequeue, requeuedStatus } from './requeue.ts';

const now = new Date('2026-01-01T00:10:00Z');

function withStatus(status: VideoDownloadStatus): VideoDownload {
  return { ...download('clip'), status };
}

/** A merge patch applied as the API server does: null removes the field. */
function merged(current: VideoDownloadStatus, patch: Record<string, unknown>): VideoDownloadStatus {
  const next: Record<string, unknown> = { ...current };
  for (const [key, value] of Object.entries(patch)) {
    if (value === null) delete next[key];
    else next[key] = value;
  }
  return next as VideoDownloadStatus;
}

describe('which downloads the uninstall drain puts back in the queue', () => {
  it.each([
    ['running with a Job', { phase: 'Running', jobName: 'clip' }, true],
    ['pending with a Job', { phase: 'Pending', jobName: 'clip' }, true],
    ['queued, no Job yet', { phase: 'Queued' }, false],
    ['never seen by the operator', {}, false],
    ['succeeded', { phase: 'Succeeded', jobName: 'clip' }, false],
    ['failed', { phase: 'Failed', jobName: 'clip', reason: 'DownloadFailed' }, false],
  ] as const)('%s: %s', (_name, status, expected) => {
    expect(needsRequeue(withStatus(status as VideoDownloadStatus))).toBe(expected);
  });
});

describe('the requeued status', () => {
  const running = withStatus({
    phase: 'Running',
    jobName: 'clip',
    attempts: 2,
    startTime: '2026-01-01T00:01:00Z',
    progress: { stage: 'downloading', percent: 40 },
  });

  it('is Queued, still reconciling, with no Job and the reason', () => {
    const patch = requeuedStatus(running, now);
    expect(patch).toMatchObject({
      phase: 'Queued',
      jobName: null,
      progress: { stage: 'queued' },
      reason: interruptedReason,
    });
    const conditions = patch.conditions as Array<{ type: string; status: string; reason: string }>;
    expect(Object.fromEntries(conditions.map((c) => [c.type, c.status]))).toEqual({
      Ready: 'False',
      Reconciling: 'True',
      Stalled: 'False',
      Complete: 'False',
      Failed: 'False',
    });
    expect(conditions.find((c) => c.type === 'Reconciling')?.reason).toBe(interruptedReason);
  });

  it('keeps the attempts and start time, the download history', () => {
    const after = merged(running.status as VideoDownloadStatus, requeuedStatus(running, now));
    expect(after.attempts).toBe(2);
    expect(after.startTime).toBe('2026-01-01T00:01:00Z');
  });

  it('makes the next operator start a new Job, not call the old one deleted', () => {
    const after = withStatus(merged(running.status as VideoDownloadStatus, requeuedStatus(running, now)));
    const next = desiredStatus({
      download: after,
      job: undefined,
      pods: [],
      admitted: true,
      bucket: 'b',
      now,
    });
    expect(next.phase).toBe('Pending');
    expect(next.reason).toBeUndefined();
    // What the operator makes of the same download with its jobName kept: lost for good.
    const kept = withStatus({ ...after.status, jobName: 'clip' });
    expect(
      desiredStatus({ download: kept, job: undefined, pods: [], admitted: true, bucket: 'b', now }),
    ).toMatchObject({
      phase: 'Failed',
      reason: 'JobDeleted',
    });
  });
});
