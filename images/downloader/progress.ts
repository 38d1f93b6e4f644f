// One overall progress figure for a download, from yt-dlp's machine-readable
// lines and ffmpeg's progress file. Separate video and audio streams are one
// percentage weighted by size (the peers show a bar per stream that sticks at
// 100%); then post-processing (merging, converting) by ffmpeg's position in
// the media, then uploading by bytes sent. The figure never goes backwards.
// Pure: lines in, state out.
import { printableText } from '../../crds/status-text.ts';
import { kubernetesTime, Progress } from '../../crds/video-download.ts';
import { donePrefix, planPrefix, postprocessPrefix, progressPrefix } from './yt-dlp-args.ts';

// Share of the bar for each stage: downloading fills most of it.
const downloadShare = 90;
const postprocessShare = 5;

export type Stage = NonNullable<Progress['stage']>;

/** A page's title as status holds it: printable and no longer than the schema allows (a page may send any). */
export const maxTitleLength = Progress.shape.title.unwrap().maxLength ?? 1024;
function titleOf(title: string | undefined): string | undefined {
  return title === undefined ? undefined : printableText(title, maxTitleLength) || undefined;
}

export interface ProgressState {
  stage: Stage;
  percent: number;
  downloadedBytes?: number;
  totalBytes?: number;
  speedBytesPerSecond?: number;
  etaSeconds?: number;
  title?: string;
  /** Streams of the chosen format, their planned total size and the media's duration when yt-dlp knows them. */
  plan?: { streams: string[]; size?: number; duration?: number; protocol?: string; ext?: string };
  /** The post-processor at work (yt-dlp's name, such as Merger or ExtractAudio). */
  postprocessor?: string;
  /** Finished streams' sizes by format id, and the one in progress. */
  finished: Record<string, number>;
  current?: { format: string; downloaded: number; total?: number };
  done?: { file: string; title?: string; duration?: number; ext?: string };
}

export type ProgressLine =
  | {
      kind: 'download';
      status: string;
      downloaded?: number;
      total?: number;
      estimate?: number;
      speed?: number;
      eta?: number;
      format?: string;
      /** The file yt-dlp writes the stream to while it downloads. */
      tmpfile?: string;
    }
  | { kind: 'postprocess'; status: string; postprocessor?: string }
  | {
      kind: 'plan';
      format: string;
      size?: number;
      title?: string;
      duration?: number;
      protocol?: string;
      ext?: string;
    }
  | { kind: 'done'; file: string; title?: string; duration?: number; ext?: string };

export function initialProgress(): ProgressState {
  return { stage: 'starting', percent: 0, finished: {} };
}

/** yt-dlp writes NA for a missing field even inside a JSON template. */
function parseTemplateJson(text: string): Record<string, unknown> | undefined {
  try {
    return JSON.parse(text.replace(/:NA(?=[,}])/g, ':null')) as Record<string, unknown>;
  } catch {
    return undefined;
  }
}

const numberOrUndefined = (value: unknown) =>
  typeof value === 'number' && Number.isFinite(value) ? value : undefined;
const stringOrUndefined = (value: unknown) => (typeof value === 'string' ? value : undefined);

