import { describe, expect, it } from 'vitest';
import type { VideoDownload } from '../crds/video-download.ts';
import { VideoDownloadSpec } from '../crds/video-download.ts';
import { stateOfPhase } from './schemas.ts';
import { statusView } from './status-view.ts';

const download = (status: VideoDownload['status']): VideoDownload => ({
  apiVersion: 'vdl.dev/v1alpha1',
  kind: 'VideoDownload',
  metadata: { name: 'dl-1', creationTimestamp: '2026-01-01T00:00:00Z' },
  spec: VideoDownloadSpec.parse({ url: 'https://e.com/v' }),
  status,
});

describe('statusView', () => {
  it("maps every phase to the seed's states in one table", () => {
    expect(stateOfPhase).toEqual({
      None: 'PENDING',
      Pending: 'PENDING',
      Queued: 'QUEUED',
      Running: 'IN_PROGRESS',
      Succeeded: 'DONE',
      Failed: 'FAILED',
    });
  });

  it('shows progress and timing of a running download', () => {
    expect(
      statusView(
        download({
          phase: 'Running',
          attempts: 1,
          startTime: '2026-01-01T00:00:01Z',
          progress: {
            percent: 40,
            downloadedBytes: 4,
            totalBytes: 10,
            speedBytesPerSecond: 2,
            etaSeconds: 3,
            stage: 'downloading',
            title: 'T',
          },
        }),
      ),
    ).toEqual({
      job_id: 'dl-1',
      state: 'IN_PROGRESS',
      url: 'https://e.com/v',
      title: 'T',
      progress: { percent: 40, downloaded_bytes: 4, total_bytes: 10, speed: 2, eta: 3, stage: 'downloading' },
      created_at: '2026-01-01T00:00:00Z',
      started_at: '2026-01-01T00:00:01Z',
      finished_at: null,
      attempts: 1,
      error: null,
    });
  });

  it('gives the failure reason and message', () => {
    expect(statusView(download({ phase: 'Failed', reason: 'NotFound', message: 'HTTP 404' })).error).toEqual({
      reason: 'NotFound',
      message: 'HTTP 404',
    });
    expect(statusView(download(undefined)).state).toBe('PENDING');
  });
});
