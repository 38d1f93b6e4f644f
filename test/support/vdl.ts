// Test helpers for vdl resources: install the CRD, make a namespace a
// download can run in, and read and watch its VideoDownloads. (The kubelet's
// part for pods is in test/node/.)
import { readFileSync } from 'node:fs';
import * as k8s from '@kubernetes/client-node';
import { pino } from 'pino';
import { group, plural, type VideoDownload, version } from '../../crds/video-download.ts';
import { Informer } from '../../lib/kube/informer.ts';
import { VideoDownloads } from '../../lib/kube/video-downloads.ts';
import { eventually } from './eventually.ts';
import { createTestNamespace } from './kube.ts';

// loadYaml, not a plain YAML parse: the typed client serialises its model
// classes, and a plain object's x-kubernetes-validations, default or enum
// keys would be dropped on the way to the server without a word.
const crdManifest = k8s.loadYaml<k8s.V1CustomResourceDefinition>(
  readFileSync(new URL('../../crds/vdl.dev_videodownloads.yaml', import.meta.url), 'utf8'),
);

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
