// Why a download failed, and whether trying again could help. The exit code
// tells the Job: permanentFailureExitCode fails it at once (its pod failure
// policy), 1 lets it retry.

import type { DownloadFailure } from '../../crds/termination-message.ts';
import { permanentFailureExitCode } from '../../crds/video-download.ts';

export interface ClassifiedFailure extends DownloadFailure {
  permanent: boolean;
}

export const transientExitCode = 1;

export function exitCodeFor(failure: ClassifiedFailure): number {
  return failure.permanent ? permanentFailureExitCode : transientExitCode;
}

const rules: Array<{ pattern: RegExp; reason: string; permanent: boolean; message?: string }> = [
  // yt-dlp skips what --match-filter refuses and exits 0 without a file.
  {
    pattern: /does not pass filter \(!is_live\)/,
    reason: 'LiveStream',
    permanent: true,
    message: 'the URL is a live stream; set spec.live to true to record it',
  },
  { pattern: /Unsupported URL/i, reason: 'UnsupportedURL', permanent: true },
  { pattern: /HTTP Error (404|410)/i, reason: 'NotFound', permanent: true },
  {
    pattern: /(private video|video is private|members[- ]only|sign in to confirm your age)/i,
    reason: 'VideoPrivate',
    permanent: true,
  },
  {
    pattern: /(video unavailable|has been removed|no longer available|account .* terminated)/i,
    reason: 'VideoUnavailable',
    permanent: true,
  },
  { pattern: /larger than max-filesize/i, reason: 'FileTooLarge', permanent: true },
  { pattern: /Requested format is not available/i, reason: 'FormatUnavailable', permanent: true },
  // The cookies Secret holds something else: no retry will fix it.
  {
    pattern: /does not look like a Netscape format cookies file/i,
    reason: 'InvalidCookies',
    permanent: true,
  },
  // Asked for a cover the file's container cannot hold (the schema refuses what it can tell in advance).
  {
    pattern: /Supported filetypes for thumbnail embedding are/i,
    reason: 'ThumbnailNotEmbeddable',
    permanent: true,
    message:
      "the downloaded file's container cannot hold a thumbnail: set output.container to mp4 or mkv, or embed.thumbnail to false",
  },
  // yt-dlp asks before it fetches the video (and would fetch it anyway); stopsAtOnce stops it
  // there, so a retry once the service is back costs little.
  {
    pattern: /Unable to communicate with SponsorBlock API/i,
    reason: 'SponsorBlockUnavailable',
    permanent: false,
  },
  {
    pattern: /(HTTP Error 5\d\d|timed out|Connection reset|Temporary failure|Unable to download)/i,
    reason: 'DownloadFailed',
    permanent: false,
  },
];

/** The last ERROR line of yt-dlp, without its prefix; the whole tail when there is none. */
export function errorLine(stderr: string): string {
  const lines = stderr
    .split('\n')
    .map((line) => line.trim())
    .filter(Boolean);
  const error = [...lines].reverse().find((line) => line.startsWith('ERROR:'));
  return (error ?? lines.at(-1) ?? 'yt-dlp failed without a message').replace(/^ERROR:\s*/, '').slice(0, 500);
}

/** Classifies a yt-dlp failure from its output and the egress proxy's refusals. */
export function classifyFailure(output: string, refusals: string[]): ClassifiedFailure {
  if (refusals.length > 0) {
    return {
      reason: 'ForbiddenAddress',
      message: refusals[0]?.slice(0, 500) ?? 'forbidden address',
      permanent: true,
    };
  }
  const message = errorLine(output);
  for (const rule of rules) {
    if (rule.pattern.test(output))
      return { reason: rule.reason, message: rule.message ?? message, permanent: rule.permanent };
  }
  return { reason: 'DownloadFailed', message, permanent: false };
}

/**
 * Whether a line of yt-dlp's output is an error after which it goes on
 * downloading only to exit 1 at the end: a step run before the download
 * (SponsorBlock's lookup) failed. The downloader stops yt-dlp there rather
 * than fetch a file that cannot be stored.
 */
export function stopsAtOnce(line: string): boolean {
  return /^ERROR: Preprocessing:/.test(line);
}
