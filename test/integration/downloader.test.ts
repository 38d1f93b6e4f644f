// The downloader program with real yt-dlp, ffmpeg, MinIO and API server,
// against a local media site. Its service account may only patch
// VideoDownload status, as in a cluster.

import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  chmodSync,
  existsSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import {
  permanentFailureExitCode,
  VideoDownloadSpec,
  type VideoDownloadSpecInput,
} from '../../crds/video-download.ts';
import { classifyFailure, stopsAtOnce } from '../../images/downloader/failure.ts';
import { postProcessingArgs } from '../../images/downloader/yt-dlp-args.ts';
import { uploadIdOf } from '../../operator/controllers/video-download/upload-plan.ts';
import { type DownloaderHarness, downloaderHarness, type RunOptions } from '../support/downloader-harness.ts';
import { eventually } from '../support/eventually.ts';
import { deleteNamespace, kubeConfigFrom, uniqueName } from '../support/kube.ts';
import { describedVideo, type MediaServer, memberCookie, startMediaServer } from '../support/media-server.ts';
import { type SlowLink, startSlowLink } from '../support/slow-link.ts';
import { incompleteUploads, minioClient, uploadedParts } from '../support/storage.ts';
import { createDownloadNamespace, Downloads, installCrd, watchDownloads } from '../support/vdl.ts';
import { toolPath } from '../toolchain/tools.ts';

const run = promisify(execFile);
const config = kubeConfigFrom(inject('adminKubeconfig'));
const endpoint = inject('minio');
const minio = minioClient(endpoint);

let namespace: string;
let downloads: Downloads;
let media: MediaServer;
let canary: Server;
let canaryConnections = 0;
let harness: DownloaderHarness;
const bucket = uniqueName('dl');
const progressSeen = new Map<string, Array<{ stage?: string; percent?: number; downloadedBytes?: number }>>();
let watcher: ReturnType<typeof watchDownloads>;

function sha256(data: Buffer): string {
  return createHash('sha256').update(data).digest('hex');
}

async function objectBytes(key: string): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of await minio.getObject(bucket, key)) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

async function ffprobe(data: Buffer, name: string) {
  const file = join(mkdtempSync(join(tmpdir(), 'vdl-probe-')), name);
  writeFileSync(file, data);
  const { stdout } = await run(toolPath('ffmpeg').replace(/ffmpeg$/, 'ffprobe'), [
    '-v',
    'error',
    '-show_streams',
    '-show_format',
    '-show_chapters',
    '-of',
    'json',
    file,
  ]);
  return JSON.parse(stdout) as {
    streams: Array<{
      codec_type: string;
      codec_name: string;
      disposition?: { attached_pic?: number };
      tags?: Record<string, string>;
    }>;
    format: { duration: string; format_name: string; tags?: Record<string, string> };
    chapters: Array<{ start_time: string; end_time: string; tags?: { title?: string } }>;
  };
}

async function processesMentioning(text: string): Promise<string[]> {
  const { stdout } = await run('ps', ['-eo', 'args']);
  return stdout.split('\n').filter((line) => line.includes(text) && !line.startsWith('ps '));
}

async function download(
  name: string,
  spec: VideoDownloadSpecInput,
  env: Record<string, string> = {},
  options: RunOptions = {},
) {
  return harness.run(name, spec, { VDL_MAX_FILE_SIZE: '50Mi', ...env }, options);
}

/** What is left under a prefix: objects and unfinished multipart uploads. */
async function leftUnder(prefix: string): Promise<{ objects: string[]; uploads: string[] }> {
  const objects: string[] = [];
  for await (const item of minio.listObjectsV2(bucket, prefix, true)) objects.push(item.name as string);
  return { objects, uploads: await incompleteUploads(minio, bucket, prefix) };
}

const MiB = 2 ** 20;

beforeAll(async () => {
  await installCrd(config);
  namespace = await createDownloadNamespace(config, 'downloader');
  downloads = new Downloads(config, namespace);
  canary = createServer((socket) => {
    canaryConnections += 1;
    socket.destroy();
  });
  await new Promise<void>((resolve) => canary.listen(0, '127.0.0.1', resolve));
  const canaryPort = (canary.address() as { port: number }).port;
  media = await startMediaServer({ forbiddenRedirect: `http://127.0.0.1:${canaryPort}/secret` });
  await minio.makeBucket(bucket);
  harness = await downloaderHarness({
    config,
    apiServerUrl: inject('apiServerUrl'),
    namespace,
    downloads,
    minio: endpoint,
    bucket,
    egressAllow: `127.0.0.1:${media.port}`,
  });

  watcher = watchDownloads(config, namespace, (d) => {
    const list = progressSeen.get(d.metadata.name as string) ?? [];
    const p = d.status?.progress;
    if (p && (list.length === 0 || list.at(-1)?.percent !== p.percent || list.at(-1)?.stage !== p.stage)) {
      list.push({ stage: p.stage, percent: p.percent, downloadedBytes: p.downloadedBytes });
    }
    progressSeen.set(d.metadata.name as string, list);
  });
  await watcher.waitForSync();
}, 180_000);

