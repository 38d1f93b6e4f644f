// One overall progress figure for a download, from yt-dlp's machine-readable
// lines. Separate video and audio streams are one percentage weighted by
// size (the peers show a bar per stream that sticks at 100%); then
// post-processing (merging), then uploading by bytes sent. The figure never
// goes backwards. Pure: lines in, state out.
import { kubernetesTime, type Progress } from '../../crds/video-download.ts';
import { donePrefix, planPrefix, postprocessPrefix, progressPrefix } from './yt-dlp-args.ts';

// Share of the bar for each stage: downloading fills most of it.
const downloadShare = 90;
const postprocessShare = 5;

export type Stage = NonNullable<Progress['stage']>;

export interface ProgressState {
  stage: Stage;
  percent: number;
  downloadedBytes?: number;
  totalBytes?: number;
  speedBytesPerSecond?: number;
  etaSeconds?: number;
  title?: string;
  /** Streams of the chosen format, their planned total size when yt-dlp knows it. */
  plan?: { streams: string[]; size?: number };
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
    }
  | { kind: 'postprocess'; status: string; postprocessor?: string }
  | { kind: 'plan'; format: string; size?: number; title?: string }
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
      next.plan = { streams: line.format.split('+'), size: line.size };
      next.title = line.title ?? next.title;
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
        next.percent = Math.max(state.percent, downloadShare);
        next.speedBytesPerSecond = undefined;
        next.etaSeconds = undefined;
      }
      break;
    case 'done':
      next.done = { file: line.file, title: line.title, duration: line.duration, ext: line.ext };
      next.title = line.title ?? next.title;
      next.percent = Math.max(state.percent, downloadShare + postprocessShare);
      break;
  }
  return next;
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
