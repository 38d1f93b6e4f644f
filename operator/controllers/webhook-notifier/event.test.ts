import { describe, expect, it } from 'vitest';
import type { VideoDownload } from '../../../crds/video-download.ts';
import { download } from '../video-download/test-fixtures.ts';
import { completionEvent } from './event.ts';

const result = {
  bucket: 'vdl',
  key: 'team/clip/uid-clip/file',
  filename: 'Clip [x].mp4',
  size: 4096,
  sha256: 'b'.repeat(64),
  contentType: 'video/mp4',
  title: 'Clip',
  durationSeconds: 10,
};

function finished(status: VideoDownload['status']): VideoDownload {
  return download('clip', {}, { status });
}

describe('completion event', () => {
  it.each([['Pending'], ['Queued'], ['Running'], [undefined]] as const)('is none while %s', (phase) => {
    expect(completionEvent(finished(phase ? { phase } : undefined))).toBeUndefined();
  });

  it('of a stored file says which download, where the file is and what it is', () => {
    const event = completionEvent(
      finished({ phase: 'Succeeded', result, attempts: 1, completionTime: '2026-01-01T00:02:00Z' }),
    );
    expect(event?.id).toBe('vdl_uid-clip_done');
    expect(JSON.parse(event?.body as string)).toEqual({
      type: 'download.done',
      timestamp: '2026-01-01T00:02:00Z',
      data: {
        job_id: 'clip',
        namespace: 'team',
        uid: 'uid-clip',
        state: 'DONE',
        url: 'https://example.com/v',
        title: 'Clip',
        bucket: 'vdl',
        key: 'team/clip/uid-clip/file',
        filename: 'Clip [x].mp4',
        size: 4096,
        sha256: 'b'.repeat(64),
        content_type: 'video/mp4',
        duration_seconds: 10,
        attempts: 1,
        created_at: '2026-01-01T00:00:00Z',
        finished_at: '2026-01-01T00:02:00Z',
      },
    });
  });

  it('of a failure says why, with the title the pod had found, under its own id', () => {
    const event = completionEvent(
      finished({
        phase: 'Failed',
        reason: 'FileTooLarge',
        message: 'the file is larger than 1Gi',
        progress: { title: 'Long one' },
        completionTime: '2026-01-01T00:02:00Z',
      }),
    );
    expect(event?.id).toBe('vdl_uid-clip_failed');
    expect(JSON.parse(event?.body as string)).toMatchObject({
      type: 'download.failed',
      data: {
        state: 'FAILED',
        reason: 'FileTooLarge',
        message: 'the file is larger than 1Gi',
        title: 'Long one',
      },
    });
  });

  it('is the same bytes every time, so every attempt sends the same event', () => {
    const status = { phase: 'Succeeded' as const, result, completionTime: '2026-01-01T00:02:00Z' };
    expect(completionEvent(finished(status))).toEqual(completionEvent(finished(structuredClone(status))));
  });
});
