import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import type { VideoDownload } from '../../../crds/video-download.ts';
import { downloadCounts, reasonLabel, videoDownloadMetrics } from './metrics.ts';
import { download } from './test-fixtures.ts';

const now = Date.parse('2026-01-01T01:00:00Z');

function at(name: string, createdAt: string, status?: VideoDownload['status']) {
  const made = download(name);
  made.metadata.creationTimestamp = createdAt;
  if (status) made.status = status;
  return made;
}

describe('downloadCounts', () => {
  it('counts by phase, a download without status as Pending, and ages the oldest one not yet running', () => {
    const downloads = [
      at('new', '2026-01-01T00:59:00Z'),
      at('queued', '2026-01-01T00:30:00Z', { phase: 'Queued' }),
      at('running', '2026-01-01T00:00:00Z', { phase: 'Running' }),
      at('done', '2025-12-31T00:00:00Z', { phase: 'Succeeded' }),
      at('failed', '2025-12-31T00:00:00Z', { phase: 'Failed' }),
    ];
    expect(downloadCounts(downloads, now)).toEqual({
      byPhase: { Pending: 1, Queued: 1, Running: 1, Succeeded: 1, Failed: 1 },
      // queued waited 30 minutes; running, done and failed are older but no longer wait.
      oldestWaitingSeconds: 1800,
    });
  });

  it('says 0 when nothing waits, and a download being deleted waits for nothing', () => {
    const leaving = at('leaving', '2026-01-01T00:00:00Z', { phase: 'Queued' });
    leaving.metadata.deletionTimestamp = '2026-01-01T00:59:00Z';
    expect(downloadCounts([leaving], now).oldestWaitingSeconds).toBe(0);
    expect(downloadCounts([], now).oldestWaitingSeconds).toBe(0);
  });
});

describe('reasonLabel', () => {
  it('keeps CamelCase reasons, calls anything else Other, and stops adding reasons past the cap', () => {
    const seen = new Set<string>();
    expect(reasonLabel(seen, 'NotFound', 2)).toBe('NotFound');
    expect(reasonLabel(seen, 'evil reason {x="y"}', 2)).toBe('Other');
    expect(reasonLabel(seen, 'VideoPrivate', 2)).toBe('VideoPrivate');
    expect(reasonLabel(seen, 'OneTooMany', 2)).toBe('Other');
    expect(reasonLabel(seen, 'NotFound', 2)).toBe('NotFound');
  });
});

describe('videoDownloadMetrics', () => {
  it('serves the phase counts and the oldest wait as read from the cache at scrape time', async () => {
    const registry = new Registry();
    const downloads = [at('queued', '2026-01-01T00:50:00Z', { phase: 'Queued' })];
    let clock = now;
    videoDownloadMetrics(registry, { list: () => downloads, now: () => clock });
    const first = await registry.metrics();
    expect(first).toMatch(/^vdl_downloads\{phase="Queued"\} 1$/m);
    expect(first).toMatch(/^vdl_downloads\{phase="Running"\} 0$/m);
    expect(first).toMatch(/^vdl_downloads_oldest_waiting_seconds 600$/m);
    // Nothing calls set(): the next scrape sees the time and the cache as they are then.
    clock += 60_000;
    downloads.push(at('new', '2026-01-01T01:00:30Z'));
    const second = await registry.metrics();
    expect(second).toMatch(/^vdl_downloads\{phase="Pending"\} 1$/m);
    expect(second).toMatch(/^vdl_downloads_oldest_waiting_seconds 660$/m);
  });

  it('counts finished downloads by phase and reason', async () => {
    const registry = new Registry();
    const metrics = videoDownloadMetrics(registry);
    metrics.finished('Succeeded', undefined);
    metrics.finished('Failed', 'NotFound');
    metrics.finished('Failed', undefined);
    const text = await registry.metrics();
    expect(text).toMatch(/^vdl_downloads_finished_total\{phase="Succeeded",reason="Downloaded"\} 1$/m);
    expect(text).toMatch(/^vdl_downloads_finished_total\{phase="Failed",reason="NotFound"\} 1$/m);
    expect(text).toMatch(/^vdl_downloads_finished_total\{phase="Failed",reason="Failed"\} 1$/m);
  });
});