export function parseLine(line: string): ProgressLine | undefined {
  const prefixes = [
    [progressPrefix, 'download'],
    [postprocessPrefix, 'postprocess'],
    [planPrefix, 'plan'],
    [donePrefix, 'done'],
  ] as const;
  const found = prefixes.find(([prefix]) => line.startsWith(prefix));
  if (!found) return undefined;
  const data = parseTemplateJson(line.slice(found[0].length));
  if (!data) return undefined;
  switch (found[1]) {
    case 'download':
      return {
        kind: 'download',
        status: String(data.status),
        downloaded: numberOrUndefined(data.downloaded),
        total: numberOrUndefined(data.total),
        estimate: numberOrUndefined(data.estimate),
        speed: numberOrUndefined(data.speed),
        eta: numberOrUndefined(data.eta),
        format: stringOrUndefined(data.format),
        tmpfile: stringOrUndefined(data.tmpfile),
      };
    case 'postprocess':
      return {
        kind: 'postprocess',
        status: String(data.status),
        postprocessor: stringOrUndefined(data.postprocessor),
      };
    case 'plan':
      return {
        kind: 'plan',
        format: String(data.format),
        size: numberOrUndefined(data.size),
        title: stringOrUndefined(data.title),
        duration: numberOrUndefined(data.duration),
        protocol: stringOrUndefined(data.protocol),
        ext: stringOrUndefined(data.ext),
      };
    case 'done':
      return {
        kind: 'done',
        file: String(data.file),
        title: stringOrUndefined(data.title),
        duration: numberOrUndefined(data.duration),
        ext: stringOrUndefined(data.ext),
      };
  }
}

function downloadFraction(state: ProgressState): number {
  const streams = state.plan?.streams ?? [];
  const finishedBytes = Object.values(state.finished).reduce((sum, n) => sum + n, 0);
  const current = state.current;
  const currentDone = current && !(current.format in state.finished) ? current.downloaded : 0;
  if (state.plan?.size && state.plan.size > 0) {
    return Math.min(1, (finishedBytes + currentDone) / state.plan.size);
  }
  // Sizes unknown in advance: each stream counts as an equal share.
  const count = Math.max(streams.length, Object.keys(state.finished).length + (current ? 1 : 0), 1);
  const currentShare = current?.total ? Math.min(1, current.downloaded / current.total) : 0;
  const doneStreams = Object.keys(state.finished).length;
  return Math.min(
    1,
    (doneStreams + (current && !(current.format in state.finished) ? currentShare : 0)) / count,
  );
}

/** The state after one line of yt-dlp output. */
export function advance(state: ProgressState, line: ProgressLine): ProgressState {
  const next: ProgressState = { ...state, finished: { ...state.finished } };
  switch (line.kind) {
    case 'plan':
      next.plan = {
        streams: line.format.split('+'),
        size: line.size,
        duration: line.duration,
        protocol: line.protocol,
        ext: line.ext,
      };
      next.title = titleOf(line.title) ?? next.title;
      break;
    case 'download': {
      const format = line.format ?? 'unknown';
      const total = line.total ?? line.estimate;
      next.stage = 'downloading';
      next.current = { format, downloaded: line.downloaded ?? 0, total };
      if (line.status === 'finished') next.finished[format] = line.downloaded ?? total ?? 0;
      next.percent = Math.max(state.percent, downloadFraction(next) * downloadShare);
      next.downloadedBytes =
        Object.values(next.finished).reduce((s, n) => s + n, 0) +
        (format in next.finished ? 0 : (line.downloaded ?? 0));
      next.totalBytes =
        next.plan?.size ??
        (total !== undefined
          ? Object.entries(next.finished)
              .filter(([f]) => f !== format)
              .reduce((s, [, n]) => s + n, 0) + total
          : undefined);
      next.speedBytesPerSecond = line.speed;
      next.etaSeconds = line.eta !== undefined ? Math.round(line.eta) : undefined;
      break;
    }
    case 'postprocess':
      // MoveFiles is bookkeeping, not work a person waits for.
      if (line.postprocessor !== 'MoveFiles') {
        next.stage = 'merging';
        next.postprocessor = line.postprocessor;
        next.percent = Math.max(state.percent, downloadShare);
        next.speedBytesPerSecond = undefined;
        next.etaSeconds = undefined;
      }
      break;
    case 'done':
      next.done = { file: line.file, title: titleOf(line.title), duration: line.duration, ext: line.ext };
      next.title = titleOf(line.title) ?? next.title;
      next.percent = Math.max(state.percent, downloadShare + postprocessShare);
      break;
  }
  return next;
}

