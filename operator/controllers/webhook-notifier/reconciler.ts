// Reconciles one download's webhook: read the cache, decide (delivery.ts),
// send, record the attempt in status.notification. A receiver that answers
// 2xx has the event; the record is written after the send, so a crash in
// between sends it again (at least once, under the same webhook-id).
import type { Logger } from 'pino';
import type { NotificationStatus, VideoDownload } from '../../../crds/video-download.ts';
import type { Clock } from '../../manager/clock.ts';
import type { Cache, ReconcileResult } from '../../manager/controller.ts';
import {
  type AttemptOutcome,
  afterAttempt,
  type DeliverySettings,
  nextStep,
  notificationEvent,
} from './delivery.ts';
import { completionEvent } from './event.ts';
import type { Post } from './sender.ts';
import { signedHeaders } from './signature.ts';

export interface NotifierDependencies {
  downloads: Cache<VideoDownload>;
  settings: DeliverySettings;
  /** The signing key's bytes; throws (with which Secret and key) when it cannot be read. */
  signingKey(namespace: string, secretName: string, key: string): Promise<Buffer>;
  send(post: Post): Promise<AttemptOutcome>;
  /** A merge patch of status.notification alone: no other field is touched. */
  patchNotification(namespace: string, name: string, record: NotificationStatus): Promise<void>;
  recorder: {
    record(
      download: VideoDownload,
      type: 'Normal' | 'Warning',
      reason: string,
      message: string,
    ): Promise<void>;
  };
  /** Counts each attempt by the record it left: Delivered, Retrying or Failed (vdl_webhook_attempts_total). */
  attempted?: (state: NotificationStatus['state']) => void;
  clock: Clock;
  logger: Logger;
}

export class NotifierReconciler {
  private readonly deps: NotifierDependencies;
  /**
   * The record this replica last wrote, by key, until the cache shows it:
   * a reconcile from a cache that has not seen the write yet would send the
   * event again.
   */
  private readonly written = new Map<string, { uid: string | undefined; record: NotificationStatus }>();

  constructor(deps: NotifierDependencies) {
    this.deps = deps;
  }

  async reconcile(key: string): Promise<ReconcileResult> {
    const download = this.deps.downloads.get(key);
    if (!download) {
      this.written.delete(key);
      return {};
    }
    const record = this.latestRecord(key, download);
    const now = this.deps.clock.now();
    const step = nextStep(download, record, now);
    if (step.action === 'none') return {};
    if (step.action === 'wait') return { requeueAfterMs: step.afterMs };

    const event = completionEvent(download);
    const notify = download.spec.notify;
    if (!event || !notify) return {};
    const { namespace, name, uid } = download.metadata as { namespace: string; name: string; uid?: string };
    let outcome: AttemptOutcome;
    try {
      const signingKey = await this.deps.signingKey(namespace, notify.secretRef.name, notify.secretRef.key);
      const headers = signedHeaders(signingKey, event.id, Math.floor(now / 1000), event.body);
      outcome = await this.deps.send({ url: notify.url, headers, body: event.body });
    } catch (error) {
      outcome = { delivered: false, error: error instanceof Error ? error.message : String(error) };
    }
    const next = afterAttempt(record, outcome, this.deps.clock.now(), this.deps.settings);
    await this.deps.patchNotification(namespace, name, next);
    this.written.set(key, { uid, record: next });
    this.deps.attempted?.(next.state);
    this.deps.logger.info(
      { download: key, state: next.state, attempts: next.attempts, error: next.lastError },
      'webhook attempt',
    );
    const told = notificationEvent(next, notify.url);
    if (told) await this.deps.recorder.record(download, told.type, told.reason, told.message);
    if (next.state !== 'Retrying' || !next.nextAttemptAt) return {};
    return { requeueAfterMs: Math.max(0, Date.parse(next.nextAttemptAt) - this.deps.clock.now()) };
  }

  /** The newer of the cached record and the one this replica wrote. */
  private latestRecord(key: string, download: VideoDownload): NotificationStatus | undefined {
    const cached = download.status?.notification;
    const written = this.written.get(key);
    if (
      !written ||
      written.uid !== download.metadata.uid ||
      (cached?.attempts ?? 0) >= written.record.attempts
    ) {
      this.written.delete(key);
      return cached;
    }
    return written.record;
  }
}
