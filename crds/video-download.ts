// The VideoDownload contract, written once. The CRD's OpenAPI schema, the
// API's request validation, the OpenAPI document and every TypeScript type
// of the operator, API and downloader come from these zod schemas.
import { z } from 'zod';
import { quantityPattern } from './quantity.ts';
import { urlRefusal, urlSchemes, urlValidationFor } from './url-rule.ts';
import {
  defaultVolumePathTemplate,
  volumePathPattern,
  volumePathRefusal,
  volumePathRule,
  volumeSegmentsMessage,
} from './volume-path.ts';

export const group = 'vdl.dev';
export const version = 'v1alpha1';
export const apiVersion = `${group}/${version}`;
export const kind = 'VideoDownload';
export const plural = 'videodownloads';

/** Exit code with which the downloader reports a failure that retrying cannot fix. */
export const permanentFailureExitCode = 42;

// yt-dlp option values that reach its command line: a closed character set,
// so nothing can be read as another flag or a path.
const formatSelectorPattern = '^[A-Za-z0-9+/\\[\\]<>=!*?:.,_()|^$~][A-Za-z0-9+/\\[\\]<>=!*?:.,_()|^$~-]*$';
const languagePattern = '^[A-Za-z0-9_.*-]{1,20}$';
const filenameTemplatePattern = '^[A-Za-z0-9 %()._,+\\[\\]-]+$';
// What yt-dlp (Python) and the API (WHATWG) would parse apart: a backslash
// (a path separator to one, userinfo to the other) and control characters
// (which the WHATWG parser drops in silence). Refused in every URL.
const urlCharactersPattern = '^[^\\\\\\x00-\\x1f\\x7f-\\x9f]*$';
// Key prefix segments never start with a dot: no "." or ".." to climb out of the download's folder.
const keyPrefixPattern = "^([A-Za-z0-9!_*'()-][A-Za-z0-9!_.*'()-]*/)*$";
/**
 * The longest ttlSecondsAfterFinished: 30 days, long enough to fetch a file a
 * month later. A download meant to stay longer is better kept with no TTL
 * (until deleted) than by a timer nobody remembers, and a larger number of
 * seconds is more likely a unit slip (milliseconds) than intent.
 */
export const maxTtlSeconds = 30 * 86_400;

// Templates yt-dlp reads as something other than a file in its work dir:
// "-" is stdout, an absolute path or a ".." segment leaves the work dir.
// Refused by name as well as by the pattern above, in the schema and in CEL,
// so the API and the API server both say why.
const filenameTemplateRefusal =
  'filenameTemplate must not be "-" (stdout), "." or an absolute path, nor contain ".." segments';
const filenameTemplateRule =
  "self != '-' && self != '.' && !self.startsWith('/') && !self.split('/').exists(s, s == '..')";
function specialFilenameTemplate(template: string): boolean {
  return (
    template === '-' ||
    template === '.' ||
    template.startsWith('/') ||
    template.split(/[/\\]/).some((segment) => segment === '..')
  );
}

export const formatPresets = ['best', '2160p', '1080p', '720p', '480p', 'audio'] as const;
export const audioFormats = ['best', 'mp3', 'm4a', 'opus', 'vorbis', 'flac', 'wav', 'aac'] as const;
export const containers = ['mp4', 'mkv', 'webm', 'mov'] as const;
export const phases = ['Pending', 'Queued', 'Running', 'Succeeded', 'Failed'] as const;
export const stages = ['queued', 'starting', 'downloading', 'merging', 'uploading', 'done'] as const;
export const deletionPolicies = ['Delete', 'Retain'] as const;

