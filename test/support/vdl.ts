// Test helpers for vdl resources: install the CRD, make a namespace a
// download can run in, and act as a kubelet for pods (set their status,
// finish their deletion) until the process node exists.
import { readFileSync } from 'node:fs';
import * as k8s from '@kubernetes/client-node';
import { pino } from 'pino';
import { group, plural, type VideoDownload, version } from '../../crds/video-download.ts';
import { Informer } from '../../lib/kube/informer.ts';
import { VideoDownloads } from '../../lib/kube/video-downloads.ts';
import { downloadLabelValue } from '../../operator/controllers/video-download/desired-job.ts';
import { eventually } from './eventually.ts';
import { createTestNamespace } from './kube.ts';

// loadYaml, not a plain YAML parse: the typed client serialises its model
// classes, and a plain object's x-kubernetes-validations, default or enum
// keys would be dropped on the way to the server without a word.
const crdManifest = k8s.loadYaml<k8s.V1CustomResourceDefinition>(
  readFileSync(new URL('../../crds/vdl.dev_videodownloads.yaml', import.meta.url), 'utf8'),
);
const mergePatch = k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.MergePatch);

/** Creates or updates the VideoDownload CRD and waits until it is served. */
export async function installCrd(config: k8s.KubeConfig): Promise<void> {
  const api = config.makeApiClient(k8s.ApiextensionsV1Api);
  const name = crdManifest.metadata?.name as string;
  try {
    const existing = await api.readCustomResourceDefinition({ name });
    await api.replaceCustomResourceDefinition({
      name,
      body: {
        ...crdManifest,
        metadata: { ...crdManifest.metadata, resourceVersion: existing.metadata?.resourceVersion },
      },
    });
  } catch (error) {
    if ((error as { code?: number }).code !== 404) throw error;
    await api.createCustomResourceDefinition({ body: crdManifest });
  }
  await eventually(`CRD ${name} established`, async () => {
    const crd = await api.readCustomResourceDefinition({ name });
    return crd.status?.conditions?.find((c) => c.type === 'Established' && c.status === 'True');
  });
  // Established can precede the first successful list by a moment.
  const objects = config.makeApiClient(k8s.CustomObjectsApi);
  await eventually('VideoDownloads listable', () =>
    objects.listClusterCustomObject({ group, version, plural }),
  );
}

/** A namespace with the downloader's service account, which download pods need to be admitted. */
export async function createDownloadNamespace(config: k8s.KubeConfig, prefix: string): Promise<string> {
  const namespace = await createTestNamespace(config, prefix);
  await config.makeApiClient(k8s.CoreV1Api).createNamespacedServiceAccount({
    namespace,
    body: { metadata: { name: 'vdl-downloader' }, automountServiceAccountToken: false },
  });
  return namespace;
}

/** The typed client of lib/kube/video-downloads.ts, with what only tests need: waiting for a status. */
export class Downloads extends VideoDownloads {
  /** Polls until the download's status satisfies check; the error shows the last status seen. */
  async waitFor(name: string, description: string, check: (d: VideoDownload) => boolean, timeoutMs = 60_000) {
    let last: unknown;
    try {
      return await eventually(
        `${name}: ${description}`,
        async () => {
          const download = await this.get(name);
          last = download.status;
          return check(download) ? download : undefined;
        },
        { timeoutMs, intervalMs: 200 },
      );
    } catch (error) {
      throw new Error(`${(error as Error).message}\nlast status: ${JSON.stringify(last)}`);
    }
  }
}

/** Plays the kubelet's part for pods in tests: report container state the way a kubelet would. */
export class PodStatusWriter {
  private readonly core: k8s.CoreV1Api;
  private readonly namespace: string;
  constructor(config: k8s.KubeConfig, namespace: string) {
    this.core = config.makeApiClient(k8s.CoreV1Api);
    this.namespace = namespace;
  }

  async podsOf(downloadName: string): Promise<k8s.V1Pod[]> {
    const pods = await this.core.listNamespacedPod({
      namespace: this.namespace,
      labelSelector: `vdl.dev/download=${downloadLabelValue(downloadName)}`,
    });
    return pods.items;
  }

  /** The download's pod that has not finished yet, once the Job controller made it. */
  async livePod(downloadName: string): Promise<k8s.V1Pod> {
    return eventually(`a live pod of ${downloadName}`, async () => {
      const pods = await this.podsOf(downloadName);
      return pods.find(
        (p) => !['Succeeded', 'Failed'].includes(p.status?.phase ?? '') && !p.metadata?.deletionTimestamp,
      );
    });
  }

  async running(pod: k8s.V1Pod): Promise<void> {
    const now = new Date().toISOString();
    await this.patch(pod, {
      phase: 'Running',
      startTime: now,
      conditions: [{ type: 'Ready', status: 'True', lastTransitionTime: now }],
      containerStatuses: [
        {
          name: 'downloader',
          image: 'vdl/downloader:dev',
          imageID: '',
          ready: true,
          restartCount: 0,
          started: true,
          state: { running: { startedAt: now } },
        },
      ],
    });
  }

  async terminated(pod: k8s.V1Pod, exitCode: number, message?: string, reason?: string): Promise<void> {
    const now = new Date().toISOString();
    await this.patch(pod, {
      phase: exitCode === 0 ? 'Succeeded' : 'Failed',
      conditions: [{ type: 'Ready', status: 'False', lastTransitionTime: now }],
      containerStatuses: [
        {
          name: 'downloader',
          image: 'vdl/downloader:dev',
          imageID: '',
          ready: false,
          restartCount: 0,
          started: false,
          state: {
            terminated: {
              exitCode,
              reason: reason ?? (exitCode === 0 ? 'Completed' : 'Error'),
              message,
              startedAt: now,
              finishedAt: now,
            },
          },
        },
      ],
    });
  }

  private async patch(pod: k8s.V1Pod, status: Record<string, unknown>): Promise<void> {
    await this.core.patchNamespacedPodStatus(
      { name: pod.metadata?.name as string, namespace: this.namespace, body: { status } },
      mergePatch,
    );
  }
}

/** An informer on a namespace's VideoDownloads: it resumes its watch, so no change is missed. */
export function watchDownloads(
  config: k8s.KubeConfig,
  namespace: string,
  onChange: (download: VideoDownload) => void,
): Informer<VideoDownload> {
  const informer = new Informer<VideoDownload>({
    name: `test-${namespace}`,
    config,
    apiVersion: `${group}/${version}`,
    kind: 'VideoDownload',
    plural,
    namespace,
    logger: pino({ level: 'silent' }),
    onChange: (_type, download) => onChange(download),
  });
  informer.start();
  return informer;
}
