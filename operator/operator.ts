// The operator: a manager with its controllers registered, one line each.
// A new controller is a folder under controllers/ and one add() here.
import type * as k8s from '@kubernetes/client-node';
import type { Logger } from 'pino';
import type { Archive } from '../lib/archive/archive.ts';
import type { ObjectStore } from '../lib/storage/object-store.ts';
import type { OperatorConfig } from './config.ts';
import { archiverController } from './controllers/archiver/controller.ts';
import { videoDownloadController } from './controllers/video-download/controller.ts';
import { EventRecorder } from './controllers/video-download/event-recorder.ts';
import { kubeWrites } from './controllers/video-download/kube-writes.ts';
import { webhookNotifierController } from './controllers/webhook-notifier/controller.ts';
import type { Clock } from './manager/clock.ts';
import { Manager } from './manager/manager.ts';

export interface OperatorOptions {
  config: OperatorConfig;
  kubeConfig: k8s.KubeConfig;
  logger: Logger;
  objectStore?: ObjectStore;
  /** The archive of finished downloads; none: no archiver runs and deletion waits for no row. */
  archive?: Archive;
  /** Server-side watch timeout of the informers (tests shorten it). */
  watchTimeoutSeconds?: number;
  clock?: Clock;
}

export class Operator extends Manager {
  constructor(options: OperatorOptions) {
    const { config, kubeConfig, logger } = options;
    super({
      kubeConfig,
      logger,
      namespace: config.watchNamespace,
      workers: config.workers,
      leaderElection: config.leaderElection
        ? { namespace: config.leaseNamespace, name: config.leaseName, identity: config.identity }
        : undefined,
      watchTimeoutSeconds: options.watchTimeoutSeconds,
      clock: options.clock,
    });
    const recorder = new EventRecorder(kubeConfig, 'vdl-operator', logger);
    this.add(
      videoDownloadController({
        config,
        writes: kubeWrites(kubeConfig),
        recorder,
        objectStore: options.objectStore,
        archive: options.archive,
        logger,
      }),
    );
    if (options.archive)
      this.add(
        archiverController({
          kubeConfig,
          archive: options.archive,
          retryMs: config.archive.retrySeconds * 1000,
          retention: { ttlMs: config.archive.ttlDays * 86_400_000, sweepMs: 3_600_000 },
        }),
      );
    if (config.webhook.enabled) this.add(webhookNotifierController({ config, kubeConfig, recorder, logger }));
  }
}
