import { describe, expect, it } from 'vitest';
import { VideoDownloadSpec } from '../../crds/video-download.ts';
import { saysRefetched, streamability, type TailFacts, tailVerdict } from './tail-upload-policy.ts';

const specOf = (spec: object) => VideoDownloadSpec.parse({ url: 'https://e.com/v', ...spec });
const progressive = { format: '18', protocol: 'https' };

describe('streamability', () => {
  it.each([
    ['a single progressive stream', {}, progressive],
    ['HLS fetched by yt-dlp fragment by fragment', {}, { format: 'hls-720', protocol: 'm3u8_native' }],
    ['subtitles written beside the file', { subtitles: { languages: ['en'] } }, progressive],
  ])('streams %s', (_what, spec, plan) => {
    expect(streamability(specOf(spec), plan)).toEqual({ streamable: true });
  });

  it.each([
    ['separate streams', {}, { format: '137+140', protocol: 'https+https' }, /merged by ffmpeg/],
    ['extracted audio', { audio: { extract: true } }, progressive, /converted/],
    ['a remux', { output: { container: 'mkv' } }, progressive, /remuxed into mkv/],
    ['embedded subtitles', { subtitles: { languages: ['en'], embed: true } }, progressive, /embedded/],
    ['a live stream', { live: true }, progressive, /live stream/],
    ["ffmpeg's HLS downloader", {}, { format: 'hls', protocol: 'm3u8' }, /m3u8 downloader/],
    ['an unknown protocol', {}, { format: '18' }, /unknown downloader/],
    ['no plan', {}, undefined, /no plan/],
    ['embedded tags', { embed: { metadata: true } }, progressive, /embeds tags, cover art or chapters/],
    ['an embedded cover', { embed: { thumbnail: true } }, progressive, /embeds tags, cover art or chapters/],
    ['a clip', { clip: { endSeconds: 3 } }, progressive, /clip is cut by ffmpeg/],
    ['SponsorBlock', { sponsorBlock: { mark: ['intro'] } }, progressive, /SponsorBlock/],
  ])('keeps %s for after the download', (_what, spec, plan, why) => {
    const verdict = streamability(specOf(spec), plan);
    expect(verdict.streamable).toBe(false);
    expect(verdict.streamable === false && verdict.why).toMatch(why);
  });
});

describe('saysRefetched', () => {
  it.each([
    ['WARNING: [download] Got error: Connection reset. Retrying (1/3)...', true],
    ['[download] Unable to resume', true],
    ['[download] Destination: /work/out/a.mp4', false],
    ['[info] Writing video metadata as JSON to: a.info.json', false],
  ])('%s: %s', (line, expected) => {
    expect(saysRefetched(line)).toBe(expected);
  });
});

describe('tailVerdict', () => {
  const facts: TailFacts = {
    followed: { dev: 1, ino: 7 },
    final: { dev: 1, ino: 7, size: 100 },
    sent: 80,
    refetched: false,
  };
  it('keeps the parts sent when the finished file is the one followed, renamed, and no shorter', () => {
    expect(tailVerdict(facts)).toEqual({ complete: true });
    expect(tailVerdict({ ...facts, sent: 100 })).toEqual({ complete: true });
  });
  it.each([
    ['abandoned', { abandoned: 'yt-dlp began writing another file' }, /another file/],
    ['refetched', { refetched: true }, /fetched part of the file again/],
    ['rewritten into a new inode', { final: { dev: 1, ino: 8, size: 100 } }, /another file than the one/],
    ['on another device', { final: { dev: 2, ino: 7, size: 100 } }, /another file than the one/],
    ['truncated', { final: { dev: 1, ino: 7, size: 79 } }, /shorter/],
  ])('sends the file whole when it was %s', (_what, change, why) => {
    const verdict = tailVerdict({ ...facts, ...change });
    expect(verdict.complete).toBe(false);
    expect(verdict.complete === false && verdict.why).toMatch(why);
  });
});
