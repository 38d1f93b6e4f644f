// Kubernetes clients and namespaces for tests that talk to the local control plane.
import { randomBytes } from 'node:crypto';
import * as k8s from '@kubernetes/client-node';
import { reuseConnections } from '../../lib/kube/kube-config.ts';
import { eventually } from './eventually.ts';

export function kubeConfigFrom(path: string): k8s.KubeConfig {
  const config = new k8s.KubeConfig();
  config.loadFromFile(path);
  return reuseConnections(config);
}

export function uniqueName(prefix: string): string {
  return `${prefix}-${randomBytes(3).toString('hex')}`;
}

/** Creates a namespace and resolves once its default service account exists (pods need it). */
export async function createNamespace(
  config: k8s.KubeConfig,
  name: string,
  labels: Record<string, string> = {},
): Promise<void> {
  const core = config.makeApiClient(k8s.CoreV1Api);
  await core.createNamespace({ body: { metadata: { name, labels } } });
  await eventually(`default service account in ${name}`, () =>
    core.readNamespacedServiceAccount({ name: 'default', namespace: name }),
  );
}

/** A fresh namespace, returned once its default service account exists. */
export async function createTestNamespace(config: k8s.KubeConfig, prefix = 'test'): Promise<string> {
  const name = uniqueName(prefix);
  await createNamespace(config, name, { 'vdl.dev/test': 'true' });
  return name;
}

export async function deleteNamespace(config: k8s.KubeConfig, name: string): Promise<void> {
  await config
    .makeApiClient(k8s.CoreV1Api)
    .deleteNamespace({ name })
    .catch((error: unknown) => {
      if ((error as { code?: number }).code !== 404) throw error;
    });
}

export interface OpenWatch {
  /** Why the watch ended, or undefined while it runs. */
  ended(): unknown;
  close(): void;
}

/**
 * A watch that is known to be live before it returns: it asks for the initial
 * state (WatchList) and resolves on the server's "initial-events-end"
 * bookmark, retrying while the server answers 429 (a new resource's watch
 * cache still initialising). Only events after that bookmark reach onEvent.
 */
export async function openWatch(
  config: k8s.KubeConfig,
  path: string,
  onEvent: (type: string, object: k8s.KubernetesObject) => void,
): Promise<OpenWatch> {
  const watch = new k8s.Watch(config);
  return eventually(`watch on ${path} to open`, () => {
    let endedWith: unknown;
    return new Promise<OpenWatch>((resolve, reject) => {
      let synced = false;
      let controller: AbortController | undefined;
      const handle: OpenWatch = { ended: () => endedWith, close: () => controller?.abort() };
      watch
        .watch(
          path,
          { sendInitialEvents: true, resourceVersionMatch: 'NotOlderThan', allowWatchBookmarks: true },
          (type, object: k8s.KubernetesObject) => {
            if (synced) {
              if (type !== 'BOOKMARK') onEvent(type, object);
            } else if (
              type === 'BOOKMARK' &&
              object.metadata?.annotations?.['k8s.io/initial-events-end'] === 'true'
            ) {
              synced = true;
              resolve(handle);
            }
          },
          (error) => {
            endedWith = error ?? 'closed by the server';
            if (!synced) reject(error ?? new Error('watch closed before its initial events ended'));
          },
        )
        .then((abort) => {
          controller = abort;
        }, reject);
    });
  });
}