export const FormatSpec = z
  .strictObject({
    preset: z
      .enum(formatPresets)
      .default('best')
      .describe(
        'A simple choice of quality: best, 2160p, 1080p and 720p and 480p (the best video up to that height, with the best audio), or audio (audio only). Ignored when selector is set.',
      ),
    selector: z
      .string()
      .min(1)
      .max(256)
      .regex(new RegExp(formatSelectorPattern))
      .optional()
      .describe(
        'A yt-dlp format selector such as "bv*[height<=1080]+ba/b"; overrides preset. See yt-dlp\'s "FORMAT SELECTION".',
      ),
  })
  .describe('Which of the formats the site offers to download.');

export const AudioSpec = z
  .strictObject({
    extract: z
      .boolean()
      .default(false)
      .describe('Keep only the audio track, converted to format (yt-dlp -x).'),
    format: z.enum(audioFormats).default('best').describe('Audio format to convert to when extract is true.'),
    quality: z
      .string()
      .regex(/^([0-9]|10|[0-9]{1,4}[kK])$/)
      .optional()
      .describe('Audio quality: 0 (best) to 10 (worst) for VBR, or a bitrate such as 192K.'),
  })
  .describe('Audio extraction.');

export const SubtitlesSpec = z
  .strictObject({
    languages: z
      .array(z.string().regex(new RegExp(languagePattern)))
      .max(20)
      .default([])
      .describe('Subtitle languages to fetch, such as en or de, or "all". Empty fetches none.'),
    autoCaptions: z.boolean().default(false).describe('Also fetch automatically generated captions.'),
    embed: z
      .boolean()
      .default(false)
      .describe('Embed the subtitles into the video file instead of storing them beside it.'),
  })
  .describe('Subtitles.');

export const OutputSpec = z
  .strictObject({
    container: z
      .enum(containers)
      .optional()
      .describe('Container to merge or remux the video into. Unset keeps what the site offers.'),
    filenameTemplate: z
      .string()
      .min(1)
      .max(200)
      .regex(new RegExp(filenameTemplatePattern))
      .refine((template) => !specialFilenameTemplate(template), { message: filenameTemplateRefusal })
      .meta({
        'x-kubernetes-validations': [{ rule: filenameTemplateRule, message: filenameTemplateRefusal }],
      })
      .default('%(title)s [%(id)s].%(ext)s')
      .describe('yt-dlp output template for the stored file name, without directories.'),
  })
  .describe('The output file.');

/** Containers and audio formats that can hold a cover picture (yt-dlp's EmbedThumbnail). */
export const thumbnaillessAudioFormats = ['wav', 'aac'] as const;
const thumbnailRefusal =
  'embed.thumbnail: a WebM file cannot hold a thumbnail: choose output.container mp4, mkv or mov, or leave it unset (a WebM result is then remuxed into Matroska)';
const thumbnailAudioRefusal = `embed.thumbnail: ${thumbnaillessAudioFormats.join(' and ')} audio files cannot hold a thumbnail: choose mp3, m4a, opus, vorbis or flac`;

export const EmbedSpec = z
  .strictObject({
    metadata: z
      .boolean()
      .default(false)
      .describe(
        "Write the title, uploader, date, description and page URL into the file's own tags (yt-dlp --embed-metadata), where media libraries read them.",
      ),
    thumbnail: z
      .boolean()
      .default(false)
      .describe(
        "Embed the video's thumbnail as cover art (mp4, mov, mkv, m4a, mp3, opus, vorbis, flac). With no output.container, a WebM result is remuxed into Matroska, which can hold it; WebM and wav or aac audio cannot and are refused.",
      ),
    chapters: z
      .boolean()
      .default(false)
      .describe(
        'Embed the chapters the site lists, so players can jump between them (yt-dlp --embed-chapters).',
      ),
  })
  .describe('What to embed in the file after the download (ffmpeg): tags, cover art, chapters.');

/** A clip ends within a week of media time: a longer end is more likely a unit slip (milliseconds) than intent. */
export const maxClipSeconds = 7 * 86_400;
const clipOrderRefusal = 'clip.endSeconds must be after clip.startSeconds';

