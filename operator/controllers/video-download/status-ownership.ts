// Who writes which field of a VideoDownload's status, as data the code and
// tests read. The download pod writes progress, about once a second, through
// the status subresource; the chart's ValidatingAdmissionPolicy
// (charts/vdl/templates/downloader-status-policy.yaml) lets a downloader
// token change that field and nothing else. The operator writes the rest:
// phase, conditions, result, and what follows from its Job. It touches
// progress only when the phase changes, so it never rolls the pod's back.
import type { VideoDownloadStatus } from '../../../crds/video-download.ts';

export type StatusWriter = 'download pod' | 'operator' | 'notifier' | 'archiver';

export const statusOwners = {
  phase: 'operator',
  progress: 'download pod',
  conditions: 'operator',
  jobName: 'operator',
  attempts: 'operator',
  startTime: 'operator',
  completionTime: 'operator',
  observedGeneration: 'operator',
  result: 'operator',
  reason: 'operator',
  message: 'operator',
  // The webhook notifier's (controllers/webhook-notifier/); the status derivation carries it over untouched.
  notification: 'notifier',
  // The archiver's (controllers/archiver/), written only when archiving failed and once it recovered.
  archive: 'archiver',
} as const satisfies Record<keyof VideoDownloadStatus, StatusWriter>;

/** The fields the download pod owns: the operator writes them only on a phase change. */
export const podOwnedStatusFields = Object.keys(statusOwners).filter(
  (field) => statusOwners[field as keyof VideoDownloadStatus] === 'download pod',
) as Array<keyof VideoDownloadStatus>;

export function ownerOfStatusField(field: string): StatusWriter {
  return statusOwners[field as keyof VideoDownloadStatus] ?? 'operator';
}
