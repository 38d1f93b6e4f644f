// The webhook notifier as the manager sees it: for VideoDownloads (the same
// cache as the VideoDownload controller's), owning nothing. It runs on the
// leader only, like every controller, so one replica sends each event, never
// every API replica.
import * as k8s from '@kubernetes/client-node';
import type { Logger } from 'pino';
import { Counter } from 'prom-client';
import {
  group,
  type NotificationStatus,
  plural,
  type VideoDownload,
  version,
} from '../../../crds/video-download.ts';
import { statusCodeOf } from '../../../lib/kube/api-errors.ts';
import { parseAllowList } from '../../../lib/net/address-policy.ts';
import type { OperatorConfig } from '../../config.ts';
import type { Controller } from '../../manager/controller.ts';
import { downloads } from '../video-download/controller.ts';
import type { EventRecorder } from '../video-download/event-recorder.ts';
import { NotifierReconciler } from './reconciler.ts';
import { send } from './sender.ts';
import { signingKey } from './signature.ts';

export interface WebhookNotifierOptions {
  config: OperatorConfig;
  kubeConfig: k8s.KubeConfig;
  recorder: Pick<EventRecorder, 'record'>;
  logger: Logger;
}

const mergePatch = k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.MergePatch);

/** The signing key from its Secret, read when an event is sent (no cache of Secrets: `get` is all it needs). */
async function readSigningKey(core: k8s.CoreV1Api, namespace: string, name: string, key: string) {
  let secret: k8s.V1Secret;
  try {
    secret = await core.readNamespacedSecret({ name, namespace });
  } catch (error) {
    if (statusCodeOf(error) === 404) throw new Error(`signing Secret ${name} not found`);
    throw new Error(`signing Secret ${name} could not be read: ${String(error)}`);
  }
  const value = secret.data?.[key];
  if (!value) throw new Error(`signing Secret ${name} has no key ${key}`);
  return signingKey(Buffer.from(value, 'base64').toString('utf8'));
}

export function webhookNotifierController(options: WebhookNotifierOptions): Controller<VideoDownload> {
  const { config, kubeConfig } = options;
  const core = kubeConfig.makeApiClient(k8s.CoreV1Api);
  const objects = kubeConfig.makeApiClient(k8s.CustomObjectsApi);
  const policy = { allowed: parseAllowList(config.webhook.allow) };
  return {
    name: 'webhook-notifier',
    for: downloads,
    owns: [],
    setup(context) {
      const attempts = new Counter({
        name: 'vdl_webhook_attempts_total',
        help: 'Webhook attempts, by the state each left: Delivered, Retrying (failed, to be retried) or Failed (given up).',
        labelNames: ['state'],
        registers: [context.registry],
      });
      const reconciler = new NotifierReconciler({
        attempted: (state) => attempts.inc({ state }),
        downloads: context.cache(downloads),
        settings: {
          maxAttempts: config.webhook.maxAttempts,
          backoffMs: config.webhook.backoffSeconds * 1000,
          backoffMaxMs: config.webhook.backoffMaxSeconds * 1000,
        },
        signingKey: (namespace, name, key) => readSigningKey(core, namespace, name, key),
        send: (post) => send(post, policy, config.webhook.timeoutSeconds * 1000),
        async patchNotification(namespace, name, record: NotificationStatus) {
          await objects.patchNamespacedCustomObjectStatus(
            { group, version, namespace, plural, name, body: { status: { notification: record } } },
            mergePatch,
          );
        },
        recorder: options.recorder,
        clock: context.clock,
        logger: context.logger,
      });
      return (key) => reconciler.reconcile(key);
    },
  };
}