export const ClipSpec = z
  .strictObject({
    startSeconds: z
      .number()
      .min(0)
      .max(maxClipSeconds)
      .default(0)
      .describe('Where the clip starts, in seconds of media time (fractions allowed).'),
    endSeconds: z
      .number()
      .gt(0, { error: 'clip.endSeconds must be after 0' })
      .max(maxClipSeconds, { error: `clip.endSeconds must be at most ${maxClipSeconds} (a week)` })
      .describe(
        'Where the clip ends, in seconds of media time, after startSeconds; past the end of the video means its end.',
      ),
    exactCuts: z
      .boolean()
      .default(false)
      .describe(
        'Cut at exactly these times by re-encoding around the cuts (slower); false cuts at the nearest keyframes, which may start a little early.',
      ),
  })
  .refine((clip) => clip.endSeconds > clip.startSeconds, { message: clipOrderRefusal, path: ['endSeconds'] })
  .meta({
    'x-kubernetes-validations': [{ rule: 'self.endSeconds > self.startSeconds', message: clipOrderRefusal }],
  })
  .describe(
    'Download only this time range of the video (yt-dlp --download-sections); ffmpeg fetches just the range where the site allows seeking.',
  );

/** SponsorBlock's categories of segments that can be cut out (https://wiki.sponsor.ajay.app/w/Types). */
export const sponsorBlockRemovable = [
  'sponsor',
  'intro',
  'outro',
  'selfpromo',
  'preview',
  'filler',
  'interaction',
  'music_offtopic',
  'hook',
] as const;
/** And those that can only be marked: a point (the highlight) or a chapter title. */
export const sponsorBlockMarkable = [...sponsorBlockRemovable, 'poi_highlight', 'chapter'] as const;

export const SponsorBlockSpec = z
  .strictObject({
    remove: z
      .array(
        z
          .enum(sponsorBlockRemovable, {
            error: `sponsorBlock.remove holds ${sponsorBlockRemovable.join(', ')}`,
          })
          .describe('A category of segments to cut out.'),
      )
      .max(sponsorBlockRemovable.length)
      .default([])
      .describe('Categories of segments to cut out of the file, such as sponsor or selfpromo.'),
    mark: z
      .array(
        z
          .enum(sponsorBlockMarkable, { error: `sponsorBlock.mark holds ${sponsorBlockMarkable.join(', ')}` })
          .describe('A category of segments to mark.'),
      )
      .max(sponsorBlockMarkable.length)
      .default([])
      .describe('Categories of segments to mark as chapters, leaving the video whole.'),
  })
  .describe(
    "Segments the SponsorBlock community marked in the video (its service knows YouTube videos only; other sites' files are stored as they are). The download fails with reason SponsorBlockUnavailable when the service cannot be reached.",
  );

export const LimitsSpec = z
  .strictObject({
    maxFileSize: z
      .string()
      .regex(new RegExp(quantityPattern), {
        error: 'maxFileSize must be a quantity below 1Pi, such as 500Mi',
      })
      .optional()
      .describe(
        "Refuse files larger than this, as a quantity such as 500Mi or 2G, at most the operator's limit (VDL_DEFAULT_MAX_FILE_SIZE). Unset: that limit.",
      ),
    deadlineSeconds: z
      .int()
      .min(30)
      .max(86_400)
      .optional()
      .describe('Fail the download when it has not finished this many seconds after it started.'),
    rateLimit: z
      .string()
      .regex(new RegExp(quantityPattern), { error: 'rateLimit must be a quantity below 1Pi, such as 2Mi' })
      .optional()
      .describe(
        "Download at most this many bytes per second, as a quantity such as 2Mi or 500K, at most the operator's limit (VDL_DEFAULT_RATE_LIMIT, none unless configured). Unset: that limit.",
      ),
  })
  .describe('Limits on one download.');

