// An operator running in the test process against the real control plane,
// watching a namespace of its own, with a node for its pods to be bound to.
import * as k8s from '@kubernetes/client-node';
import type { Client as MinioClient } from 'minio';
import { pino } from 'pino';
import { inject } from 'vitest';
import { group, plural, type VideoDownload, version } from '../../crds/video-download.ts';
import { s3ObjectStore } from '../../lib/storage/object-store.ts';
import { loadOperatorConfig, type OperatorConfig } from '../../operator/config.ts';
import { Operator, type OperatorOptions } from '../../operator/operator.ts';
import { ScriptedNode } from '../node/scripted-node.ts';
import { eventually } from './eventually.ts';
import { deleteNamespace, kubeConfigFrom, uniqueName } from './kube.ts';
import { minioClient } from './storage.ts';
import { createDownloadNamespace, Downloads, installCrd } from './vdl.ts';

export interface TestEnvironment {
  config: k8s.KubeConfig;
  namespace: string;
  downloads: Downloads;
  /** The node the download pods are bound to; the test plays their containers. */
  kubelet: ScriptedNode;
  minio: MinioClient;
  bucket: string;
  operatorConfig: (overrides?: Partial<OperatorConfig>) => OperatorConfig;
  startOperator: (
    overrides?: Partial<OperatorConfig>,
    options?: Pick<OperatorOptions, 'archive'>,
  ) => Promise<Operator>;
  close: () => Promise<void>;
}

export async function createTestEnvironment(prefix: string): Promise<TestEnvironment> {
  const config = kubeConfigFrom(inject('adminKubeconfig'));
  const endpoint = inject('minio');
  await installCrd(config);
  const namespace = await createDownloadNamespace(config, prefix);
  const node = new ScriptedNode(config, namespace, uniqueName('node'));
  await node.start();
  const minio = minioClient(endpoint);
  const bucket = uniqueName('vdl');
  await minio.makeBucket(bucket);
  const operators: Operator[] = [];
  const operatorConfig = (overrides: Partial<OperatorConfig> = {}) =>
    loadOperatorConfig(
      {},
      {
        watchNamespace: namespace,
        leaseNamespace: namespace,
        leaderElection: false,
        s3Endpoint: endpoint.url,
        defaultBucket: bucket,
        maxActiveDownloads: 100,
        maxActivePerOwner: 100,
        ...overrides,
      },
    );
  return {
    config,
    namespace,
    downloads: new Downloads(config, namespace),
    kubelet: node,
    minio,
    bucket,
    operatorConfig,
    async startOperator(overrides = {}, options = {}) {
      const operator = new Operator({
        ...options,
        config: operatorConfig(overrides),
        kubeConfig: config,
        logger: pino({ level: process.env.VDL_TEST_LOG_LEVEL ?? 'warn' }),
        objectStore: s3ObjectStore(endpoint.url, endpoint.accessKey, endpoint.secretKey, 'us-east-1'),
      });
      operators.push(operator);
      await operator.start();
      return operator;
    },
    async close() {
      // Let a running operator finalize every download first; with none running, drop the
      // finalizers ourselves, so the namespace is not held by them.
      const objects = config.makeApiClient(k8s.CustomObjectsApi);
      const target = { group, version, plural, namespace };
      const remaining = async () =>
        ((await objects.listNamespacedCustomObject(target)) as { items: VideoDownload[] }).items;
      if (!operators.some((operator) => operator.leading)) {
        for (const download of await remaining()) {
          await objects.patchNamespacedCustomObject(
            { ...target, name: download.metadata.name as string, body: { metadata: { finalizers: null } } },
            k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.MergePatch),
          );
        }
      }
      await objects.deleteCollectionNamespacedCustomObject(target);
      await eventually('every VideoDownload gone', async () =>
        (await remaining()).length === 0 ? true : undefined,
      );
      await Promise.all(operators.map((operator) => operator.stop()));
      await node.stop();
      await deleteNamespace(config, namespace);
    },
  };
}
