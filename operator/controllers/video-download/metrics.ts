// The VideoDownload controller's own metrics, in the manager's registry. The
// chart's PrometheusRule and Grafana dashboard are written against these names
// (test/integration/chart-monitoring.test.ts checks every name they use exists).
import { Counter, Gauge, type Registry } from 'prom-client';
import { phases, type VideoDownload } from '../../../crds/video-download.ts';

/** What the gauges read at each scrape: the downloads cache (warm on every replica) and the time. */
export interface DownloadsView {
  list(): VideoDownload[];
  now(): number;
}

/** Phases a download waits in before its pod runs: not started yet, or back in the queue. */
const waitingPhases = new Set<string>(['Pending', 'Queued']);

/**
 * Downloads by phase (one with no status yet is Pending: accepted, not looked
 * at), and how long the oldest one that has not started has waited since it
 * was created, in seconds (0 when none waits). A download on its way out
 * (deletionTimestamp set) waits for nothing.
 */
export function downloadCounts(
  downloads: VideoDownload[],
  now: number,
): { byPhase: Record<(typeof phases)[number], number>; oldestWaitingSeconds: number } {
  const byPhase = Object.fromEntries(phases.map((phase) => [phase, 0])) as Record<
    (typeof phases)[number],
    number
  >;
  let oldest = now;
  for (const download of downloads) {
    const phase = download.status?.phase ?? 'Pending';
    byPhase[phase] += 1;
    if (!waitingPhases.has(phase) || download.metadata.deletionTimestamp) continue;
    const created = Date.parse(download.metadata.creationTimestamp ?? '');
    if (Number.isFinite(created) && created < oldest) oldest = created;
  }
  return { byPhase, oldestWaitingSeconds: Math.max(0, (now - oldest) / 1000) };
}

/**
 * The reason label of a finished download. A failure's reason may come from
 * the download pod's termination message, which this process does not trust:
 * a reason that is not one CamelCase word, or one beyond the first
 * maxReasons seen, counts as Other, so no pod can grow the series without bound.
 */
export function reasonLabel(seen: Set<string>, reason: string, maxReasons = 32): string {
  if (seen.has(reason)) return reason;
  if (!/^[A-Z][A-Za-z]{0,39}$/.test(reason) || seen.size >= maxReasons) return 'Other';
  seen.add(reason);
  return reason;
}

export function videoDownloadMetrics(registry: Registry, view?: DownloadsView) {
  const reasons = new Set<string>();
  const downloadsFinished = new Counter({
    name: 'vdl_downloads_finished_total',
    help: 'Downloads that reached Succeeded or Failed, counted by the leader when it records the phase; reason is the failure reason (Downloaded for a success).',
    labelNames: ['phase', 'reason'] as const,
    registers: [registry],
  });
  // Both gauges are computed from the cache when Prometheus scrapes, so they
  // are right on every replica (a standby's cache is as warm as the leader's)
  // and never drift from what a set() somewhere forgot.
  const snapshot = () => (view ? downloadCounts(view.list(), view.now()) : undefined);
  return {
    downloadsByPhase: new Gauge({
      name: 'vdl_downloads',
      help: 'VideoDownloads in the cache, by phase.',
      labelNames: ['phase'] as const,
      registers: [registry],
      collect() {
        const counts = snapshot();
        if (!counts) return;
        for (const phase of phases) this.set({ phase }, counts.byPhase[phase]);
      },
    }),
    oldestWaiting: new Gauge({
      name: 'vdl_downloads_oldest_waiting_seconds',
      help: 'Age of the oldest VideoDownload not yet running (phase Pending or Queued), since its creation; 0 when none waits.',
      registers: [registry],
      collect() {
        const counts = snapshot();
        if (counts) this.set(counts.oldestWaitingSeconds);
      },
    }),
    downloadsFinished,
    /** Counts a download that just reached Succeeded or Failed. */
    finished(phase: 'Succeeded' | 'Failed', reason: string | undefined) {
      const label = phase === 'Succeeded' ? 'Downloaded' : reasonLabel(reasons, reason ?? 'Failed');
      downloadsFinished.inc({ phase, reason: label });
    },
    jobsCreated: new Counter({
      name: 'vdl_operator_jobs_created_total',
      help: 'Jobs created.',
      registers: [registry],
    }),
    statusWrites: new Counter({
      name: 'vdl_operator_status_writes_total',
      help: 'Status patches written.',
      registers: [registry],
    }),
  };
}
export type VideoDownloadMetrics = ReturnType<typeof videoDownloadMetrics>;
