// When the file yt-dlp is writing may be uploaded while it grows, and when
// the parts sent that way may be completed into the stored object. Pure: the
// tail uploader (tail-upload.ts) and download.ts ask, this answers.
//
// Only a file written once from start to end can be sent as it grows. Which
// outputs are: a single stream fetched by yt-dlp's own HTTP or HLS/DASH
// fragment downloader, kept as it was fetched. Which are not: anything ffmpeg
// writes (a merge of separate streams, a converted or remuxed file, embedded
// subtitles, embedded tags or cover art, a clip, a live recording), since its MP4, Matroska and WebM muxers seek
// back to fill in the index and durations at the end; those files are
// uploaded after they are finished, as before.
import type { VideoDownloadSpec } from '../../crds/video-download.ts';

/** yt-dlp's downloaders that only ever append to their output. */
const appendingProtocols = new Set(['http', 'https', 'm3u8_native', 'http_dash_segments']);

export type Streamability = { streamable: true } | { streamable: false; why: string };

/** Whether the output of this spec, with this chosen format (the plan yt-dlp printed), is written once from start to end. */
export function streamability(
  spec: VideoDownloadSpec,
  plan: { format: string; protocol?: string } | undefined,
): Streamability {
  const not = (why: string): Streamability => ({ streamable: false, why });
  if (spec.live) return not('a live stream is recorded by ffmpeg, which seeks back in its output');
  if (spec.audio.extract) return not('the audio is converted by ffmpeg after the download');
  if (spec.output.container)
    return not(`the file is remuxed into ${spec.output.container} after the download`);
  if (spec.subtitles.embed && spec.subtitles.languages.length > 0)
    return not('subtitles are embedded by ffmpeg after the download');
  const { metadata, thumbnail, chapters } = spec.embed;
  if (metadata || thumbnail || chapters)
    return not('ffmpeg embeds tags, cover art or chapters after the download, writing a new file');
  if (spec.clip) return not("the clip is cut by ffmpeg's downloader, whose muxer seeks back");
  if (spec.sponsorBlock) return not('SponsorBlock segments are cut or marked by ffmpeg after the download');
  if (!plan) return not('yt-dlp printed no plan of the format it chose');
  if (plan.format.includes('+')) return not('separate streams are merged by ffmpeg after the download');
  if (!plan.protocol || !appendingProtocols.has(plan.protocol))
    return not(`the ${plan.protocol ?? 'unknown'} downloader may rewrite its output`);
  return { streamable: true };
}

/**
 * yt-dlp's words when it fetches part of a file again: a retry may resume
 * (append) or, when the server ignores the range, start the file over in
 * place; which one it was is not worth guessing.
 */
const refetchWords = /\bRetrying\b|Unable to resume|\bGot error\b/i;

/** Whether a line of yt-dlp's output says a transfer was retried or restarted. */
export function saysRefetched(line: string): boolean {
  return refetchWords.test(line);
}

/** The identity of a file on disk: a rewrite into a new file and a rename over it changes it. */
export interface FileIdentity {
  dev: number;
  ino: number;
}

export interface TailFacts {
  /** The file that was followed, as it was opened. */
  followed: FileIdentity;
  /** The finished file yt-dlp reported. */
  final: FileIdentity & { size: number };
  /** Bytes already sent and hashed. */
  sent: number;
  /** Why following stopped before the end, if it did. */
  abandoned?: string;
  /** yt-dlp retried or restarted a transfer while it was followed. */
  refetched: boolean;
}

export type TailVerdict = { complete: true } | { complete: false; why: string };

/**
 * Whether the bytes sent while the file grew are the finished file's first
 * bytes, so only its rest needs sending. Any doubt sends the whole file
 * again (over the same part numbers): a slower upload, never a wrong object.
 */
export function tailVerdict(facts: TailFacts): TailVerdict {
  const not = (why: string): TailVerdict => ({ complete: false, why });
  if (facts.abandoned) return not(facts.abandoned);
  if (facts.refetched) return not('yt-dlp fetched part of the file again, which may have rewritten it');
  if (facts.final.dev !== facts.followed.dev || facts.final.ino !== facts.followed.ino)
    return not('the finished file is another file than the one followed (rewritten after the download)');
  if (facts.final.size < facts.sent) return not('the finished file is shorter than the bytes already sent');
  return { complete: true };
}
