import { describe, expect, it } from 'vitest';
import { VideoDownloadSpec } from '../../crds/video-download.ts';
import { boundedFilenameTemplate, formatSelector, ytDlpArgs } from './yt-dlp-args.ts';

const base = {
  workDir: '/work/out',
  maxFileSize: 1000,
  proxyUrl: 'http://127.0.0.1:1',
  eventsFile: '/work/events',
  ffmpegProgressFile: '/work/ffmpeg-progress',
};
const argsFor = (spec: object) =>
  ytDlpArgs({ ...base, spec: VideoDownloadSpec.parse({ url: 'https://e.com/v', ...spec }) });
const flagValue = (args: string[], flag: string) => args[args.indexOf(flag) + 1];

describe('ytDlpArgs', () => {
  it('ends options before the URL, so it can never be read as a flag', () => {
    const args = argsFor({});
    expect(args.slice(-2)).toEqual(['--', 'https://e.com/v']);
  });

  it('ignores config files, sends every request through the egress proxy and caps the size', () => {
    const args = argsFor({});
    expect(args).toContain('--ignore-config');
    expect(flagValue(args, '--proxy')).toBe('http://127.0.0.1:1');
    expect(flagValue(args, '--max-filesize')).toBe('1000');
    expect(flagValue(args, '--paths')).toBe('/work/out');
  });

  it('keeps file names short enough for the file system, whatever the title', () => {
    const args = argsFor({});
    expect(args).toContain('--restrict-filenames');
    expect(Number(flagValue(args, '--trim-filenames'))).toBeLessThanOrEqual(200);
    expect(flagValue(args, '--output')).toBe('%(title).75B [%(id).75B].%(ext)s');
  });

  it.each([
    ['%(title)s.%(ext)s', '%(title).150B.%(ext)s'],
    ['%(title)s [%(id)s].%(ext)s', '%(title).75B [%(id).75B].%(ext)s'],
    ['%(title).20s - %(uploader)s.%(ext)s', '%(title).20B - %(uploader).75B.%(ext)s'],
    ['%(title)-10s', '%(title)-10.150B'],
    ['%(upload_date)s %(title,id)s', '%(upload_date).75B %(title,id).75B'],
    ['100%% %(autonumber)d', '100%% %(autonumber)d'],
    ['plain name', 'plain name'],
  ])('bounds every text field of %s', (template, bounded) => {
    expect(boundedFilenameTemplate(template)).toBe(bounded);
  });

  it.each([
    [{}, 'bv*+ba/b'],
    [{ format: { preset: '720p' } }, 'bv*[height<=720]+ba/b[height<=720]/b'],
    [{ format: { preset: 'audio' } }, 'ba/b'],
    [{ audio: { extract: true } }, 'ba/b'],
    [{ format: { selector: 'best[ext=mp4]' } }, 'best[ext=mp4]'],
  ])('selects formats for %j', (spec, selector) => {
    expect(formatSelector(VideoDownloadSpec.parse({ url: 'https://e.com/v', ...spec }))).toBe(selector);
  });

  it('asks for audio extraction, subtitles and a container only when the spec does', () => {
    expect(argsFor({})).not.toContain('--extract-audio');
    expect(argsFor({})).not.toContain('--write-subs');
    const args = argsFor({
      audio: { extract: true, format: 'mp3', quality: '192K' },
      subtitles: { languages: ['en', 'de'], autoCaptions: true, embed: true },
      output: { container: 'mkv' },
    });
    expect(flagValue(args, '--audio-format')).toBe('mp3');
    expect(flagValue(args, '--audio-quality')).toBe('192K');
    expect(flagValue(args, '--sub-langs')).toBe('en,de');
    expect(args).toEqual(
      expect.arrayContaining(['--write-auto-subs', '--embed-subs', '--merge-output-format']),
    );
  });

  it('passes rate limit and cookies only when configured', () => {
    const args = ytDlpArgs({
      ...base,
      spec: VideoDownloadSpec.parse({ url: 'https://e.com/v' }),
      rateLimit: 1_048_576,
      cookiesFile: '/c',
    });
    expect(flagValue(args, '--limit-rate')).toBe('1048576');
    expect(flagValue(args, '--cookies')).toBe('/c');
    expect(argsFor({})).not.toContain('--limit-rate');
    expect(argsFor({})).not.toContain('--cookies');
  });

  it('takes one entry of a playlist, never the whole list', () => {
    const args = argsFor({});
    expect(args).toContain('--no-playlist');
    expect(flagValue(args, '--playlist-items')).toBe('1');
  });

  it('refuses live streams unless the spec asks for one', () => {
    expect(flagValue(argsFor({}), '--match-filter')).toBe('!is_live');
    expect(argsFor({ live: true })).not.toContain('--match-filter');
  });

  it('has every ffmpeg post-processor write its progress to the file the downloader reads', () => {
    expect(flagValue(argsFor({}), '--postprocessor-args')).toBe(
      "ffmpeg:-progress '/work/ffmpeg-progress' -stats_period 0.5",
    );
  });

  it('embeds tags, cover art and chapters only when asked, and never chapters nobody asked for', () => {
    expect(argsFor({}).join(' ')).not.toMatch(/embed|sponsorblock|download-sections/);
    const everything = argsFor({ embed: { metadata: true, thumbnail: true, chapters: true } });
    expect(everything).toEqual(
      expect.arrayContaining(['--embed-metadata', '--embed-thumbnail', '--embed-chapters']),
    );
    // yt-dlp's --embed-metadata adds chapters unless told not to.
    const tagsOnly = argsFor({ embed: { metadata: true } });
    expect(tagsOnly).toContain('--no-embed-chapters');
    expect(tagsOnly).not.toContain('--embed-chapters');
  });

  it("remuxes a site's WebM into Matroska for a cover, unless a container or audio was chosen", () => {
    expect(flagValue(argsFor({ embed: { thumbnail: true } }), '--remux-video')).toBe('webm>mkv');
    expect(
      flagValue(argsFor({ embed: { thumbnail: true }, output: { container: 'mp4' } }), '--remux-video'),
    ).toBe('mp4');
    expect(argsFor({ embed: { thumbnail: true }, audio: { extract: true, format: 'mp3' } })).not.toContain(
      '--remux-video',
    );
  });

  it('downloads a clip as a time range, in seconds yt-dlp reads, cut exactly only when asked', () => {
    const clip = argsFor({ clip: { startSeconds: 1.5, endSeconds: 90 } });
    expect(flagValue(clip, '--download-sections')).toBe('*1.5-90');
    expect(clip).not.toContain('--force-keyframes-at-cuts');
    const tiny = argsFor({ clip: { startSeconds: 0.0000001, endSeconds: 2.25, exactCuts: true } });
    expect(flagValue(tiny, '--download-sections')).toBe('*0-2.25');
    expect(tiny).toContain('--force-keyframes-at-cuts');
    expect(flagValue(argsFor({ clip: { endSeconds: 5 } }), '--download-sections')).toBe('*0-5');
  });

  it('asks SponsorBlock for the categories to remove and to mark, marks as chapters', () => {
    const args = argsFor({
      sponsorBlock: { remove: ['sponsor', 'selfpromo'], mark: ['intro', 'poi_highlight'] },
    });
    expect(flagValue(args, '--sponsorblock-remove')).toBe('sponsor,selfpromo');
    expect(flagValue(args, '--sponsorblock-mark')).toBe('intro,poi_highlight');
    expect(args).toContain('--embed-chapters');
    expect(argsFor({ sponsorBlock: { remove: ['sponsor'] } })).not.toContain('--sponsorblock-mark');
  });
});
