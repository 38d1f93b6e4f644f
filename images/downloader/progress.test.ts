import { describe, expect, it } from 'vitest';
import {
  advance,
  initialProgress,
  type ProgressState,
  parseLine,
  toStatusProgress,
  uploading,
} from './progress.ts';

const line = (text: string) => {
  const parsed = parseLine(text);
  if (!parsed) throw new Error(`not parsed: ${text}`);
  return parsed;
};
const dl = (format: string, downloaded: number, total: number | 'NA', status = 'downloading') =>
  line(
    `VDLPROGRESS {"status":"${status}","downloaded":${downloaded},"total":${total},"estimate":NA,"speed":1000,"eta":3,"format":"${format}"}`,
  );
const run = (lines: ReturnType<typeof line>[], from: ProgressState = initialProgress()) =>
  lines.reduce(advance, from);

describe('parseLine', () => {
  it('reads yt-dlp template lines, NA as missing', () => {
    expect(dl('137', 10, 'NA')).toEqual({
      kind: 'download',
      status: 'downloading',
      downloaded: 10,
      total: undefined,
      estimate: undefined,
      speed: 1000,
      eta: 3,
      format: '137',
    });
    expect(parseLine('[download] Destination: x.mp4')).toBeUndefined();
    expect(parseLine('VDLPROGRESS {broken')).toBeUndefined();
  });
});

describe('advance', () => {
  it('weights separate video and audio streams by their planned size', () => {
    const plan = line('VDLPLAN {"format":"137+140","size":1000,"title":"T"}');
    const state = run([plan, dl('137', 800, 800, 'finished'), dl('140', 100, 200)]);
    // 900 of 1000 bytes: 81 % of the 90 % the download stage fills.
    expect(state.percent).toBeCloseTo(81);
    expect(state.title).toBe('T');
    expect(state.downloadedBytes).toBe(900);
  });

  it('counts each stream as an equal share when sizes are unknown', () => {
    const plan = line('VDLPLAN {"format":"v+a","size":NA,"title":"T"}');
    const state = run([plan, dl('v', 50, 100)]);
    expect(state.percent).toBeCloseTo(22.5);
    expect(run([dl('v', 100, 100, 'finished'), dl('a', 0, 10)], state).percent).toBeCloseTo(45);
  });

  it('never goes backwards, not even when the second stream starts', () => {
    let state = initialProgress();
    const seen: number[] = [];
    for (const next of [
      dl('v', 90, 100),
      dl('v', 100, 100, 'finished'),
      dl('a', 1, 100),
      dl('a', 100, 100, 'finished'),
    ]) {
      state = advance(state, next);
      seen.push(state.percent);
    }
    expect([...seen].sort((a, b) => a - b)).toEqual(seen);
  });

  it('moves to merging for post-processors other than MoveFiles, then to uploading by bytes', () => {
    let state = run([dl('v', 100, 100, 'finished')]);
    state = advance(state, line('VDLPOSTPROCESS {"status":"started","postprocessor":"MoveFiles"}'));
    expect(state.stage).toBe('downloading');
    state = advance(state, line('VDLPOSTPROCESS {"status":"started","postprocessor":"Merger"}'));
    expect(state).toMatchObject({ stage: 'merging', percent: 90 });
    state = advance(state, line('VDLDONE {"file":"/w/x.mp4","title":"X","duration":4.5,"ext":"mp4"}'));
    expect(state.done).toEqual({ file: '/w/x.mp4', title: 'X', duration: 4.5, ext: 'mp4' });
    const half = uploading(state, 50, 100, 10);
    expect(half).toMatchObject({
      stage: 'uploading',
      percent: 97.5,
      downloadedBytes: 50,
      totalBytes: 100,
      etaSeconds: 5,
    });
    expect(uploading(half, 100, 100).percent).toBe(100);
  });
});

describe('toStatusProgress', () => {
  it('rounds to what status holds', () => {
    const state = {
      ...initialProgress(),
      stage: 'downloading' as const,
      percent: 12.345,
      downloadedBytes: 1.6,
      speedBytesPerSecond: 99.7,
    };
    expect(toStatusProgress(state, new Date('2026-01-01T00:00:00.123Z'))).toEqual({
      stage: 'downloading',
      percent: 12.3,
      downloadedBytes: 2,
      totalBytes: undefined,
      speedBytesPerSecond: 100,
      etaSeconds: undefined,
      title: undefined,
      updatedAt: '2026-01-01T00:00:00Z',
    });
  });
});
