// The yt-dlp command line for one download: a pure function of the validated
// spec. Every user value arrives as the argument of a fixed flag (never as a
// flag itself), after schema validation restricted its characters.
import type { VideoDownloadSpec } from '../../crds/video-download.ts';

export interface YtDlpOptions {
  spec: VideoDownloadSpec;
  workDir: string;
  /** Bytes; yt-dlp refuses larger files. */
  maxFileSize: number;
  /** Egress filter every request of yt-dlp goes through. */
  proxyUrl: string;
  /** File that receives the plan and done lines (--print would imply --quiet and hide errors). */
  eventsFile: string;
  /** File ffmpeg writes its progress to while yt-dlp merges or converts. */
  ffmpegProgressFile: string;
  cookiesFile?: string;
  /** Bytes per second. */
  rateLimit?: number;
}

/** Characters of a stored file name before its extension. */
export const maxFilenameLength = 160;

/** Bytes the fields of a file name template may fill together. */
const fieldBudget = 150;
// yt-dlp's %(field)<flags><width>.<precision><type>, and %% for a literal %.
const templateField = /%%|%\(([^)]*)\)([-#0+ ]*\d*)(?:\.(\d+))?([a-zA-Z])/g;

/**
 * The user's template with every text field bounded in bytes (%(title).75B),
 * so the name fits the file system whatever a page sends. --trim-filenames
 * alone is not enough: it keeps everything after the last two dots, and a
 * title with a dot early keeps its whole length there.
 */
export function boundedFilenameTemplate(template: string): string {
  const isText = (match: string, name: string | undefined, type: string | undefined) =>
    match !== '%%' && type === 's' && name !== 'ext';
  const fields = [...template.matchAll(templateField)].filter((m) => isText(m[0], m[1], m[4]));
  if (fields.length === 0) return template;
  const each = Math.max(16, Math.floor(fieldBudget / fields.length));
  return template.replace(
    templateField,
    (match, name: string | undefined, flags: string | undefined, precision: string | undefined, type) => {
      if (!isText(match, name, type)) return match;
      const bytes = precision === undefined ? each : Math.min(Number(precision), each);
      return `%(${name})${flags ?? ''}.${bytes}B`;
    },
  );
}

// Machine-readable lines on stdout; the parser in progress.ts reads them.
export const progressPrefix = 'VDLPROGRESS ';
export const postprocessPrefix = 'VDLPOSTPROCESS ';
export const planPrefix = 'VDLPLAN ';
export const donePrefix = 'VDLDONE ';

const presetSelectors: Record<string, string> = {
  best: 'bv*+ba/b',
  '2160p': 'bv*[height<=2160]+ba/b[height<=2160]/b',
  '1080p': 'bv*[height<=1080]+ba/b[height<=1080]/b',
  '720p': 'bv*[height<=720]+ba/b[height<=720]/b',
  '480p': 'bv*[height<=480]+ba/b[height<=480]/b',
  audio: 'ba/b',
};

export function formatSelector(spec: VideoDownloadSpec): string {
  if (spec.format.selector) return spec.format.selector;
  if (spec.audio.extract && spec.format.preset === 'best') return presetSelectors.audio as string;
  return presetSelectors[spec.format.preset] as string;
}

/** yt-dlp splits --postprocessor-args like a shell does. */
function shellQuoted(path: string): string {
  if (path.includes("'")) throw new Error(`unusable work dir path: ${path}`);
  return `'${path}'`;
}

export function ytDlpArgs(options: YtDlpOptions): string[] {
  const { spec } = options;
  const args = [
    '--ignore-config',
    '--no-update',
    // One video per download: --no-playlist picks the video of a video-in-a-
    // playlist URL, --playlist-items the first entry of a pure playlist (the
    // work-dir guard stops a second one).
    '--no-playlist',
    '--playlist-items',
    '1',
    '--no-cache-dir',
    '--no-mtime',
    '--restrict-filenames',
    // A page's title can be any length; a file name holds 255 bytes. ASCII
    // (--restrict-filenames) and this many characters leave room for the
    // suffixes yt-dlp adds (.f137, .part, .info.json, .en.vtt).
    '--trim-filenames',
    String(maxFilenameLength),
    '--newline',
    '--progress',
    '--progress-template',
    `download:${progressPrefix}{"status":%(progress.status)j,"downloaded":%(progress.downloaded_bytes)j,"total":%(progress.total_bytes)j,"estimate":%(progress.total_bytes_estimate)j,"speed":%(progress.speed)j,"eta":%(progress.eta)j,"format":%(info.format_id)j,"tmpfile":%(progress.tmpfilename)j}`,
    '--progress-template',
    `postprocess:${postprocessPrefix}{"status":%(progress.status)j,"postprocessor":%(progress.postprocessor)j}`,
    '--print-to-file',
    `video:${planPrefix}{"format":%(format_id)j,"size":%(filesize,filesize_approx)j,"title":%(title)j,"duration":%(duration)j,"protocol":%(protocol)j,"ext":%(ext)j}`,
    options.eventsFile,
    '--print-to-file',
    `after_move:${donePrefix}{"file":%(filepath)j,"title":%(title)j,"duration":%(duration)j,"ext":%(ext)j}`,
    options.eventsFile,
    '--proxy',
    options.proxyUrl,
    '--paths',
    options.workDir,
    '--output',
    boundedFilenameTemplate(spec.output.filenameTemplate),
    '--format',
    formatSelector(spec),
    '--max-filesize',
    String(options.maxFileSize),
    '--retries',
    '3',
    '--fragment-retries',
    '5',
    '--retry-sleep',
    'exp=1:8',
    '--socket-timeout',
    '30',
    '--write-info-json',
    // yt-dlp keeps ffmpeg's output to itself; ffmpeg's own progress file is
    // how the merging stage gets a percentage ("ffmpeg" reaches every
    // ffmpeg post-processor, before its output file).
    '--postprocessor-args',
    `ffmpeg:-progress ${shellQuoted(options.ffmpegProgressFile)} -stats_period 0.5`,
  ];
  if (spec.output.container)
    args.push('--merge-output-format', spec.output.container, '--remux-video', spec.output.container);
  if (spec.audio.extract) {
    args.push('--extract-audio', '--audio-format', spec.audio.format);
    if (spec.audio.quality) args.push('--audio-quality', spec.audio.quality);
  }
  const { languages, autoCaptions, embed } = spec.subtitles;
  if (languages.length > 0) {
    args.push('--write-subs', '--sub-langs', languages.join(','));
    if (autoCaptions) args.push('--write-auto-subs');
    if (embed) args.push('--embed-subs');
  }
  args.push(...postProcessingArgs(spec));
  // A live stream has no end and no size to check in advance: only when asked.
  if (!spec.live) args.push('--match-filter', '!is_live');
  if (options.rateLimit) args.push('--limit-rate', String(options.rateLimit));
  if (options.cookiesFile) args.push('--cookies', options.cookiesFile);
  // "--" ends the options: the URL can never be read as one.
  args.push('--', spec.url);
  return args;
}

/** Seconds as yt-dlp's parse_duration reads them: milliseconds at most, never an exponent (1e-7). */
function seconds(value: number): string {
  return value.toFixed(3).replace(/\.?0+$/, '');
}

/** yt-dlp's --download-sections range ("*" marks it a time range, not a chapter name). */
function clipSection(clip: NonNullable<VideoDownloadSpec['clip']>): string {
  return `*${seconds(clip.startSeconds)}-${seconds(clip.endSeconds)}`;
}

/** What yt-dlp does to the file after the download: tags, cover art, chapters, a time range, SponsorBlock. */
export function postProcessingArgs(spec: VideoDownloadSpec): string[] {
  const args: string[] = [];
  const { metadata, thumbnail, chapters } = spec.embed;
  const marks = spec.sponsorBlock?.mark ?? [];
  const removals = spec.sponsorBlock?.remove ?? [];
  if (metadata) args.push('--embed-metadata');
  // --embed-metadata and --sponsorblock-mark imply chapters unless told; a mark is a chapter.
  if (chapters || marks.length > 0) args.push('--embed-chapters');
  else if (metadata) args.push('--no-embed-chapters');
  if (thumbnail) {
    args.push('--embed-thumbnail');
    // WebM cannot hold a cover (the schema refuses it when asked for by name); Matroska
    // holds the same streams and can, so a site's WebM is remuxed rather than failed.
    if (!spec.output.container && !spec.audio.extract) args.push('--remux-video', 'webm>mkv');
  }
  if (spec.clip) {
    args.push('--download-sections', clipSection(spec.clip));
    if (spec.clip.exactCuts) args.push('--force-keyframes-at-cuts');
  }
  if (marks.length > 0) args.push('--sponsorblock-mark', marks.join(','));
  if (removals.length > 0) args.push('--sponsorblock-remove', removals.join(','));
  return args;
}
