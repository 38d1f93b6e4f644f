// The VideoDownload controller's own metrics, in the manager's registry.
import { Counter, Gauge, type Registry } from 'prom-client';

export function videoDownloadMetrics(registry: Registry) {
  return {
    downloadsByPhase: new Gauge({
      name: 'vdl_downloads',
      help: 'VideoDownloads in the cache, by phase.',
      labelNames: ['phase'] as const,
      registers: [registry],
    }),
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
