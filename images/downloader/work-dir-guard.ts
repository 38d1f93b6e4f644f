// Bounds what yt-dlp may leave in the work dir while it runs: --max-filesize
// holds only where a server sends Content-Length, so chunked responses,
// HLS/DASH fragments and live streams are measured on disk instead, and one
// download is one entry, never a playlist's worth. The decisions are pure;
// the watcher polls the disk and says when to stop.
import { lstat, readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { workDirSlackBytes } from '../../crds/work-dir.ts';
import { parseLine, type Stage } from './progress.ts';

export interface Violation {
  reason: 'FileTooLarge' | 'TooManyEntries';
  message: string;
}

/**
 * Bytes the work dir may hold now. Until the streams are merged it holds
 * at most the file's parts (the size limit plus the slack); a merge writes
 * the file a second time, up to the whole bound.
 */
export function allowedBytes(stage: Stage, maxFileSize: number, workDirLimit: number): number {
  const downloading = stage === 'starting' || stage === 'downloading' || stage === 'queued';
  return downloading ? Math.min(maxFileSize + workDirSlackBytes, workDirLimit) : workDirLimit;
}

export function sizeViolation(size: number, allowed: number, maxFileSize: number): Violation | undefined {
  if (size <= allowed) return undefined;
  return {
    reason: 'FileTooLarge',
    message: `the download grew past ${allowed} bytes on disk (the limit is ${maxFileSize} bytes per file) and was stopped`,
  };
}

/** yt-dlp prints one plan line per entry it starts; a second one is a playlist getting through. */
export function entryViolation(eventsText: string): Violation | undefined {
  const entries = eventsText.split('\n').filter((line) => parseLine(line)?.kind === 'plan').length;
  if (entries <= 1) return undefined;
  return {
    reason: 'TooManyEntries',
    message: `the URL has ${entries} or more entries (a playlist or channel); a download takes one video, give its own URL`,
  };
}

/** Bytes of the files under dir, as they are while yt-dlp writes and removes them. */
export async function directorySize(dir: string): Promise<number> {
  let entries: import('node:fs').Dirent[];
  try {
    entries = await readdir(dir, { withFileTypes: true });
  } catch {
    return 0;
  }
  let total = 0;
  for (const entry of entries) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) total += await directorySize(path);
    else
      total += await lstat(path).then(
        (s) => s.size,
        () => 0,
      );
  }
  return total;
}

export interface WorkDirGuard {
  /** The first violation seen, once the guard tripped. */
  readonly violation: Violation | undefined;
  /** The largest size measured, for logs and tests. */
  readonly largestBytes: number;
  stop(): void;
}

export function guardWorkDir(options: {
  workDir: string;
  eventsFile: string;
  /** The allowance now (it grows once the streams are merged). */
  allowed: () => number;
  maxFileSize: number;
  onViolation: (violation: Violation) => void;
  intervalMs?: number;
}): WorkDirGuard {
  let violation: Violation | undefined;
  let largestBytes = 0;
  let checking = false;
  const check = async () => {
    if (checking || violation) return;
    checking = true;
    try {
      const size = await directorySize(options.workDir);
      largestBytes = Math.max(largestBytes, size);
      const found =
        sizeViolation(size, options.allowed(), options.maxFileSize) ??
        entryViolation(await readFile(options.eventsFile, 'utf8').catch(() => ''));
      if (found && !violation) {
        violation = found;
        clearInterval(timer);
        options.onViolation(found);
      }
    } finally {
      checking = false;
    }
  };
  const timer = setInterval(() => void check(), options.intervalMs ?? 200);
  return {
    get violation() {
      return violation;
    },
    get largestBytes() {
      return largestBytes;
    },
    stop() {
      clearInterval(timer);
    },
  };
}
