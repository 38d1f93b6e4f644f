// Every write of the VideoDownload controller to the API server, behind one
// interface: the reconciler reads caches and writes only through this, so its
// unit tests record the writes instead of sending them.
import * as k8s from '@kubernetes/client-node';
import { group, plural, version } from '../../../crds/video-download.ts';
import { statusCodeOf } from '../../../lib/kube/api-errors.ts';

export interface KubeWrites {
  /** Fails with the server's error: 409 when a Job of that name exists. */
  createJob(namespace: string, job: k8s.V1Job): Promise<k8s.V1Job>;
  /** From the server, not the cache; undefined when there is none. */
  readJob(namespace: string, name: string): Promise<k8s.V1Job | undefined>;
  setJobTtl(namespace: string, name: string, ttlSecondsAfterFinished: number): Promise<void>;
  /** Background propagation; a Job already gone is fine. */
  deleteJob(namespace: string, name: string): Promise<void>;
  /** Fails with the server's error: 409 when it exists. */
  createSecret(namespace: string, secret: k8s.V1Secret): Promise<void>;
  /**
   * A merge patch of the status subresource. resourceVersion is a
   * precondition: a status derived from a stale cache (the watch event of the
   * operator's own last write not yet in) gets 409 and a retry, instead of
   * being written, and its phase change told in an Event, a second time.
   */
  patchStatus(
    namespace: string,
    name: string,
    resourceVersion: string,
    patch: Record<string, unknown>,
  ): Promise<void>;
  /** resourceVersion is a precondition: a stale cache gets 409 and a retry. Returns the new resourceVersion. */
  setFinalizers(
    namespace: string,
    name: string,
    resourceVersion: string,
    finalizers: string[],
  ): Promise<string>;
  /** Background propagation; a download already gone is fine. */
  deleteDownload(namespace: string, name: string): Promise<void>;
}

const mergePatch = k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.MergePatch);

function unlessGone(error: unknown): void {
  if (statusCodeOf(error) !== 404) throw error;
}

export function kubeWrites(kubeConfig: k8s.KubeConfig): KubeWrites {
  const batch = kubeConfig.makeApiClient(k8s.BatchV1Api);
  const objects = kubeConfig.makeApiClient(k8s.CustomObjectsApi);
  const core = kubeConfig.makeApiClient(k8s.CoreV1Api);
  return {
    createJob: (namespace, body) => batch.createNamespacedJob({ namespace, body }),
    async readJob(namespace, name) {
      try {
        return await batch.readNamespacedJob({ name, namespace });
      } catch (error) {
        unlessGone(error);
        return undefined;
      }
    },
    async setJobTtl(namespace, name, ttlSecondsAfterFinished) {
      await batch.patchNamespacedJob(
        { name, namespace, body: { spec: { ttlSecondsAfterFinished } } },
        mergePatch,
      );
    },
    async deleteJob(namespace, name) {
      await batch.deleteNamespacedJob({ name, namespace, propagationPolicy: 'Background' }).catch(unlessGone);
    },
    async createSecret(namespace, body) {
      await core.createNamespacedSecret({ namespace, body });
    },
    async patchStatus(namespace, name, resourceVersion, patch) {
      await objects.patchNamespacedCustomObjectStatus(
        { group, version, namespace, plural, name, body: { metadata: { resourceVersion }, status: patch } },
        mergePatch,
      );
    },
    async setFinalizers(namespace, name, resourceVersion, finalizers) {
      const patched = (await objects.patchNamespacedCustomObject(
        { group, version, namespace, plural, name, body: { metadata: { finalizers, resourceVersion } } },
        mergePatch,
      )) as { metadata?: { resourceVersion?: string } };
      return patched.metadata?.resourceVersion as string;
    },
    async deleteDownload(namespace, name) {
      await objects
        .deleteNamespacedCustomObject({
          group,
          version,
          namespace,
          plural,
          name,
          propagationPolicy: 'Background',
        })
        .catch(unlessGone);
    },
  };
}