/** The last block of an ffmpeg `-progress` file: where in the media it is. */
export interface FfmpegProgress {
  /** Seconds of media written so far. */
  outSeconds?: number;
  /** Bytes written so far. */
  totalSize?: number;
  /** Media seconds per wall-clock second (ffmpeg's "speed=12.3x"). */
  speed?: number;
  ended: boolean;
}

/** Reads ffmpeg's key=value progress blocks (each ends with progress=continue or progress=end); the last complete one counts. */
export function parseFfmpegProgress(text: string): FfmpegProgress | undefined {
  const blocks = text.split(/^progress=(continue|end)[ \t]*$/m);
  // split with a capture group: [block, marker, block, marker, ..., rest]
  if (blocks.length < 3) return undefined;
  const block = blocks[blocks.length - 3] as string;
  const ended = blocks[blocks.length - 2] === 'end';
  const values = new Map<string, string>();
  for (const line of block.split('\n')) {
    const at = line.indexOf('=');
    if (at > 0) values.set(line.slice(0, at).trim(), line.slice(at + 1).trim());
  }
  const number = (key: string, scale = 1) => {
    const value = Number.parseFloat(values.get(key) ?? '');
    return Number.isFinite(value) && value >= 0 ? value * scale : undefined;
  };
  return {
    outSeconds: number('out_time_us', 1e-6),
    totalSize: number('total_size'),
    speed: number('speed'),
    ended,
  };
}

/**
 * Post-processing progress from ffmpeg's file: the position in the media over
 * its duration; without a duration, a merge (a copy of the streams) by bytes
 * written over bytes downloaded. Nothing else is a guess worth showing.
 */
export function postprocessing(state: ProgressState, ffmpeg: FfmpegProgress): ProgressState {
  if (state.stage !== 'merging') return state;
  const duration = state.plan?.duration;
  let fraction: number | undefined;
  if (ffmpeg.ended) fraction = 1;
  else if (duration && ffmpeg.outSeconds !== undefined) fraction = ffmpeg.outSeconds / duration;
  else if (state.postprocessor === 'Merger' && state.downloadedBytes && ffmpeg.totalSize !== undefined)
    fraction = ffmpeg.totalSize / state.downloadedBytes;
  if (fraction === undefined) return state;
  const remaining =
    !ffmpeg.ended && duration && ffmpeg.outSeconds !== undefined && ffmpeg.speed
      ? Math.max(0, Math.round((duration - ffmpeg.outSeconds) / ffmpeg.speed))
      : undefined;
  return {
    ...state,
    percent: Math.max(state.percent, downloadShare + Math.min(1, fraction) * postprocessShare),
    etaSeconds: remaining,
  };
}

/** Upload progress: the last share of the bar, by bytes sent. */
export function uploading(state: ProgressState, sent: number, total: number, speed?: number): ProgressState {
  const fraction = total > 0 ? Math.min(1, sent / total) : 1;
  return {
    ...state,
    stage: 'uploading',
    percent: Math.max(
      state.percent,
      downloadShare + postprocessShare + fraction * (100 - downloadShare - postprocessShare),
    ),
    downloadedBytes: sent,
    totalBytes: total,
    speedBytesPerSecond: speed,
    etaSeconds: speed && speed > 0 ? Math.round((total - sent) / speed) : undefined,
  };
}

/** What goes into status.progress. */
export function toStatusProgress(state: ProgressState, now: Date): Progress {
  return {
    stage: state.stage,
    percent: Math.round(state.percent * 10) / 10,
    downloadedBytes: state.downloadedBytes !== undefined ? Math.round(state.downloadedBytes) : undefined,
    totalBytes: state.totalBytes !== undefined ? Math.round(state.totalBytes) : undefined,
    speedBytesPerSecond:
      state.speedBytesPerSecond !== undefined ? Math.round(state.speedBytesPerSecond) : undefined,
    etaSeconds: state.etaSeconds,
    title: state.title,
    updatedAt: kubernetesTime(now),
  };
}