/** Only Secrets named so can be mounted into a download pod: a download cannot read the namespace's other Secrets. */
export const cookiesSecretPrefix = 'vdl-cookies-';

export const CookiesSpec = z
  .strictObject({
    secretName: z
      .string()
      .max(253)
      .regex(new RegExp(`^${cookiesSecretPrefix}[a-z0-9]([-a-z0-9.]*[a-z0-9])?$`))
      .describe(
        `Secret in the download's namespace holding a Netscape cookies.txt; its name must start with ${cookiesSecretPrefix}.`,
      ),
    key: z
      .string()
      .max(253)
      .regex(/^[-._a-zA-Z0-9]+$/)
      .default('cookies.txt')
      .describe('The key of the Secret that holds the cookies file.'),
  })
  .describe(
    'Cookies to send to the site (for videos behind a login), from a Secret. yt-dlp sends each cookie only to its own domain.',
  );

const volumeWithBucketRefusal =
  'storage.volume writes the file onto a volume: bucket and keyPrefix, which name object storage, cannot be set with it';

/** The downloader's user and group unless a volume asks for others (distroless "nonroot"). */
export const downloaderUid = 65532;
/** Linux ids up to 2^31 - 1; 0 (root) is refused, as a download pod never runs as root. */
const maxId = 2_147_483_647;

export const VolumeSpec = z
  .strictObject({
    claimName: z
      .string()
      .min(1)
      .max(253)
      .regex(/^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/)
      .describe(
        "PersistentVolumeClaim in the download's namespace to write the file onto; the operator must allow it (VDL_VOLUME_CLAIMS).",
      ),
    path: z
      .string()
      .min(1)
      .max(512)
      .superRefine((template, context) => {
        const refusal = volumePathRefusal(template);
        if (refusal) context.addIssue({ code: 'custom', message: refusal });
      })
      .meta({
        pattern: volumePathPattern,
        'x-kubernetes-validations': [{ rule: volumePathRule, message: volumeSegmentsMessage }],
      })
      .default(defaultVolumePathTemplate)
      .describe(
        "Where the file goes under the volume's root: literal text and {fields} of yt-dlp's info JSON (id, title, uploader, channel, upload_date, upload_year, playlist, playlist_index, ext, ...), each value made safe as one file name. Must end in a name holding {ext}. A file already at that path is never overwritten: the download fails with reason FileExists unless it holds the same bytes.",
      ),
    uid: z
      .int()
      .min(1)
      .max(maxId)
      .default(downloaderUid)
      .describe(
        'The user id the download runs as, and so owns the file: no chown, which NFS and SMB shares often refuse. Not 0.',
      ),
    gid: z
      .int()
      .min(1)
      .max(maxId)
      .default(downloaderUid)
      .describe('The group id the download runs as and the file gets. Not 0.'),
    fileMode: z
      .int()
      .min(0)
      .max(0o777)
      .default(0o644)
      .describe(
        'Permission bits of the file, such as 420 (0644) or 436 (0664); folders made for it get the same with x where r is set.',
      ),
  })
  .describe(
    'A volume to write the file onto instead of object storage, laid out for a media library. bucket and keyPrefix do not apply.',
  );

export const StorageSpec = z
  .strictObject({
    bucket: z
      .string()
      .regex(/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/)
      .optional()
      .describe("Bucket to store the file in. Unset: the operator's default bucket."),
    keyPrefix: z
      .string()
      .max(200)
      .regex(new RegExp(keyPrefixPattern), {
        error: 'keyPrefix must be segments ending in /, none starting with a dot and none empty',
      })
      .optional()
      .describe(
        "Key prefix (ending in /) under which this download's own folder is made; no segment starts with a dot.",
      ),
    deletionPolicy: z
      .enum(deletionPolicies)
      .default('Delete')
      .describe(
        'Delete removes the stored file (object or file on the volume) when the VideoDownload is deleted; Retain keeps it.',
      ),
    volume: VolumeSpec.optional(),
  })
  .refine(
    (storage) => !(storage.volume && (storage.bucket !== undefined || storage.keyPrefix !== undefined)),
    {
      message: volumeWithBucketRefusal,
      path: ['volume'],
    },
  )
  .meta({
    'x-kubernetes-validations': [
      {
        rule: '!(has(self.volume) && (has(self.bucket) || has(self.keyPrefix)))',
        message: volumeWithBucketRefusal,
      },
    ],
  })
  .describe('Where the file is stored: a bucket of object storage (the default), or a volume.');

