import { describe, expect, it } from 'vitest';
import {
  advance,
  initialProgress,
  maxTitleLength,
  type ProgressState,
  parseFfmpegProgress,
  parseLine,
  postprocessing,
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

  it("shortens a page's overlong title to what status holds, and keeps it printable", () => {
    const long = `A\u0007${'very long title '.repeat(94)}`;
    expect(long.length).toBeGreaterThan(1500);
    const planned = advance(
      initialProgress(),
      line(`VDLPLAN {"format":"18","size":1,"title":${JSON.stringify(long)}}`),
    );
    expect(planned.title).toHaveLength(maxTitleLength);
    expect(planned.title?.startsWith('A very long title')).toBe(true);
    const done = advance(
      planned,
      line(`VDLDONE {"file":"/w/x.mp4","title":${JSON.stringify(long)},"ext":"mp4"}`),
    );
    expect(done.done?.title).toHaveLength(maxTitleLength);
    expect(maxTitleLength).toBe(1024);
  });
});

// As ffmpeg 5 writes it with -progress: a block per period, the last one ending in progress=end.
const ffmpegBlock = (outUs: number, size: number, speed: string, marker = 'continue') =>
  `frame=10\nbitrate=  64.2kbits/s\ntotal_size=${size}\nout_time_us=${outUs}\nout_time_ms=${outUs}\nout_time=00:00:01.000000\ndup_frames=0\nspeed=${speed}\nprogress=${marker}\n`;

describe('parseFfmpegProgress', () => {
  it('reads the last complete block, ignoring one still being written', () => {
    const text = `${ffmpegBlock(1_000_000, 100, '2x')}${ffmpegBlock(5_000_000, 500, '4.5x')}frame=99\ntotal_si`;
    expect(parseFfmpegProgress(text)).toEqual({ outSeconds: 5, totalSize: 500, speed: 4.5, ended: false });
  });
  it('knows the end, and nothing from an empty or unfinished file', () => {
    expect(parseFfmpegProgress(ffmpegBlock(20_000_000, 9, '354x', 'end'))?.ended).toBe(true);
    expect(parseFfmpegProgress('')).toBeUndefined();
    expect(parseFfmpegProgress('frame=1\nout_time_us=5')).toBeUndefined();
  });
  it('treats N/A as unknown', () => {
    const text = 'total_size=N/A\nout_time_us=N/A\nspeed=N/A\nprogress=continue\n';
    expect(parseFfmpegProgress(text)).toEqual({ ended: false });
  });
});

describe('postprocessing', () => {
  const plan = line('VDLPLAN {"format":"v+a","size":200,"title":"T","duration":40}');
  const merging = advance(
    run([plan, dl('v', 100, 100, 'finished'), dl('a', 100, 100, 'finished')]),
    line('VDLPOSTPROCESS {"status":"started","postprocessor":"Merger"}'),
  );

  it("moves the bar through the merging share by ffmpeg's position in the media, with an ETA", () => {
    const quarter = postprocessing(merging, { outSeconds: 10, speed: 5, ended: false });
    expect(quarter).toMatchObject({ stage: 'merging', percent: 91.25, etaSeconds: 6 });
    const done = postprocessing(quarter, { outSeconds: 40, ended: true });
    expect(done.percent).toBe(95);
    // A stale figure (the next post-processor starting over) never moves it back.
    expect(postprocessing(done, { outSeconds: 1, ended: false }).percent).toBe(95);
  });

  it('falls back to bytes written over bytes downloaded for a merge of unknown duration', () => {
    const unknown = advance(
      run([
        line('VDLPLAN {"format":"v+a","size":200,"title":"T","duration":NA}'),
        dl('v', 100, 100, 'finished'),
        dl('a', 100, 100, 'finished'),
      ]),
      line('VDLPOSTPROCESS {"status":"started","postprocessor":"Merger"}'),
    );
    expect(postprocessing(unknown, { totalSize: 100, ended: false }).percent).toBe(92.5);
    const converting = { ...unknown, postprocessor: 'ExtractAudio' };
    expect(postprocessing(converting, { totalSize: 100, ended: false })).toBe(converting);
  });

  it('changes nothing outside the merging stage', () => {
    const downloading = run([plan, dl('v', 50, 100)]);
    expect(postprocessing(downloading, { outSeconds: 40, ended: true })).toBe(downloading);
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

describe('what the tail upload reads from the lines', () => {
  it("takes the file being written from a progress line and the downloader's protocol and extension from the plan", () => {
    const progressLine = line(
      'VDLPROGRESS {"status":"downloading","downloaded":10,"total":NA,"estimate":NA,"speed":NA,"eta":NA,"format":"18","tmpfile":"/w/out/a.mp4.part"}',
    );
    expect(progressLine).toMatchObject({ kind: 'download', tmpfile: '/w/out/a.mp4.part' });
    const planned = advance(
      initialProgress(),
      line('VDLPLAN {"format":"18","size":NA,"title":"T","duration":NA,"protocol":"https","ext":"mp4"}'),
    );
    expect(planned.plan).toMatchObject({ streams: ['18'], protocol: 'https', ext: 'mp4' });
  });
});
