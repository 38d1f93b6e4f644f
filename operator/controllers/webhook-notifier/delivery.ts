// When to send a download's completion event and what its delivery record
// becomes after an attempt: at least once, with capped exponential backoff,
// for a bounded number of attempts. Pure: the reconciler does the I/O.

import { statusMessage } from '../../../crds/status-text.ts';
import { kubernetesTime, type NotificationStatus, type VideoDownload } from '../../../crds/video-download.ts';

export interface DeliverySettings {
  maxAttempts: number;
  /** The wait after the first failed attempt; doubled after each further one. */
  backoffMs: number;
  backoffMaxMs: number;
}

export type NextStep =
  /** Nothing to send: no webhook, not finished, or delivered or given up already. */
  { action: 'none' } | { action: 'wait'; afterMs: number } | { action: 'send' };

export function nextStep(
  download: VideoDownload,
  notification: NotificationStatus | undefined,
  now: number,
): NextStep {
  const phase = download.status?.phase;
  if (!download.spec.notify || (phase !== 'Succeeded' && phase !== 'Failed')) return { action: 'none' };
  // A download being deleted (a TTL of 0, a DELETE after it finished) is still told: the
  // event is of its end, which happened; its record goes with it.
  if (notification?.state === 'Delivered' || notification?.state === 'Failed') return { action: 'none' };
  const due = notification?.nextAttemptAt ? Date.parse(notification.nextAttemptAt) : now;
  return due > now ? { action: 'wait', afterMs: due - now } : { action: 'send' };
}

/** The wait after `attempts` failed attempts: backoffMs, doubled each time, at most backoffMaxMs. */
export function backoffAfter(attempts: number, settings: DeliverySettings): number {
  const doublings = Math.max(0, attempts - 1);
  // 2 ** 1000 is Infinity, and min() caps it: no overflow to guard against.
  return Math.min(settings.backoffMs * 2 ** doublings, settings.backoffMaxMs);
}

export type AttemptOutcome =
  | { delivered: true }
  /** permanent: sending again cannot help (a refused address), so no further attempt is made. */
  | { delivered: false; error: string; permanent?: boolean };

export function afterAttempt(
  previous: NotificationStatus | undefined,
  outcome: AttemptOutcome,
  now: number,
  settings: DeliverySettings,
): NotificationStatus {
  const attempts = (previous?.attempts ?? 0) + 1;
  if (outcome.delivered) return { state: 'Delivered', attempts, deliveredAt: kubernetesTime(now) };
  const lastError = statusMessage(outcome.error);
  if (outcome.permanent || attempts >= settings.maxAttempts) return { state: 'Failed', attempts, lastError };
  return {
    state: 'Retrying',
    attempts,
    lastError,
    // Whole seconds, as Kubernetes writes times; rounded up, so never before the backoff is over.
    nextAttemptAt: kubernetesTime(Math.ceil((now + backoffAfter(attempts, settings)) / 1000) * 1000),
  };
}

/** The Event that tells a person about a change of the record, if it is worth one. */
export function notificationEvent(
  record: NotificationStatus,
  url: string,
): { type: 'Normal' | 'Warning'; reason: string; message: string } | undefined {
  if (record.state === 'Delivered')
    return {
      type: 'Normal',
      reason: 'NotificationDelivered',
      message: `completion event delivered to ${url} (attempt ${record.attempts})`,
    };
  if (record.state === 'Failed')
    return {
      type: 'Warning',
      reason: 'NotificationFailed',
      message: `gave up on ${url} after ${record.attempts} attempt(s): ${record.lastError}`,
    };
  // The first failure says the receiver is not answering; the retries after it stay in status only.
  if (record.attempts === 1)
    return {
      type: 'Warning',
      reason: 'NotificationRetrying',
      message: `could not deliver the completion event to ${url}, retrying at ${record.nextAttemptAt}: ${record.lastError}`,
    };
  return undefined;
}