/** The longest URL a client may write through the API. */
export const maxUrlLength = 2048;
/**
 * The longest URL a spec keeps: the canonical form of one of maxUrlLength
 * characters is longer (a trailing /, percent-encoding: three times at most
 * for the ASCII URLs RFC 3986 allows).
 */
export const maxCanonicalUrlLength = 8192;

/**
 * A URL checked as written (at most maxLength characters), then replaced by
 * the WHATWG parser's canonical form (href), so what the API checks is what
 * it stores and yt-dlp is given.
 */
export function urlField(
  maxLength: number,
  {
    path = 'spec.url',
    name = 'url',
    description = 'The page or media URL to download, http or https, without backslashes or control characters.',
  } = {},
) {
  return z
    .string()
    .max(maxLength)
    .regex(new RegExp(urlCharactersPattern), {
      error: `${name} must not contain backslashes or control characters`,
    })
    .url({
      protocol: new RegExp(`^(${urlSchemes.join('|')})$`),
      normalize: true,
      error: urlRefusal.replace(/^url/, name),
    })
    .max(maxCanonicalUrlLength, {
      error: `${name} is longer than ${maxCanonicalUrlLength} characters once encoded`,
    })
    .meta({
      description,
      // The API server's own check of what the .url() above checks (crds/url-rule.ts).
      'x-kubernetes-validations': [urlValidationFor(path)],
    });
}

/** Only Secrets named so can sign a download's notifications: a download cannot make the operator use the namespace's other Secrets. */
export const notifySecretPrefix = 'vdl-webhook-';

export const NotifySpec = z
  .strictObject({
    url: urlField(maxCanonicalUrlLength, {
      path: 'spec.notify.url',
      name: 'notify.url',
      description:
        'Where the operator POSTs the completion event, http or https, without backslashes or control characters.',
    }),
    secretRef: z
      .strictObject({
        name: z
          .string()
          .max(253)
          .regex(new RegExp(`^${notifySecretPrefix}[a-z0-9]([-a-z0-9.]*[a-z0-9])?$`))
          .describe(
            `Secret in the download's namespace holding the signing key; its name must start with ${notifySecretPrefix}.`,
          ),
        key: z
          .string()
          .max(253)
          .regex(/^[-._a-zA-Z0-9]+$/)
          .default('secret')
          .describe('The key of the Secret that holds the signing key: whsec_ and base64, or the raw key.'),
      })
      .describe('The Secret whose key signs each event (Standard Webhooks: webhook-signature, HMAC-SHA256).'),
  })
  .describe(
    'A webhook (url) to tell when the download succeeded or failed: one signed JSON event, retried with backoff until delivered or the attempts run out. Internal addresses are refused unless the operator allows them (VDL_WEBHOOK_ALLOW).',
  );

