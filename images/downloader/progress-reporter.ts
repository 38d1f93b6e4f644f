// Writes status.progress of this download's own VideoDownload, at most about
// once a second and on every change of stage, whatever the size of the file.
// The pod's token can patch VideoDownload status and nothing else.
import * as k8s from '@kubernetes/client-node';
import { group, type Progress, plural, version } from '../../crds/video-download.ts';

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

export function statusProgressSink(
  config: k8s.KubeConfig,
  target: { namespace: string; name: string },
  onError: (error: unknown) => void,
  intervalMs = 1000,
): ProgressSink {
  const api = config.makeApiClient(k8s.CustomObjectsApi);
  const mergePatch = k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.MergePatch);
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
    inFlight = api
      .patchNamespacedCustomObjectStatus(
        {
          group,
          version,
          plural,
          namespace: target.namespace,
          name: target.name,
          body: { status: { progress } },
        },
        mergePatch,
      )
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