afterAll(async () => {
  watcher?.stop();
  await media?.close();
  canary?.close();
  await deleteNamespace(config, namespace);
});

describe('downloader', () => {
  it('downloads a progressive MP4, uploads the same bytes with its info JSON, and reports progress', async () => {
    const run = await download('progressive', { url: `${media.url}/progressive.mp4` });
    expect(run.exitCode, run.output).toBe(0);
    const result = run.message && 'result' in run.message ? run.message.result : undefined;
    expect(result).toMatchObject({ bucket, contentType: 'video/mp4', title: 'progressive' });
    expect(result?.filename).toMatch(/^progressive.*\.mp4$/);
    const source = readFileSync(media.file('progressive.mp4'));
    const stored = await objectBytes(result?.key as string);
    expect(sha256(stored)).toBe(sha256(source));
    expect(result?.sha256).toBe(sha256(source));
    expect(result?.size).toBe(source.length);
    expect(result?.key?.startsWith(`${namespace}/progressive/${run.download.metadata.uid}/`)).toBe(true);
    const info = JSON.parse((await objectBytes(result?.infoKey as string)).toString('utf8'));
    expect(info.webpage_url).toBe(`${media.url}/progressive.mp4`);
    expect(run.download.status?.progress).toMatchObject({
      stage: 'done',
      percent: 100,
      totalBytes: source.length,
    });
  });

  it('merges separate HLS video and audio streams into one file', async () => {
    const run = await download('hls', { url: `${media.url}/master.m3u8`, output: { container: 'mp4' } });
    expect(run.exitCode, run.output).toBe(0);
    const result = run.message && 'result' in run.message ? run.message.result : undefined;
    const probe = await ffprobe(await objectBytes(result?.key as string), 'merged.mp4');
    expect(probe.streams.map((s) => s.codec_type).sort()).toEqual(['audio', 'video']);
    expect(Number(probe.format.duration)).toBeCloseTo(4, 0);
    const stages = (progressSeen.get('hls') ?? []).map((p) => p.stage);
    expect(stages).toContain('merging');
    // ffmpeg's MP4 muxer seeks back in its output: nothing is sent before it is finished.
    expect(run.output).toMatch(/uploading once the file is finished: the file is remuxed into mp4/);
    expect(run.streamedParts).toBe(0);
  });

  it('extracts audio in the requested codec', async () => {
    const run = await download('audio', {
      url: `${media.url}/progressive.mp4`,
      audio: { extract: true, format: 'mp3' },
    });
    expect(run.exitCode, run.output).toBe(0);
    const result = run.message && 'result' in run.message ? run.message.result : undefined;
    expect(result?.contentType).toBe('audio/mpeg');
    const probe = await ffprobe(await objectBytes(result?.key as string), 'a.mp3');
    expect(probe.streams.map((s) => s.codec_name)).toEqual(['mp3']);
  });

  it('embeds subtitles found on a page', async () => {
    const run = await download('subs', {
      url: `${media.url}/page.html`,
      subtitles: { languages: ['en'], embed: true },
      output: { container: 'mkv' },
    });
    expect(run.exitCode, run.output).toBe(0);
    const result = run.message && 'result' in run.message ? run.message.result : undefined;
    const probe = await ffprobe(await objectBytes(result?.key as string), 's.mkv');
    expect(probe.streams.map((s) => s.codec_type)).toContain('subtitle');
  });

  it('reports monotonic progress on a slow download, at most about once a second', async () => {
    const started = Date.now();
    const run = await download('slow', { url: `${media.url}/throttled.mp4` });
    const seconds = (Date.now() - started) / 1000;
    expect(run.exitCode, run.output).toBe(0);
    const percents = (progressSeen.get('slow') ?? []).map((p) => p.percent ?? 0);
    expect(percents.length).toBeGreaterThanOrEqual(3);
    expect([...percents].sort((a, b) => a - b)).toEqual(percents);
    expect(percents.at(-1)).toBe(100);
    // An upper bound on writes, not a timing assertion: the downloader writes at
    // most once a second by its own clock, plus one per stage (starting,
    // downloading, uploading, done) and the final one, and `seconds` is the
    // wall time of its whole run as seen from outside, which load only lengthens.
    // So a busy machine loosens this bound; only writes faster than once a second break it.
    expect(run.statusWrites).toBeGreaterThan(2);
    expect(run.statusWrites).toBeLessThanOrEqual(Math.ceil(seconds) + 5);
  });

  it("shows ffmpeg's own progress while it merges, not a bar that stands still", async () => {
    // The real ffmpeg, reading its input no faster than real time (as on a
    // slow machine), so the 4 s merge takes seconds however fast this one is.
    const slow = mkdtempSync(join(tmpdir(), 'vdl-slow-ffmpeg-'));
    writeFileSync(
      join(slow, 'ffmpeg'),
      `#!/bin/sh\ncase " $* " in *" -i "*) exec '${toolPath('ffmpeg')}' -readrate 1 "$@";; esac\nexec '${toolPath('ffmpeg')}' "$@"\n`,
    );
    chmodSync(join(slow, 'ffmpeg'), 0o755);
    const run = await download(
      'slowmerge',
      { url: `${media.url}/master.m3u8`, output: { container: 'mp4' } },
      { PATH: `${slow}:${process.env.PATH}` },
    );
    expect(run.exitCode, run.output).toBe(0);
    const seen = progressSeen.get('slowmerge') ?? [];
    const merging = seen.filter((p) => p.stage === 'merging').map((p) => p.percent ?? 0);
    // Between the download's 90 and the merge's end at 95: figures from ffmpeg, rising.
    expect(merging.filter((p) => p > 90 && p < 95).length, JSON.stringify(seen)).toBeGreaterThanOrEqual(2);
    expect([...merging].sort((a, b) => a - b)).toEqual(merging);
  });

  it('sends cookies from a file to the site, and keeps them out of the stored record', async () => {
    const refused = await download('nocookies', { url: `${media.url}/members/video.mp4` });
    expect(refused.exitCode, refused.output).not.toBe(0);

    const secretDir = mkdtempSync(join(tmpdir(), 'vdl-cookies-'));
    const cookies = join(secretDir, 'cookies.txt');
    const netscape = `# Netscape HTTP Cookie File\n127.0.0.1\tFALSE\t/\tFALSE\t0\t${memberCookie.name}\t${memberCookie.value}\n`;
    writeFileSync(cookies, netscape);
    chmodSync(cookies, 0o400); // as a Secret is mounted: read-only
    const run = await download(
      'cookies',
      { url: `${media.url}/members/video.mp4` },
      { VDL_COOKIES_FILE: cookies },
    );
    expect(run.exitCode, run.output).toBe(0);
    const result = run.message && 'result' in run.message ? run.message.result : undefined;
    const stored = await objectBytes(result?.key as string);
    expect(sha256(stored)).toBe(sha256(readFileSync(media.file('progressive.mp4'))));
    const info = (await objectBytes(result?.infoKey as string)).toString('utf8');
    expect(JSON.parse(info).webpage_url).toBe(`${media.url}/members/video.mp4`);
    expect(info).not.toContain(memberCookie.value);
    expect(readFileSync(cookies, 'utf8')).toBe(netscape);
  });

  it('keeps to the rate limit', async () => {
    const size = statSync(media.file('progressive.mp4')).size;
    const bytesPerSecond = 32 * 1024;
    const run = await download(
      'ratelimited',
      { url: `${media.url}/progressive.mp4` },
      { VDL_RATE_LIMIT: '32Ki' },
    );
    expect(run.exitCode, run.output).toBe(0);
    // A lower bound only, which load cannot break (a busy machine only makes the
    // download slower): at 32 KiB/s it cannot finish in less than size / rate,
    // less 30 % for yt-dlp's first burst before its limiter settles.
    expect(run.downloadSeconds).toBeGreaterThan((size / bytesPerSecond) * 0.7);
  });

  it('retries server errors during the download and succeeds', async () => {
    const run = await download('flaky', { url: `${media.url}/flaky/video.mp4` });
    expect(run.exitCode, run.output).toBe(0);
  });

  it.each([
    ['a missing video', 'missing', { url: 'MEDIA/missing.mp4' }, {}, 'NotFound'],
    [
      'a file over the size limit',
      'toobig',
      { url: 'MEDIA/progressive.mp4' },
      { VDL_MAX_FILE_SIZE: '10Ki' },
      'FileTooLarge',
    ],
    ['a page without media', 'unsupported', { url: 'MEDIA/nothing.html' }, {}, 'UnsupportedURL'],
  ])('fails permanently on %s', async (_name, name, spec, env, reason) => {
    const run = await download(name, { url: spec.url.replace('MEDIA', media.url) }, env);
    expect(run.exitCode, run.output).toBe(permanentFailureExitCode);
    expect(run.message).toMatchObject({ error: { reason } });
  });

  it('stops a body without Content-Length at the disk bound, and fails it as too large', async () => {
    // The route sends 32 MiB chunked at about 2.5 MiB/s: yt-dlp's --max-filesize
    // cannot see its size, so only the work-dir guard (3 MiB here) stops it.
    const work = mkdtempSync(join(tmpdir(), 'vdl-guarded-'));
    const run = await download(
      'chunked',
      { url: `${media.url}/chunked/video.mp4` },
      { VDL_MAX_FILE_SIZE: '1Mi', VDL_WORK_DIR_LIMIT: '3Mi', VDL_WORK_DIR: work },
    );
    expect(run.exitCode, run.output).toBe(permanentFailureExitCode);
    expect(run.message).toMatchObject({ error: { reason: 'FileTooLarge' } });
    // What the guard measured when it stopped yt-dlp: the 3 MiB bound plus
    // what the route sends between two of its looks, 200 ms apart (0.5 MiB at
    // its pace). The margin allows the guard 3.5 s of lateness on a loaded
    // machine; without the guard the whole 32 MiB arrives.
    const reached = Number(/work dir reached (\d+) bytes/.exec(run.output)?.[1]);
    expect(reached).toBeGreaterThan(3 * 2 ** 20);
    expect(reached).toBeLessThan(12 * 2 ** 20);
    // The route never had to send the rest (less what socket buffers held), and the work dir was emptied.
    expect(media.sent('/chunked/video.mp4')).toBeLessThan(20 * 2 ** 20);
    expect(existsSync(join(work, 'out'))).toBe(false);
  });

  describe('post-processing', () => {
    const resultOf = (run: { message?: unknown }) => {
      const message = run.message as { result?: { key: string; filename?: string; contentType: string } };
      return message?.result;
    };
    /** A cover picture, as players find it: a stream marked attached_pic (MP4) or an image attachment (Matroska). */
    const covers = (probe: Awaited<ReturnType<typeof ffprobe>>) =>
      probe.streams.filter(
        (s) =>
          s.disposition?.attached_pic === 1 ||
          (s.codec_type === 'attachment' && /^image\//.test(s.tags?.mimetype ?? '')),
      );

    it("embeds the page's tags, thumbnail and chapters in the stored MP4", async () => {
      const run = await download('embedded', {
        url: `${media.url}/described/progressive.mp4.html`,
        embed: { metadata: true, thumbnail: true, chapters: true },
      });
      expect(run.exitCode, run.output).toBe(0);
      const probe = await ffprobe(await objectBytes(resultOf(run)?.key as string), 'e.mp4');
      expect(probe.format.tags).toMatchObject({
        title: describedVideo.title,
        artist: describedVideo.uploader,
      });
      expect(covers(probe), JSON.stringify(probe.streams)).toHaveLength(1);
      expect(probe.chapters.map((c) => c.tags?.title)).toEqual(describedVideo.chapters.map((c) => c.title));
      expect(probe.chapters.map((c) => Number(c.start_time))).toEqual(
        describedVideo.chapters.map((c) => c.start),
      );
      // ffmpeg writes a new file after the download: nothing was sent while it grew.
      expect(run.output).toMatch(/uploading once the file is finished: ffmpeg embeds tags/);
      expect(run.streamedParts).toBe(0);
    });

    it('embeds no tags, cover or chapters unless asked', async () => {
      const run = await download('plain-described', { url: `${media.url}/described/progressive.mp4.html` });
      expect(run.exitCode, run.output).toBe(0);
      const stored = await objectBytes(resultOf(run)?.key as string);
      expect(sha256(stored)).toBe(sha256(readFileSync(media.file('progressive.mp4'))));
      const probe = await ffprobe(stored, 'p.mp4');
      expect(covers(probe)).toHaveLength(0);
      expect(probe.chapters).toHaveLength(0);
    });

    it("remuxes a site's WebM into Matroska to hold the cover, rather than failing", async () => {
      const run = await download('webm-cover', {
        url: `${media.url}/described/progressive.webm.html`,
        embed: { thumbnail: true },
      });
      expect(run.exitCode, run.output).toBe(0);
      const result = resultOf(run);
      expect(result?.filename).toMatch(/\.mkv$/);
      expect(result?.contentType).toBe('video/x-matroska');
      const probe = await ffprobe(await objectBytes(result?.key as string), 'c.mkv');
      expect(probe.format.format_name).toMatch(/matroska/);
      expect(probe.streams.map((s) => s.codec_name)).toEqual(expect.arrayContaining(['vp9', 'opus']));
      expect(covers(probe), JSON.stringify(probe.streams)).toHaveLength(1);
    });

    it('downloads a clip: only the time range asked for', async () => {
      const run = await download('clip', {
        url: `${media.url}/progressive.mp4`,
        clip: { startSeconds: 1, endSeconds: 2.5, exactCuts: true },
      });
      expect(run.exitCode, run.output).toBe(0);
      const stored = await objectBytes(resultOf(run)?.key as string);
      const probe = await ffprobe(stored, 'clip.mp4');
      // The source is 4 s; the range asked for is 1.5 s (re-encoded around the cuts, as exactCuts asks).
      expect(Number(probe.format.duration)).toBeGreaterThan(1.3);
      expect(Number(probe.format.duration)).toBeLessThan(1.8);
      expect(probe.streams.map((s) => s.codec_type).sort()).toEqual(['audio', 'video']);
      expect(run.output).toMatch(/uploading once the file is finished: the clip is cut/);
    });

    it('passes SponsorBlock to yt-dlp, which stores the file unchanged from a site it does not know', async () => {
      const run = await download('sponsorblock', {
        url: `${media.url}/progressive.mp4`,
        sponsorBlock: { remove: ['sponsor'] },
      });
      expect(run.exitCode, run.output).toBe(0);
      // From yt-dlp's own words: the option reached it, and SponsorBlock knows YouTube videos only.
      expect(run.output).toMatch(
        /asked for, but skipped: sponsorBlock: SponsorBlock knows YouTube videos only, not Generic's/,
      );
      const stored = await objectBytes(resultOf(run)?.key as string);
      expect(Number((await ffprobe(stored, 'sb.mp4')).format.duration)).toBeCloseTo(4, 0);
    });

    it('fails with reason SponsorBlockUnavailable, before fetching the video, when its service cannot be reached', async () => {
      // SponsorBlock asks its service only for YouTube videos, which this machine cannot reach:
      // the real yt-dlp is given our arguments and a YouTube video's info (its format on the local
      // site), with the service's address a port that refuses, and its output is classified.
      const spec = VideoDownloadSpec.parse({
        url: 'https://www.youtube.com/watch?v=dQw4w9WgXcQ',
        sponsorBlock: { remove: ['sponsor'], mark: ['intro'] },
      });
      const work = mkdtempSync(join(tmpdir(), 'vdl-sponsorblock-'));
      const info = join(work, 'video.info.json');
      writeFileSync(
        info,
        JSON.stringify({
          id: 'dQw4w9WgXcQ',
          title: 'A YouTube video',
          extractor: 'youtube',
          extractor_key: 'Youtube',
          webpage_url: spec.url,
          duration: 4,
          formats: [{ format_id: '18', url: `${media.url}/progressive.mp4`, ext: 'mp4', protocol: 'http' }],
        }),
      );
      const refusing = createServer((socket) => socket.destroy());
      await new Promise<void>((resolve) => refusing.listen(0, '127.0.0.1', resolve));
      const api = `http://127.0.0.1:${(refusing.address() as { port: number }).port}`;
      // Both streams as one, in the order yt-dlp wrote them (it flushes each line), as the downloader reads them.
      const ytDlp = await execa(
        toolPath('yt-dlp'),
        [
          '--ignore-config',
          '--newline',
          ...postProcessingArgs(spec),
          '--sponsorblock-api',
          api,
          '--paths',
          work,
          '--load-info-json',
          info,
        ],
        { all: true, reject: false, cwd: work },
      );
      const output = { exitCode: ytDlp.exitCode, text: ytDlp.all };
      refusing.close();
      expect(output.exitCode, output.text).toBe(1);
      const failure = classifyFailure(output.text, []);
      expect(failure).toMatchObject({ reason: 'SponsorBlockUnavailable', permanent: false });
      expect(failure.message).toMatch(/^Preprocessing: Unable to communicate with SponsorBlock API/);
      // The downloader stops yt-dlp at that line, which comes before the video's first request.
      const lines = output.text.split('\n');
      const stopAt = lines.findIndex(stopsAtOnce);
      expect(stopAt, output.text).toBeGreaterThanOrEqual(0);
      expect(lines.findIndex((line) => line.startsWith('[download] Destination'))).toBeGreaterThan(stopAt);
    });
  });

  describe('onto a volume', () => {
    const volumeSpec = (extra: Record<string, unknown> = {}) => ({
      url: `${media.url}/described/progressive.mp4.html`,
      embed: { metadata: true, thumbnail: true },
      storage: {
        volume: {
          claimName: 'media',
          path: '{uploader}/{upload_year}/{title}.{ext}',
          fileMode: 0o640,
          ...extra,
        },
      },
    });
    const resultOf = (run: { message?: unknown }) =>
      (
        run.message as {
          result?: {
            volume?: { claimName: string; path: string; preexisting?: boolean };
            sha256: string;
            size: number;
            key?: string;
          };
        }
      )?.result;

    it('writes the file at its templated path with its mode, tags and cover inside, and stores no object', async () => {
      const root = mkdtempSync(join(tmpdir(), 'vdl-volume-'));
      const run = await download('on-volume', volumeSpec(), { VDL_VOLUME_DIR: root });
      expect(run.exitCode, run.output).toBe(0);
      const result = resultOf(run);
      expect(result?.volume).toEqual({
        claimName: 'media',
        path: 'Test Uploader/2026/A described video.mp4',
        createdFolders: 2,
      });
      expect(result?.key).toBeUndefined();
      const file = join(root, 'Test Uploader/2026/A described video.mp4');
      const bytes = readFileSync(file);
      expect(sha256(bytes)).toBe(result?.sha256);
      expect(bytes.length).toBe(result?.size);
      expect(statSync(file).mode & 0o777).toBe(0o640);
      expect(statSync(join(root, 'Test Uploader')).mode & 0o777).toBe(0o750);
      // Only the file: no hidden copy left beside it or at the root.
      expect(readdirSync(join(root, 'Test Uploader/2026'))).toEqual(['A described video.mp4']);
      expect(readdirSync(root)).toEqual(['Test Uploader']);
      const probe = await ffprobe(bytes, 'v.mp4');
      expect(probe.format.tags).toMatchObject({
        title: describedVideo.title,
        artist: describedVideo.uploader,
      });
      expect(probe.streams.filter((s) => s.disposition?.attached_pic === 1)).toHaveLength(1);
      // The status the pod reported carries the same result, for the operator.
      expect(run.download.status?.progress?.result?.volume?.path).toBe(result?.volume?.path);
      expect((await leftUnder(`${namespace}/on-volume/`)).objects).toEqual([]);
    });

    it('never overwrites a file: the same bytes count as written, other bytes fail for good with FileExists', async () => {
      const root = mkdtempSync(join(tmpdir(), 'vdl-volume-'));
      const first = await download('volume-first', volumeSpec(), { VDL_VOLUME_DIR: root });
      expect(first.exitCode, first.output).toBe(0);
      const again = await download('volume-again', volumeSpec(), { VDL_VOLUME_DIR: root });
      expect(again.exitCode, again.output).toBe(0);
      expect(resultOf(again)?.volume?.preexisting).toBe(true);
      expect(resultOf(again)?.sha256).toBe(resultOf(first)?.sha256);
      // Another file at the same path: without embedded tags the bytes differ.
      const other = await download('volume-other', { ...volumeSpec(), embed: {} }, { VDL_VOLUME_DIR: root });
      expect(other.exitCode, other.output).toBe(permanentFailureExitCode);
      expect(other.message).toMatchObject({ error: { reason: 'FileExists' } });
      const file = join(root, 'Test Uploader/2026/A described video.mp4');
      expect(sha256(readFileSync(file))).toBe(resultOf(first)?.sha256);
      expect(readdirSync(join(root, 'Test Uploader/2026'))).toEqual(['A described video.mp4']);
    });
  });

  it('downloads only the first entry of a playlist', async () => {
    const run = await download('playlist', { url: `${media.url}/two-videos.html` });
    expect(run.exitCode, run.output).toBe(0);
    const result = run.message && 'result' in run.message ? run.message.result : undefined;
    expect(result?.sha256).toBe(sha256(readFileSync(media.file('progressive.mp4'))));
    expect(media.requests('/first.mp4')).toBeGreaterThan(0);
    expect(media.requests('/second.mp4')).toBe(0);
  });

  it('refuses a live stream unless the spec asks for one, and says how to ask', async () => {
    const segments = () => [0, 1, 2, 3].reduce((sum, i) => sum + media.requests(`/v00${i}.ts`), 0);
    const before = segments();
    const run = await download('live', { url: `${media.url}/live.m3u8` });
    expect(run.exitCode, run.output).toBe(permanentFailureExitCode);
    expect(run.message).toMatchObject({
      error: { reason: 'LiveStream', message: expect.stringMatching(/spec\.live/) },
    });
    expect(segments()).toBe(before);
  });

  it('records a live stream when asked, and stops it with its ffmpeg at the disk bound', async () => {
    const work = mkdtempSync(join(tmpdir(), 'vdl-live-'));
    const run = await download(
      'recorded',
      { url: `${media.url}/live.m3u8`, live: true },
      { VDL_MAX_FILE_SIZE: '256Ki', VDL_WORK_DIR_LIMIT: '1Mi', VDL_WORK_DIR: work },
    );
    expect(run.exitCode, run.output).toBe(permanentFailureExitCode);
    expect(run.message).toMatchObject({ error: { reason: 'FileTooLarge' } });
    expect(existsSync(join(work, 'out'))).toBe(false);
    // yt-dlp records live HLS with ffmpeg: stopped with it, nothing writes there any more.
    expect(await processesMentioning(work)).toEqual([]);
  });

  it('refuses a redirect to an internal address; nothing reaches it', async () => {
    const before = canaryConnections;
    const run = await download('ssrf', { url: `${media.url}/redirect-internal.mp4` });
    expect(run.exitCode, run.output).toBe(permanentFailureExitCode);
    expect(run.message).toMatchObject({ error: { reason: 'ForbiddenAddress' } });
    expect(canaryConnections).toBe(before);
  });

  it('refuses the metadata address and private ranges outright', async () => {
    for (const [name, url] of [
      ['meta', 'http://169.254.169.254/latest/meta-data/'],
      ['private', 'http://10.0.0.1/v.mp4'],
    ]) {
      const run = await download(name as string, { url: url as string });
      expect(run.exitCode, run.output).toBe(permanentFailureExitCode);
      expect(run.message).toMatchObject({ error: { reason: 'ForbiddenAddress' } });
    }
  });

  it('fails transiently and leaves no object when storage is unreachable', async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as { port: number }).port;
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    const unreachable = (url: string) => {
      const moved = new URL(url);
      moved.port = String(port);
      return moved.href;
    };
    const run = await download(
      'nostore',
      { url: `${media.url}/progressive.mp4` },
      { VDL_UPLOAD_RETRIES: '0' },
      {
        alterPlan: (plan) => ({
          ...plan,
          file: {
            ...plan.file,
            parts: plan.file.parts.map(unreachable),
            complete: unreachable(plan.file.complete),
          },
        }),
      },
    );
    expect(run.exitCode, run.output).toBe(1);
    expect(run.message).toMatchObject({ error: { reason: 'UploadFailed' } });
    expect((await leftUnder(`${namespace}/nostore/`)).objects).toEqual([]);
  });

  it('uploads a file larger than a part in several parts, with the same bytes', async () => {
    const source = readFileSync(media.file('noisy.mp4'));
    const parts = Math.ceil(source.length / (5 * MiB));
    expect(parts).toBeGreaterThan(1);
    const run = await download(
      'multipart',
      { url: `${media.url}/noisy.mp4` },
      {},
      { minimumPartSize: 5 * MiB },
    );
    expect(run.exitCode, run.output).toBe(0);
    const result = run.message && 'result' in run.message ? run.message.result : undefined;
    expect(result?.sha256).toBe(sha256(source));
    expect(result?.filename).toMatch(/^noisy.*\.mp4$/);
    expect(sha256(await objectBytes(result?.key as string))).toBe(sha256(source));
    // S3 gives a multipart object the ETag "md5-of-the-parts' md5s-N": N parts went separately.
    const stat = await minio.statObject(bucket, result?.key as string);
    expect(stat.etag).toMatch(new RegExp(`-${parts}$`));
    expect(await leftUnder(`${namespace}/multipart/`)).toMatchObject({ uploads: [] });
  });

  describe('upload while downloading', () => {
    // noisy.mp4 (about 13 MB) at about 4 MB/s: 3 s of download in 5 MiB parts, two of them
    // whole before its end.
    const paced = (path: string) => `${media.url}${path}?rate=${4 * 10 ** 6}`;

    it('sends the parts of a progressive file while yt-dlp writes it; the stored object is the file', async () => {
      const source = readFileSync(media.file('noisy.mp4'));
      const run = await download('tail', { url: paced('/noisy.mp4') }, {}, { minimumPartSize: 5 * MiB });
      expect(run.exitCode, run.output).toBe(0);
      expect(run.streamedParts).toBeGreaterThanOrEqual(1);
      expect(run.output).not.toMatch(/sending the whole file again/);
      const result = run.message && 'result' in run.message ? run.message.result : undefined;
      expect(result?.sha256).toBe(sha256(source));
      expect(result?.size).toBe(source.length);
      expect(sha256(await objectBytes(result?.key as string))).toBe(sha256(source));
      const stat = await minio.statObject(bucket, result?.key as string);
      expect(stat.etag).toMatch(new RegExp(`-${Math.ceil(source.length / (5 * MiB))}$`));
      expect(await leftUnder(`${namespace}/tail/`)).toMatchObject({ uploads: [] });
    });

    it('sends the whole file again when the source restarts it part-way with other bytes', async () => {
      // The route cuts the body after 11 MiB (two parts sent) and answers the retry with the
      // file's bytes reversed: the parts sent are not the finished file's.
      const original = readFileSync(media.file('noisy.mp4'));
      const finished = Buffer.from(original).reverse();
      const run = await download(
        'tail-restart',
        { url: `${media.url}/restarted/noisy.mp4` },
        {},
        { minimumPartSize: 5 * MiB },
      );
      expect(run.exitCode, run.output).toBe(0);
      expect(media.requests('/restarted/noisy.mp4')).toBeGreaterThanOrEqual(3);
      expect(run.streamedParts).toBeGreaterThanOrEqual(1);
      expect(run.output).toMatch(/sending the whole file again/);
      const result = run.message && 'result' in run.message ? run.message.result : undefined;
      expect(result?.sha256).toBe(sha256(finished));
      expect(sha256(await objectBytes(result?.key as string))).toBe(sha256(finished));
      expect(await leftUnder(`${namespace}/tail-restart/`)).toMatchObject({ uploads: [] });
    });

    it('leaves no multipart upload and no object when the download fails for good part-way', async () => {
      // 32 MiB without Content-Length at about 2.5 MiB/s: two 5 MiB parts are sent before the
      // work-dir guard stops it at its 12 MiB bound.
      const run = await download(
        'tail-too-large',
        { url: `${media.url}/chunked/tail.mp4` },
        { VDL_MAX_FILE_SIZE: '12Mi', VDL_WORK_DIR_LIMIT: '14Mi' },
        { minimumPartSize: 5 * MiB },
      );
      expect(run.exitCode, run.output).toBe(permanentFailureExitCode);
      expect(run.message).toMatchObject({ error: { reason: 'FileTooLarge' } });
      expect(
        Number(/after (\d+) parts? sent while downloading/.exec(run.output)?.[1]),
      ).toBeGreaterThanOrEqual(1);
      expect(await leftUnder(`${namespace}/tail-too-large/`)).toEqual({ objects: [], uploads: [] });
    });

    it('stopped part-way, stores nothing and leaves the parts sent to a replacement pod', async () => {
      const started = await harness.start(
        'tail-stop',
        { url: `${media.url}/noisy.mp4?rate=${2 * 10 ** 6}` },
        // 50 MiB at most: parts of 5 MiB (the plan's part size grows with the size limit).
        { VDL_MAX_FILE_SIZE: '50Mi' },
        { minimumPartSize: 5 * MiB },
      );
      const partsStored = () =>
        uploadedParts(minio, bucket, started.plan.file.key, uploadIdOf(started.plan.file.abort));
      await eventually(
        'a part stored while downloading',
        async () => (await partsStored()).length > 0 || undefined,
        {
          timeoutMs: 60_000,
          intervalMs: 100,
        },
      );
      expect((progressSeen.get('tail-stop') ?? []).map((p) => p.stage)).not.toContain('uploading');
      started.process.kill('SIGTERM');
      const run = await started.finished;
      expect(run.exitCode, run.output).toBe(143);
      // A stop may be an eviction: the Job's next pod uses the same uploads (the operator aborts
      // them once the download ends; the end-to-end cancel test shows nothing is left then).
      expect(await leftUnder(started.prefix)).toEqual({
        objects: [],
        uploads: [started.plan.file.key, started.plan.info.key].sort(),
      });
      const parts = await partsStored();
      expect(parts.length).toBeGreaterThanOrEqual(1);
      expect(parts[0]?.size).toBe(5 * MiB);
    });
  });

  it('stops on SIGTERM mid-download: yt-dlp and its children killed, nothing stored', async () => {
    const url = `${media.url}/throttled-sigterm-download.mp4`;
    const started = await harness.start('sigterm-dl', { url }, { VDL_MAX_FILE_SIZE: '50Mi' });
    const ytDlpProcesses = () =>
      readdirSync('/proc')
        .filter((entry) => /^[0-9]+$/.test(entry))
        .filter((pid) => {
          try {
            return readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes(url);
          } catch {
            return false;
          }
        });
    await eventually(
      'yt-dlp downloading',
      () =>
        (progressSeen.get('sigterm-dl') ?? []).some((p) => p.stage === 'downloading') ? true : undefined,
      { timeoutMs: 60_000, intervalMs: 50 },
    );
    expect(ytDlpProcesses().length).toBeGreaterThan(0);
    started.process.kill('SIGTERM');
    const run = await started.finished;
    expect(run.exitCode, run.output).toBe(143);
    expect(run.message).toBeUndefined();
    // Killed with its process group, not left behind to finish the download.
    await eventually('no yt-dlp left', () => (ytDlpProcesses().length === 0 ? true : undefined));
    expect((await leftUnder(started.prefix)).objects).toEqual([]);
  });

  describe('over a slow link to storage', () => {
    let link: SlowLink;
    beforeAll(async () => {
      link = await startSlowLink({ host: endpoint.endPoint, port: endpoint.port });
    });
    afterAll(async () => {
      await link?.close();
    });

    it.each([
      ['sent as it was written', 'sigterm', {}],
      // Remuxed: uploaded from start to end once ffmpeg finished it.
      ['finished first', 'sigterm-remuxed', { output: { container: 'mkv' as const } }],
    ])(
      "stopped mid-upload of a file %s, stores nothing and writes no result; the Job's next pod completes the same upload",
      async (_how, name, spec) => {
        const source = readFileSync(media.file('noisy.mp4'));
        link.throttle(undefined);
        const started = await harness.start(
          name,
          { url: `${media.url}/noisy.mp4`, ...spec },
          { VDL_MAX_FILE_SIZE: '50Mi' },
          { storageUrl: link.url, minimumPartSize: 5 * MiB },
        );
        // About 50 s for the whole file: the stop comes long before it is sent.
        link.throttle(256 * 1024);
        const before = link.upstreamBytes;
        await eventually(
          'the download uploading',
          () => ((progressSeen.get(name) ?? []).some((p) => p.stage === 'uploading') ? true : undefined),
          { timeoutMs: 60_000, intervalMs: 50 },
        );
        started.process.kill('SIGTERM');
        const run = await started.finished;
        link.throttle(undefined);
        expect(run.exitCode, run.output).toBe(143);
        expect(run.message).toBeUndefined();
        expect(link.upstreamBytes - before).toBeLessThan(source.length);
        expect(run.download.status?.progress?.stage).toBe('uploading');
        // Both uploads stay open for the next pod (the operator aborts them if the download ends instead).
        expect(await leftUnder(started.prefix)).toEqual({
          objects: [],
          uploads: [started.plan.file.key, started.plan.info.key].sort(),
        });
        const next = await started.replacement().finished;
        expect(next.exitCode, next.output).toBe(0);
        const result = next.message && 'result' in next.message ? next.message.result : undefined;
        const stored = await objectBytes(result?.key as string);
        expect(result?.sha256).toBe(sha256(stored));
        expect(stored.length).toBe(result?.size);
        if (!('output' in spec)) expect(sha256(stored)).toBe(sha256(source));
        const left = await leftUnder(started.prefix);
        expect(left.uploads).toEqual([]);
        expect(left.objects.sort()).toEqual([result?.key, result?.infoKey].sort());
      },
    );
  });
});