/** What the fields of a spec hold, each checked alone; VideoDownloadSpec adds the checks across fields. */
export const VideoDownloadSpecFields = z
  .strictObject({
    url: urlField(maxCanonicalUrlLength),
    format: FormatSpec.prefault({}),
    audio: AudioSpec.prefault({}),
    subtitles: SubtitlesSpec.prefault({}),
    output: OutputSpec.prefault({}),
    limits: LimitsSpec.optional(),
    retries: z
      .int()
      .min(0)
      .max(10)
      .default(2)
      .describe("How many times a transient failure is retried (the Job's backoffLimit)."),
    ttlSecondsAfterFinished: z
      .int()
      .min(0)
      .max(maxTtlSeconds, { error: `ttlSecondsAfterFinished must be at most ${maxTtlSeconds} (30 days)` })
      .optional()
      .describe(
        'Delete this VideoDownload (and, per the deletion policy, its file) this long after it finished; at most 30 days.',
      ),
    storage: StorageSpec.prefault({}),
    cookies: CookiesSpec.optional(),
    live: z
      .boolean()
      .default(false)
      .describe(
        'Record a live stream, until it ends, the deadline or the size limit. False refuses live streams (reason LiveStream): they have no end to wait for.',
      ),
    notify: NotifySpec.optional(),
    embed: EmbedSpec.prefault({}),
    clip: ClipSpec.optional(),
    sponsorBlock: SponsorBlockSpec.optional(),
  })
  .describe('What to download and how. Immutable once the download started.');

/** The fields the checks across a spec read (the API's request has them too). */
interface CrossFieldView {
  embed: { thumbnail: boolean };
  output: { container?: string | undefined };
  audio: { extract: boolean; format: string };
}

/**
 * Checks across fields, each in zod (for the API's message) and in CEL (the
 * API server's own check, crds/crd.ts; defaults are applied before CEL runs).
 */
export const crossFieldRules: Array<{
  holds: (spec: CrossFieldView) => boolean;
  path: string[];
  message: string;
  rule: string;
}> = [
  {
    holds: (spec) => !(spec.embed.thumbnail && spec.output.container === 'webm'),
    path: ['embed', 'thumbnail'],
    message: thumbnailRefusal,
    rule: "!(self.embed.thumbnail && has(self.output.container) && self.output.container == 'webm')",
  },
  {
    holds: (spec) =>
      !(
        spec.embed.thumbnail &&
        spec.audio.extract &&
        (thumbnaillessAudioFormats as readonly string[]).includes(spec.audio.format)
      ),
    path: ['embed', 'thumbnail'],
    message: thumbnailAudioRefusal,
    rule: `!(self.embed.thumbnail && self.audio.extract && self.audio.format in [${thumbnaillessAudioFormats.map((f) => `'${f}'`).join(', ')}])`,
  },
];

/** The schema with the checks across its fields; the API's request schema gets them the same way. */
export function withCrossFieldRules<T extends z.ZodType<CrossFieldView>>(schema: T) {
  return schema.superRefine((spec, context) => {
    for (const { holds, path, message } of crossFieldRules)
      if (!holds(spec)) context.addIssue({ code: 'custom', path, message });
  });
}

export const VideoDownloadSpec = withCrossFieldRules(VideoDownloadSpecFields);

const timestamp = z.iso.datetime();
/** A metadata.generation something was done for. */
const generation = z.int().min(0);

