// The completion event of a download, as its webhook receives it: enough to
// act on without another call (which download, how it ended, what was stored
// and where), in the Standard Webhooks envelope {type, timestamp, data}.
// Built from the resource alone, so every attempt sends the same bytes.
import { stateOfPhase } from '../../../crds/rest-state.ts';
import type { VideoDownload } from '../../../crds/video-download.ts';

export interface CompletionEvent {
  /** webhook-id: one per download and outcome, the same on every attempt, so a receiver can drop repeats. */
  id: string;
  body: string;
}

/** The event of a download that has finished, or undefined while it has not. */
export function completionEvent(download: VideoDownload): CompletionEvent | undefined {
  const status = download.status;
  const phase = status?.phase;
  if (phase !== 'Succeeded' && phase !== 'Failed') return undefined;
  const { name, namespace, uid, creationTimestamp } = download.metadata;
  const result = status?.result;
  const state = stateOfPhase[phase];
  const data = {
    job_id: name,
    namespace,
    uid,
    state,
    url: download.spec.url,
    title: result?.title ?? status?.progress?.title,
    bucket: result?.bucket,
    key: result?.key,
    // A file written onto a volume: which claim, and where under its root (what a media server scans).
    claim_name: result?.volume?.claimName,
    path: result?.volume?.path,
    filename: result?.filename,
    size: result?.size,
    sha256: result?.sha256,
    content_type: result?.contentType,
    duration_seconds: result?.durationSeconds,
    reason: status?.reason,
    message: status?.message,
    attempts: status?.attempts,
    created_at: creationTimestamp,
    finished_at: status?.completionTime,
  };
  const envelope = {
    type: phase === 'Succeeded' ? 'download.done' : 'download.failed',
    // When it happened, not when it was sent: the bytes stay the same on every attempt.
    timestamp: status?.completionTime ?? creationTimestamp,
    data,
  };
  return { id: `vdl_${uid}_${state.toLowerCase()}`, body: JSON.stringify(envelope) };
}
