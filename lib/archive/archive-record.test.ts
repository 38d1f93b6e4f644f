import { describe, expect, it } from 'vitest';
import { VideoDownloadSpec } from '../../crds/video-download.ts';
import { archivedDownload, archivedUrl } from './archive-record.ts';
import { containsPattern, storedText, textFromStored } from './stored-text.ts';

describe('storedText', () => {
  it.each([
    'plain',
    "'); DROP TABLE vdl_archived_downloads; --",
    'nul \u0000 inside',
    'lone \ud800 surrogate',
    'back\\slash and "quotes"',
    'x'.repeat(10_000),
    '日本語 🎬',
  ])('keeps %j exactly, with nothing PostgreSQL text refuses', (text) => {
    const stored = storedText(text);
    expect(stored).not.toContain('\u0000');
    expect(stored).not.toMatch(/[\ud800-\udfff]/u);
    expect(textFromStored(stored)).toBe(text);
  });

  it('finds a term with LIKE wildcards in it literally', () => {
    expect(containsPattern('50%_off')).toBe('%50\\%\\_off%');
    expect(containsPattern('a\u0000b')).toBe('%a\\\\u0000b%');
  });
});

describe('archivedUrl', () => {
  it('drops userinfo, the fragment and parameters that carry credentials', () => {
    expect(
      archivedUrl('https://user:pw@example.com/v?id=1&token=abc&X-Amz-Signature=s&Signature=x&list=2#t=3'),
    ).toBe('https://example.com/v?id=1&list=2');
    expect(archivedUrl('https://example.com/watch?v=abc')).toBe('https://example.com/watch?v=abc');
  });
});

describe('archivedDownload', () => {
  const download = (status: Record<string, unknown> | undefined) => ({
    apiVersion: 'vdl.dev/v1alpha1' as const,
    kind: 'VideoDownload' as const,
    metadata: {
      name: 'dl-1',
      namespace: 'vdl',
      uid: '00000000-0000-0000-0000-0000000000a1',
      creationTimestamp: '2026-12-01T10:00:00Z',
      labels: { 'vdl.dev/owner': 'alice' },
    },
    spec: VideoDownloadSpec.parse({
      url: 'https://u:p@example.com/v?token=t',
      notify: { url: 'https://hooks.example/x?key=k', secretRef: { name: 'vdl-webhook-a' } },
    }),
    status: status as never,
  });

  it('archives nothing before the download finished', () => {
    expect(archivedDownload(download(undefined))).toBeUndefined();
    expect(archivedDownload(download({ phase: 'Running' }))).toBeUndefined();
  });

  it('records a done download: owner, state, file, times, and no credential anywhere', () => {
    const row = archivedDownload(
      download({
        phase: 'Succeeded',
        startTime: '2026-12-01T10:00:05Z',
        completionTime: '2026-12-01T10:01:00Z',
        attempts: 2,
        result: {
          bucket: 'videos',
          key: 'vdl/dl-1/x/file',
          size: 5,
          sha256: 'a'.repeat(64),
          contentType: 'video/mp4',
          title: 'T',
        },
      }),
    );
    expect(row).toMatchObject({
      owner: 'alice',
      state: 'DONE',
      url: 'https://example.com/v',
      title: 'T',
      bucket: 'videos',
      objectKey: 'vdl/dl-1/x/file',
      size: 5,
      attempts: 2,
      createdAt: '2026-12-01T10:00:00Z',
      startedAt: '2026-12-01T10:00:05Z',
      finishedAt: '2026-12-01T10:01:00Z',
    });
    expect(row?.record).not.toContain('token=t');
    expect(row?.record).not.toContain('key=k');
    expect(row?.record).not.toContain('u:p@');
  });

  it('records a failed download with its reason and no file', () => {
    const row = archivedDownload(
      download({ phase: 'Failed', reason: 'VideoUnavailable', completionTime: '2026-12-01T10:01:00Z' }),
    );
    expect(row).toMatchObject({ state: 'FAILED', reason: 'VideoUnavailable', size: null, objectKey: null });
  });
});