/** A time as Kubernetes writes it in status: RFC 3339 in UTC, whole seconds. */
export function kubernetesTime(value: Date | string | number): string {
  return new Date(value).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

export const Condition = z
  .object({
    type: z
      .string()
      .max(316)
      .describe('Type of the condition: Ready, Reconciling, Stalled, Complete or Failed.'),
    status: z.enum(['True', 'False', 'Unknown']).describe('True, False or Unknown.'),
    observedGeneration: generation.optional().describe('The metadata.generation this condition was set for.'),
    lastTransitionTime: timestamp.describe('When the status last changed.'),
    reason: z
      .string()
      .min(1)
      .max(1024)
      .regex(/^[A-Za-z]([A-Za-z0-9_,:]*[A-Za-z0-9_])?$/)
      .describe('CamelCase reason for the last transition.'),
    message: z.string().max(32_768).describe('Human-readable details of the last transition.'),
  })
  .describe('A standard Kubernetes condition (metav1.Condition).');

export const VolumeResult = z
  .object({
    claimName: z.string().min(1).max(253).describe('The PersistentVolumeClaim holding the file.'),
    path: z.string().min(1).max(4096).describe("The file's path under the volume's root."),
    createdFolders: z
      .int()
      .min(0)
      .max(256)
      .optional()
      .describe(
        'How many folders, from the file up, the download made for it; deleting the download removes only those, once empty.',
      ),
    preexisting: z
      .boolean()
      .optional()
      .describe(
        'The same bytes were at the path before this download: the file is not its own, so deleting the download never removes it.',
      ),
  })
  .describe('Where on a volume the file was written (storage.volume).');

export const Result = z
  .object({
    bucket: z.string().min(1).max(63).optional().describe('Bucket holding the file (object storage).'),
    key: z.string().min(1).max(1024).optional().describe('Object key of the file (object storage).'),
    volume: VolumeResult.optional(),
    filename: z.string().max(1024).optional().describe('File name to offer on download.'),
    size: z.int().min(0).describe('Size in bytes.'),
    sha256: z
      .string()
      .regex(/^[a-f0-9]{64}$/)
      .describe('SHA-256 of the stored bytes, hex.'),
    contentType: z.string().max(255).describe('MIME type of the file.'),
    title: z.string().max(1024).optional().describe('Title of the video.'),
    durationSeconds: z.number().min(0).optional().describe('Duration of the media in seconds.'),
    infoKey: z
      .string()
      .max(1024)
      .optional()
      .describe('Object key of the yt-dlp info JSON stored beside the file.'),
  })
  .refine(
    (result) => (result.volume === undefined) === (result.bucket !== undefined && result.key !== undefined),
    {
      message: 'a result names either a bucket and key or a volume',
    },
  )
  .meta({
    'x-kubernetes-validations': [
      {
        rule: 'has(self.volume) ? !has(self.bucket) && !has(self.key) : has(self.bucket) && has(self.key)',
        message: 'a result names either a bucket and key or a volume',
      },
    ],
  })
  .describe('The stored file, once the download succeeded: an object, or a file on a volume.');

export const Progress = z
  .object({
    stage: z.enum(stages).optional().describe('What the download is doing now.'),
    percent: z.number().min(0).max(100).optional().describe('Overall progress, 0 to 100, over all streams.'),
    downloadedBytes: z
      .int()
      .min(0)
      .optional()
      .describe('Bytes downloaded (or uploaded, in the uploading stage).'),
    totalBytes: z.int().min(0).optional().describe('Expected total bytes, when known.'),
    speedBytesPerSecond: z.number().min(0).optional().describe('Current transfer speed.'),
    etaSeconds: z.int().min(0).optional().describe('Estimated seconds left in this stage.'),
    title: z.string().max(1024).optional().describe('Title of the video, once known.'),
    updatedAt: timestamp.optional().describe('When the downloader last reported progress.'),
    result: Result.optional().describe(
      'The stored file as the download pod reports it with stage done; the operator checks it against storage before it becomes status.result.',
    ),
  })
  .describe('Live progress, written by the download pod about once a second.');

export const notificationStates = ['Retrying', 'Delivered', 'Failed'] as const;

export const NotificationStatus = z
  .object({
    state: z
      .enum(notificationStates)
      .describe(
        'Retrying (not yet delivered, another attempt at nextAttemptAt), Delivered, or Failed (given up).',
      ),
    attempts: z.int().min(0).describe('How many times the event was sent.'),
    lastError: z.string().max(1024).optional().describe('Why the last attempt failed.'),
    deliveredAt: timestamp.optional().describe('When the receiver accepted the event (a 2xx answer).'),
    nextAttemptAt: timestamp.optional().describe('When the next attempt is due, while Retrying.'),
  })
  .describe("Delivery of the completion event to spec.notify's url, written by the operator.");

export const ArchiveStatus = z
  .object({
    state: z
      .enum(['Archived', 'Failing'])
      .describe(
        'Failing: the archive (PostgreSQL) could not be written; retried until it can. Archived: written since.',
      ),
    reason: z.string().max(1024).optional().describe('Why the last write failed.'),
    message: z.string().max(32_768).optional().describe('What the database said, without credentials.'),
    since: timestamp.optional().describe('When the state began.'),
  })
  .describe(
    "The archiver's record, written only when archiving this download failed (and once when it then succeeded): the Archived condition follows from it.",
  );

export const VideoDownloadStatus = z
  .object({
    phase: z
      .enum(phases)
      .optional()
      .describe(
        'Pending (accepted, starting), Queued (waiting for a free slot), Running, Succeeded or Failed.',
      ),
    progress: Progress.optional(),
    conditions: z
      .array(Condition)
      .max(8)
      .optional()
      .meta({
        description:
          "Ready (the file is stored), Reconciling (queued or running) and Stalled (failed for good), as kstatus and GitOps tools read them; Complete and Failed like a Job's, so kubectl wait --for=condition=Complete works; Archived once archiving it failed (False) and then worked (True).",
        'x-kubernetes-list-type': 'map',
        'x-kubernetes-list-map-keys': ['type'],
      }),
    jobName: z.string().max(63).optional().describe('Name of the Job running this download.'),
    attempts: z
      .int()
      .min(0)
      .optional()
      .describe("How many attempts (pods) the download's Job has made, counting the one starting."),
    startTime: timestamp.optional().describe('When the download left the queue.'),
    completionTime: timestamp.optional().describe('When the download succeeded or failed.'),
    observedGeneration: generation.optional().describe('The metadata.generation the operator last acted on.'),
    result: Result.optional(),
    reason: z
      .string()
      .max(1024)
      .optional()
      .describe('CamelCase reason of a failure, or why a download went back to Queued (Interrupted).'),
    message: z
      .string()
      .max(32_768)
      .optional()
      .describe('Human-readable message of a failure, or of why a download went back to Queued.'),
    notification: NotificationStatus.optional(),
    archive: ArchiveStatus.optional(),
  })
  .describe('What the operator and the download pod observed. Written only by them.');

export type VideoDownloadSpec = z.output<typeof VideoDownloadSpec>;
export type VideoDownloadSpecInput = z.input<typeof VideoDownloadSpec>;
export type VideoDownloadStatus = z.output<typeof VideoDownloadStatus>;
export type Condition = z.output<typeof Condition>;
export type Progress = z.output<typeof Progress>;
export type Result = z.output<typeof Result>;
export type NotifySpec = z.output<typeof NotifySpec>;
export type VolumeSpec = z.output<typeof VolumeSpec>;
export type VolumeResult = z.output<typeof VolumeResult>;
export type NotificationStatus = z.output<typeof NotificationStatus>;
export type ArchiveStatus = z.output<typeof ArchiveStatus>;
export type Phase = (typeof phases)[number];

export interface ObjectMeta {
  name?: string;
  namespace?: string;
  uid?: string;
  generation?: number;
  resourceVersion?: string;
  creationTimestamp?: string;
  deletionTimestamp?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  finalizers?: string[];
}

/** A VideoDownload as the API server returns it: spec defaults applied, status written by vdl. */
export interface VideoDownload {
  apiVersion: typeof apiVersion;
  kind: typeof kind;
  metadata: ObjectMeta;
  spec: VideoDownloadSpec;
  status?: VideoDownloadStatus;
}

/** Labels vdl puts on what it creates, and reads to tell owners apart. */
export const labels = {
  download: 'vdl.dev/download',
  owner: 'vdl.dev/owner',
  managedBy: 'app.kubernetes.io/managed-by',
  component: 'app.kubernetes.io/component',
} as const;

export const finalizers = {
  storedObject: 'vdl.dev/stored-object',
} as const;
