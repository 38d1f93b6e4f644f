// Writes status.progress of this download's own VideoDownload, at most about
// once a second and on every change of stage, whatever the size of the file.
// The pod's token can patch VideoDownload status and nothing else.
import type { Progress } from '../../crds/video-download.ts';

/** Pure: should this update be written now? */
export function shouldReport(
  last: { at: number; stage: string } | undefined,
  next: { at: number; stage: string },
  intervalMs = 1000,
): boolean {
  return !last || last.stage !== next.stage || next.at - last.at >= intervalMs;
}

export interface ProgressSink {
  report(progress: Progress, force?: boolean): void;
  /** Waits for the write in flight and writes the last pending update. */
  flush(): Promise<void>;
  writes: number;
}

/** Progress through `patchStatus` (a merge patch of the download's status, status-patch.ts). */
export function statusProgressSink(
  patchStatus: (status: { progress: Progress }) => Promise<void>,
  onError: (error: unknown) => void,
  intervalMs = 1000,
): ProgressSink {
  let last: { at: number; stage: string } | undefined;
  let pending: Progress | undefined;
  let inFlight: Promise<void> | undefined;
  let timer: NodeJS.Timeout | undefined;
  const sink: ProgressSink = {
    writes: 0,
    report(progress, force = false) {
      pending = progress;
      if (force) write();
      else schedule();
    },
    async flush() {
      clearTimeout(timer);
      timer = undefined;
      await inFlight;
      if (pending) write();
      await inFlight;
    },
  };
  // Now when due, else one interval after the previous write, so the last
  // update of a burst still goes out.
  function schedule(): void {
    if (!pending || timer || inFlight) return;
    const now = Date.now();
    if (shouldReport(last, { at: now, stage: pending.stage ?? '' }, intervalMs)) write();
    else {
      timer = setTimeout(write, Math.max(0, intervalMs - (now - (last?.at ?? now))));
      timer.unref();
    }
  }

  function write(): void {
    clearTimeout(timer);
    timer = undefined;
    if (inFlight || !pending) return;
    const progress = pending;
    pending = undefined;
    last = { at: Date.now(), stage: progress.stage ?? '' };
    sink.writes += 1;
    inFlight = patchStatus({ progress })
      .then(
        () => undefined,
        (error: unknown) => onError(error),
      )
      .finally(() => {
        inFlight = undefined;
        schedule();
      });
  }
  return sink;
}
