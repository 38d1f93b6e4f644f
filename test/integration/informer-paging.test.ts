// The informer lists in pages: every page must reach the cache, for custom
// resources (whose continue token client-node's KubernetesObjectApi drops)
// as for built-in kinds.
import * as k8s from '@kubernetes/client-node';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { apiVersion, kind, plural, type VideoDownload } from '../../crds/video-download.ts';
import { type CachedObject, Informer } from '../../lib/kube/informer.ts';
import { createTestNamespace, deleteNamespace, kubeConfigFrom } from '../support/kube.ts';
import { Downloads, installCrd } from '../support/vdl.ts';

const config = kubeConfigFrom(inject('adminKubeconfig'));
const count = 7;
let namespace: string;

beforeAll(async () => {
  await installCrd(config);
  namespace = await createTestNamespace(config, 'paging');
  const downloads = new Downloads(config, namespace);
  const core = config.makeApiClient(k8s.CoreV1Api);
  for (let i = 0; i < count; i++) {
    await downloads.create(`d${i}`, { url: `https://example.com/watch?v=${i}` });
    await core.createNamespacedConfigMap({
      namespace,
      body: { metadata: { name: `c${i}` }, data: { i: String(i) } },
    });
  }
});
afterAll(async () => {
  await deleteNamespace(config, namespace);
});

async function listedWithPagesOf3<T extends CachedObject>(kindOf: {
  apiVersion: string;
  kind: string;
  plural: string;
}): Promise<Informer<T>> {
  const informer = new Informer<T>({
    name: `paging-${kindOf.plural}`,
    config,
    ...kindOf,
    namespace,
    pageSize: 3,
    logger: pino({ level: 'silent' }),
    onChange: () => {},
  });
  informer.start();
  await informer.waitForSync();
  informer.stop();
  return informer;
}

describe('Informer listing in pages', () => {
  it('caches every page of a custom resource', async () => {
    const informer = await listedWithPagesOf3<VideoDownload>({ apiVersion, kind, plural });
    expect(
      informer
        .list()
        .map((d) => d.metadata.name)
        .sort(),
    ).toEqual(Array.from({ length: count }, (_, i) => `d${i}`));
    expect(informer.get(`${namespace}/d6`)?.spec.url).toBe('https://example.com/watch?v=6');
  });

  it('caches every page of a built-in kind, as plain JSON', async () => {
    const informer = await listedWithPagesOf3<k8s.V1ConfigMap>({
      apiVersion: 'v1',
      kind: 'ConfigMap',
      plural: 'configmaps',
    });
    const names = informer.list().map((c) => c.metadata?.name);
    expect(names.filter((n) => n?.startsWith('c')).sort()).toEqual(
      Array.from({ length: count }, (_, i) => `c${i}`),
    );
    expect(typeof informer.get(`${namespace}/c0`)?.metadata?.creationTimestamp).toBe('string');
  });
});
