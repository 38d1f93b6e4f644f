// Kubernetes Events on VideoDownloads, so `kubectl describe vd` tells the
// story of a download. Best effort: a lost event never fails a reconcile.
import { randomBytes } from 'node:crypto';
import * as k8s from '@kubernetes/client-node';
import type { Logger } from 'pino';
import { apiVersion, kind, type VideoDownload } from '../../../crds/video-download.ts';

export class EventRecorder {
  private readonly core: k8s.CoreV1Api;
  private readonly component: string;
  private readonly logger: Logger;

  constructor(config: k8s.KubeConfig, component: string, logger: Logger) {
    this.core = config.makeApiClient(k8s.CoreV1Api);
    this.component = component;
    this.logger = logger;
  }

  async record(
    download: VideoDownload,
    type: 'Normal' | 'Warning',
    reason: string,
    message: string,
  ): Promise<void> {
    const { name, namespace, uid, resourceVersion } = download.metadata;
    const now = new Date();
    try {
      await this.core.createNamespacedEvent({
        namespace: namespace as string,
        body: {
          metadata: {
            name: `${name}.${now.getTime().toString(16)}${randomBytes(2).toString('hex')}`,
            namespace,
          },
          involvedObject: { apiVersion, kind, name, namespace, uid, resourceVersion },
          type,
          reason,
          message,
          source: { component: this.component },
          reportingComponent: this.component,
          reportingInstance: this.component,
          firstTimestamp: now,
          lastTimestamp: now,
          count: 1,
        },
      });
    } catch (error) {
      this.logger.warn(
        { download: `${namespace}/${name}`, reason, err: String(error) },
        'could not record event',
      );
    }
  }
}
