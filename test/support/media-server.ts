// A media site on loopback for downloader tests: media generated with
// ffmpeg at test time, and routes that misbehave in the ways real sites do.
import { execFile } from 'node:child_process';
import { createReadStream } from 'node:fs';
import { mkdtemp, readFile, stat, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { extname, join } from 'node:path';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { promisify } from 'node:util';
import { toolPath } from '../toolchain/tools.ts';

const run = promisify(execFile);

export interface MediaServer {
  url: string;
  port: number;
  dir: string;
  /** Path of a generated file, to compare bytes with. */
  file(name: string): string;
  /** How many requests a path has had. */
  requests(path: string): number;
  /** Body bytes written for a path (over all its requests) before they ended or the client left. */
  sent(path: string): number;
  /**
   * When a file route first and last wrote body bytes for a path with its query (performance.now(),
   * this process's clock), over all its requests: where a download's transfer began and ended.
   */
  transfer(path: string): { firstByteAt: number; lastByteAt: number; bytes: number } | undefined;
  close(): Promise<void>;
}

async function ffmpeg(args: string[], cwd: string): Promise<void> {
  await run(toolPath('ffmpeg'), ['-hide_banner', '-loglevel', 'error', '-y', ...args], { cwd });
}

/** Generates the fixtures: about 2 s of work on 2 cores. */
async function generate(dir: string, seconds: number): Promise<void> {
  const video = ['-f', 'lavfi', '-i', `testsrc=duration=${seconds}:size=320x240:rate=25`];
  const audio = ['-f', 'lavfi', '-i', `sine=frequency=440:duration=${seconds}`];
  await Promise.all([
    ffmpeg(
      [
        ...video,
        ...audio,
        '-c:v',
        'libx264',
        '-preset',
        'ultrafast',
        '-c:a',
        'aac',
        '-shortest',
        '-movflags',
        '+faststart',
        'progressive.mp4',
      ],
      dir,
    ),
    // A larger file for the throttled route, so progress is seen rising over seconds.
    ffmpeg(
      [
        '-f',
        'lavfi',
        '-i',
        `testsrc=duration=${seconds}:size=640x480:rate=25`,
        '-c:v',
        'libx264',
        '-preset',
        'ultrafast',
        '-qp',
        '10',
        'large.mp4',
      ],
      dir,
    ),
    // Noise does not compress: about 13 MB, more than two parts of 5 MiB, for multipart uploads.
    ffmpeg(
      [
        '-f',
        'lavfi',
        '-i',
        'testsrc=duration=1:size=640x480:rate=25',
        '-vf',
        'noise=alls=20:allf=t',
        '-c:v',
        'libx264',
        '-preset',
        'ultrafast',
        '-qp',
        '10',
        'noisy.mp4',
      ],
      dir,
    ),
    // A WebM (VP9 and Opus), a container that cannot hold a cover picture.
    ffmpeg(
      [
        ...video,
        ...audio,
        '-c:v',
        'libvpx-vp9',
        '-deadline',
        'realtime',
        '-cpu-used',
        '8',
        '-c:a',
        'libopus',
        '-shortest',
        'progressive.webm',
      ],
      dir,
    ),
    // The thumbnail the described pages name.
    ffmpeg(['-f', 'lavfi', '-i', 'testsrc=size=320x180', '-frames:v', '1', 'thumb.jpg'], dir),
    // Separate video and audio renditions behind one HLS master playlist.
    ffmpeg(
      [
        ...video,
        '-c:v',
        'libx264',
        '-preset',
        'ultrafast',
        '-an',
        '-f',
        'hls',
        '-hls_time',
        '1',
        '-hls_playlist_type',
        'vod',
        '-hls_segment_filename',
        'v%03d.ts',
        'video.m3u8',
      ],
      dir,
    ),
    ffmpeg(
      [
        ...audio,
        '-c:a',
        'aac',
        '-vn',
        '-f',
        'hls',
        '-hls_time',
        '1',
        '-hls_playlist_type',
        'vod',
        '-hls_segment_filename',
        'a%03d.ts',
        'audio.m3u8',
      ],
      dir,
    ),
  ]);
  await writeFile(
    join(dir, 'master.m3u8'),
    [
      '#EXTM3U',
      '#EXT-X-MEDIA:TYPE=AUDIO,GROUP-ID="aud",NAME="English",LANGUAGE="en",DEFAULT=YES,AUTOSELECT=YES,URI="audio.m3u8"',
      '#EXT-X-STREAM-INF:BANDWIDTH=400000,RESOLUTION=320x240,CODECS="avc1.42c00d,mp4a.40.2",AUDIO="aud"',
      'video.m3u8',
      '',
    ].join('\n'),
  );
  await writeFile(
    join(dir, 'nothing.html'),
    '<!doctype html><html><head><title>No media here</title></head><body><p>Just text.</p></body></html>',
  );
  await writeFile(
    join(dir, 'subs.en.vtt'),
    'WEBVTT\n\n00:00:00.000 --> 00:00:01.500\nHello from vdl\n\n00:00:01.500 --> 00:00:03.000\nSecond line\n',
  );
  // Two videos on one page: yt-dlp's generic extractor makes it a playlist of two entries.
  await writeFile(
    join(dir, 'two-videos.html'),
    '<!doctype html><html><head><title>Two videos</title></head><body><video src="/first.mp4"></video><video src="/second.mp4"></video></body></html>',
  );
  // A title far beyond what status holds (1024), with a dot early, as a page may send.
  await writeFile(
    join(dir, 'long-title.html'),
    `<!doctype html><html><head><title>${longPageTitle}</title></head><body><video controls src="/progressive.mp4"></video></body></html>`,
  );
  await writeFile(
    join(dir, 'page.html'),
    '<!doctype html><html><head><title>A test page</title></head><body><video controls src="/progressive.mp4"><track kind="subtitles" src="/subs.en.vtt" srclang="en" label="English"></video></body></html>',
  );
}

/** What /described/ pages say of their video, as a site's schema.org VideoObject would. */
export const describedVideo = {
  title: 'A described video',
  uploader: 'Test Uploader',
  description: 'A video with a thumbnail and chapters',
  chapters: [
    { title: 'Opening', start: 0, end: 1.5 },
    { title: 'Middle', start: 1.5, end: 3 },
    { title: 'End', start: 3, end: 4 },
  ],
};

/** A page whose JSON-LD (absolute URLs on this server) describes a file with a thumbnail and chapters. */
function describedPage(origin: string, file: string): string {
  const video = {
    '@context': 'https://schema.org',
    '@type': 'VideoObject',
    name: describedVideo.title,
    description: describedVideo.description,
    uploadDate: '2026-11-30',
    author: { '@type': 'Person', name: describedVideo.uploader },
    thumbnailUrl: `${origin}/thumb.jpg`,
    contentUrl: `${origin}/${file}`,
    duration: 'PT4S',
    hasPart: describedVideo.chapters.map((c) => ({
      '@type': 'Clip',
      name: c.title,
      startOffset: c.start,
      endOffset: c.end,
    })),
  };
  return `<!doctype html><html><head><title>${describedVideo.title}</title><script type="application/ld+json">${JSON.stringify(video)}</script></head><body></body></html>`;
}

const types: Record<string, string> = {
  '.mp4': 'video/mp4',
  '.webm': 'video/webm',
  '.jpg': 'image/jpeg',
  '.m3u8': 'application/vnd.apple.mpegurl',
  '.ts': 'video/mp2t',
  '.vtt': 'text/vtt',
  '.html': 'text/html; charset=utf-8',
};

/** The title of /long-title.html: 1,515 characters. */
export const longPageTitle = `Episode 1. ${'very long title '.repeat(94)}`.trim();

/** The cookie /members/ routes require, as a site behind a login would. */
export const memberCookie = { name: 'vdl_session', value: 'members-only-7f3a' };

export async function startMediaServer({
  seconds = 4,
  forbiddenRedirect,
  host = '127.0.0.1',
  port = 0,
}: {
  seconds?: number;
  forbiddenRedirect: string;
  /** Where to listen: loopback, or the host's end of a real node's link so its pods reach it. */
  host?: string;
  /** 0 picks a free one. */
  port?: number;
}): Promise<MediaServer> {
  const dir = await mkdtemp(join(tmpdir(), 'vdl-media-'));
  await generate(dir, seconds);
  const requestCounts = new Map<string, number>();
  const allRequests = new Map<string, number>();
  const sentBytes = new Map<string, number>();
  let liveSequence = 0;
  const server: Server = createServer(async (req, res) => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const path = url.pathname;
    allRequests.set(path, (allRequests.get(path) ?? 0) + 1);
    if (path === '/first.mp4' || path === '/second.mp4')
      return serveFile(join(dir, 'progressive.mp4'), res, req.headers.range);
    if (path.startsWith('/chunked/')) {
      // A body without Content-Length (chunked), 32 MiB, far larger than any
      // test's limit, at about 2.5 MiB/s: --max-filesize cannot see its size in advance.
      res.writeHead(200, { 'content-type': 'video/mp4' });
      const chunk = Buffer.alloc(128 * 1024, 0x47);
      let gone = false;
      res.on('close', () => {
        gone = true;
      });
      for (let sent = 0; sent < 32 * 2 ** 20 && !gone; sent += chunk.length) {
        if (!res.write(chunk)) await new Promise((r) => res.once('drain', r).once('close', r));
        sentBytes.set(path, (sentBytes.get(path) ?? 0) + chunk.length);
        await new Promise((r) => setTimeout(r, 50));
      }
      return void res.end();
    }
    if (path === '/live.m3u8') {
      // A live HLS playlist without an end: each request moves the window on by
      // six one-second segments (the VOD's four, over and over).
      liveSequence += 6;
      const segments = [0, 1, 2, 3, 4, 5].map(
        (i) => `#EXT-X-DISCONTINUITY\n#EXTINF:1.0,\nv00${(liveSequence + i) % 4}.ts`,
      );
      res.writeHead(200, { 'content-type': types['.m3u8'] as string });
      return void res.end(
        [
          '#EXTM3U',
          '#EXT-X-VERSION:3',
          '#EXT-X-TARGETDURATION:1',
          `#EXT-X-MEDIA-SEQUENCE:${liveSequence}`,
          `#EXT-X-DISCONTINUITY-SEQUENCE:${liveSequence}`,
          ...segments,
          '',
        ].join('\n'),
      );
    }
    if (path === '/missing.mp4') return void res.writeHead(404).end('not found');
    if (path.startsWith('/described/')) {
      // /described/<file>.html: a page describing /<file>, with thumbnail and chapters.
      const file = path
        .slice('/described/'.length)
        .replace(/\.html$/, '')
        .replace(/[^A-Za-z0-9._-]/g, '');
      res.writeHead(200, { 'content-type': types['.html'] as string });
      return void res.end(describedPage(`http://${req.headers.host}`, file));
    }
    if (path.startsWith('/members/')) {
      const cookies = (req.headers.cookie ?? '').split(/;\s*/);
      if (!cookies.includes(`${memberCookie.name}=${memberCookie.value}`))
        return void res.writeHead(403).end('log in first');
      return serveFile(join(dir, 'progressive.mp4'), res, req.headers.range);
    }
    if (path === '/redirect-internal.mp4')
      return void res.writeHead(302, { location: forbiddenRedirect }).end();
    // Routes that fail with 500 on given requests (counted per distinct path), then serve the file:
    // /flaky/: the first request (yt-dlp's look at the URL) is served, the next two fail;
    // /fail-once/: the first fails, so the download fails once and works on a retry.
    const failingOn = path.startsWith('/flaky/') ? [2, 3] : path.startsWith('/fail-once/') ? [1] : undefined;
    if (failingOn) {
      const count = (requestCounts.get(path) ?? 0) + 1;
      requestCounts.set(path, count);
      if (failingOn.includes(count)) return void res.writeHead(500).end('try again');
      return serveFile(join(dir, 'progressive.mp4'), res, req.headers.range);
    }
    if (path.startsWith('/restarted/')) {
      // A source that changes under a download: the download's body (the second request; the
      // first is yt-dlp's look at the URL) is cut after 11 MiB, and the retry's range is ignored
      // for a 200 with other bytes of the same length, so yt-dlp starts the file over in place.
      const count = (requestCounts.get(path) ?? 0) + 1;
      requestCounts.set(path, count);
      const original = await readFile(join(dir, 'noisy.mp4'));
      const data = count >= 3 ? Buffer.from(original).reverse() : original;
      res.writeHead(200, { 'content-type': 'video/mp4', 'content-length': data.length });
      const end = count === 2 ? 11 * 2 ** 20 : data.length;
      await paced(res, data.subarray(0, end));
      if (count === 2) res.socket?.destroy();
      else res.end();
      return;
    }
    if (path.startsWith('/throttled')) {
      // About 3 s for the large file, in small timed chunks (any /throttled* path, so each download has
      // its own URL); /throttled-noisy* sends the noisy one, for uploads of several parts.
      const file = join(dir, path.startsWith('/throttled-noisy') ? 'noisy.mp4' : 'large.mp4');
      const { size } = await stat(file);
      res.writeHead(200, { 'content-type': 'video/mp4', 'content-length': size });
      const data = await readFile(file);
      const chunk = Math.ceil(size / 30);
      for (let offset = 0; offset < size; offset += chunk) {
        if (!res.write(data.subarray(offset, offset + chunk))) await new Promise((r) => res.once('drain', r));
        await new Promise((r) => setTimeout(r, 100));
      }
      return void res.end();
    }
    const file = join(dir, path.replace(/^\/+/, '').replace(/\.\./g, ''));
    // ?rate=N serves any file at N bytes a second: a realistic line instead of loopback's speed.
    const rate = Number(url.searchParams.get('rate') ?? 0);
    return serveFile(file, res, req.headers.range, { path: `${path}${url.search}`, rate });
  });
  /** Writes data at about 8 MiB/s in small pieces, then waits for the socket to take the last one. */
  async function paced(res: import('node:http').ServerResponse, data: Buffer): Promise<void> {
    const piece = 256 * 1024;
    for (let offset = 0; offset < data.length && !res.destroyed; offset += piece) {
      if (!res.write(data.subarray(offset, offset + piece)))
        await new Promise<void>((resolve) => {
          const go = () => {
            res.off('drain', go).off('close', go);
            resolve();
          };
          res.once('drain', go).once('close', go);
        });
      await new Promise((r) => setTimeout(r, 30));
    }
    await new Promise((r) => res.write('', r));
  }
  const transfers = new Map<string, { firstByteAt: number; lastByteAt: number; bytes: number }>();
  /** Counts a file route's body bytes per path, and holds them back to `rate` bytes a second. */
  function metered(path: string, rate: number): Transform {
    const began = performance.now();
    let passed = 0;
    return new Transform({
      async transform(chunk: Buffer, _encoding, callback) {
        passed += chunk.length;
        // Released when the line would have carried it: sleeps, as a slow link is slow in time.
        const due = rate > 0 ? began + (passed / rate) * 1000 : 0;
        const wait = due - performance.now();
        if (wait > 1) await new Promise((r) => setTimeout(r, wait));
        const now = performance.now();
        const seen = transfers.get(path);
        transfers.set(path, {
          firstByteAt: seen?.firstByteAt ?? now,
          lastByteAt: now,
          bytes: (seen?.bytes ?? 0) + chunk.length,
        });
        callback(null, chunk);
      },
    });
  }
  async function serveFile(
    file: string,
    res: import('node:http').ServerResponse,
    range: string | undefined,
    meter?: { path: string; rate: number },
  ): Promise<void> {
    let size: number;
    try {
      size = (await stat(file)).size;
    } catch {
      res.writeHead(404).end('not found');
      return;
    }
    const type = types[extname(file)] ?? 'application/octet-stream';
    const body = (stream: NodeJS.ReadableStream) =>
      void (meter ? pipeline(stream, metered(meter.path, meter.rate), res) : pipeline(stream, res)).catch(
        // The client went away mid-body (a cancelled download): nothing to serve any more.
        () => {},
      );
    const match = range ? /bytes=(\d+)-(\d*)/.exec(range) : null;
    if (match) {
      const start = Number(match[1]);
      const end = match[2] ? Number(match[2]) : size - 1;
      res.writeHead(206, {
        'content-type': type,
        'content-length': end - start + 1,
        'content-range': `bytes ${start}-${end}/${size}`,
        'accept-ranges': 'bytes',
      });
      body(createReadStream(file, { start, end }));
    } else {
      res.writeHead(200, { 'content-type': type, 'content-length': size, 'accept-ranges': 'bytes' });
      body(createReadStream(file));
    }
  }
  await new Promise<void>((resolve) => server.listen(port, host, resolve));
  const address = server.address();
  const boundPort = typeof address === 'object' && address ? address.port : 0;
  return {
    url: `http://${host}:${boundPort}`,
    port: boundPort,
    dir,
    file: (name) => join(dir, name),
    requests: (path) => allRequests.get(path) ?? 0,
    sent: (path) => sentBytes.get(path) ?? 0,
    transfer: (path) => transfers.get(path),
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
