// Proves the local environment is the real machinery: the API server stores
// and watches custom resources, the Job controller makes pods, the scheduler
// binds them to a registered node, the garbage collector removes them, and
// MinIO stores bytes.
import { createHash, randomBytes } from 'node:crypto';
import * as k8s from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { type RegisteredNode, registerNode } from '../node/registration.ts';
import { eventually } from '../support/eventually.ts';
import {
  createTestNamespace,
  deleteNamespace,
  kubeConfigFrom,
  openWatch,
  uniqueName,
} from '../support/kube.ts';
import { minioClient } from '../support/storage.ts';
import { versions } from '../toolchain/tools.ts';

const config = kubeConfigFrom(inject('adminKubeconfig'));
let namespace: string;

beforeAll(async () => {
  namespace = await createTestNamespace(config, 'environment');
});
afterAll(async () => {
  await deleteNamespace(config, namespace);
});

describe('kube-apiserver', () => {
  it('reports the Kubernetes version it was built from', async () => {
    const info = await config.makeApiClient(k8s.VersionApi).getCode();
    expect(info.gitVersion).toBe(versions.KUBERNETES_VERSION);
  });

  it('serves a custom resource definition and streams watch events for its objects', async () => {
    const extensions = config.makeApiClient(k8s.ApiextensionsV1Api);
    const group = `${uniqueName('g')}.test.vdl.dev`;
    const name = `widgets.${group}`;
    await extensions.createCustomResourceDefinition({
      body: {
        metadata: { name },
        spec: {
          group,
          scope: 'Namespaced',
          names: { plural: 'widgets', singular: 'widget', kind: 'Widget' },
          versions: [
            {
              name: 'v1',
              served: true,
              storage: true,
              schema: {
                openAPIV3Schema: {
                  type: 'object',
                  properties: {
                    spec: { type: 'object', properties: { size: { type: 'integer', minimum: 1 } } },
                  },
                },
              },
            },
          ],
        },
      },
    });
    try {
      await eventually(`CRD ${name} Established`, async () => {
        const crd = await extensions.readCustomResourceDefinition({ name });
        return crd.status?.conditions?.find((c) => c.type === 'Established' && c.status === 'True');
      });

      const seen: Array<{ type: string; size: number }> = [];
      const watch = await openWatch(
        config,
        `/apis/${group}/v1/namespaces/${namespace}/widgets`,
        (type, object) =>
          seen.push({ type, size: (object as { spec?: { size: number } }).spec?.size as number }),
      );
      try {
        const objects = config.makeApiClient(k8s.CustomObjectsApi);
        const target = { group, version: 'v1', namespace, plural: 'widgets' };
        await objects.createNamespacedCustomObject({
          ...target,
          body: { apiVersion: `${group}/v1`, kind: 'Widget', metadata: { name: 'w1' }, spec: { size: 1 } },
        });
        await objects.patchNamespacedCustomObject(
          { ...target, name: 'w1', body: [{ op: 'replace', path: '/spec/size', value: 2 }] },
          k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.JsonPatch),
        );
        await eventually('ADDED then MODIFIED watch events', () => {
          if (watch.ended())
            throw new Error(`watch ended: ${String(watch.ended())}; events: ${JSON.stringify(seen)}`);
          return seen.length >= 2 ? seen : undefined;
        });
        expect(seen.slice(0, 2)).toEqual([
          { type: 'ADDED', size: 1 },
          { type: 'MODIFIED', size: 2 },
        ]);
        // The schema is enforced by the server itself.
        await expect(
          objects.createNamespacedCustomObject({
            ...target,
            body: { apiVersion: `${group}/v1`, kind: 'Widget', metadata: { name: 'w2' }, spec: { size: 0 } },
          }),
        ).rejects.toMatchObject({ code: 422 });
      } finally {
        watch.close();
      }
    } finally {
      await extensions.deleteCustomResourceDefinition({ name });
    }
  });
});

describe('controllers and scheduler', () => {
  let node: RegisteredNode;
  beforeAll(async () => {
    node = await registerNode(config, uniqueName('node'));
  });
  afterAll(async () => {
    await node.stop();
  });

  it('keeps renewing the node Lease, so the node stays schedulable', async () => {
    const coordination = config.makeApiClient(k8s.CoordinationV1Api);
    const renewedAt = async () =>
      new Date(
        (await coordination.readNamespacedLease({ name: node.name, namespace: 'kube-node-lease' })).spec
          ?.renewTime ?? 0,
      ).getTime();
    const first = await renewedAt();
    await eventually(
      'a renewal of the node Lease',
      async () => ((await renewedAt()) > first ? true : undefined),
      {
        timeoutMs: 30_000,
        intervalMs: 500,
      },
    );
  });

  it('runs a Job: the Job controller creates a pod, the scheduler binds it, the garbage collector deletes it', async () => {
    const batch = config.makeApiClient(k8s.BatchV1Api);
    const core = config.makeApiClient(k8s.CoreV1Api);
    const jobName = uniqueName('job');
    const job = await batch.createNamespacedJob({
      namespace,
      body: {
        metadata: { name: jobName },
        spec: {
          backoffLimit: 0,
          template: {
            spec: {
              restartPolicy: 'Never',
              nodeSelector: { 'kubernetes.io/hostname': node.name },
              containers: [{ name: 'main', image: 'example.invalid/none:1' }],
            },
          },
        },
      },
    });

    const pod = await eventually(
      `a pod of Job ${jobName} bound to ${node.name}`,
      async () => {
        const pods = await core.listNamespacedPod({ namespace, labelSelector: `job-name=${jobName}` });
        return pods.items.find((p) => p.spec?.nodeName === node.name);
      },
      { timeoutMs: 60_000 },
    );
    const owner = pod.metadata?.ownerReferences?.[0];
    expect(owner).toMatchObject({ kind: 'Job', name: jobName, uid: job.metadata?.uid, controller: true });

    await batch.deleteNamespacedJob({ name: jobName, namespace, propagationPolicy: 'Background' });
    const podName = pod.metadata?.name as string;
    // A bound pod's deletion is graceful: the garbage collector marks it, and
    // the node's kubelet confirms once its containers stopped. No kubelet runs
    // here, so the test plays that last part.
    const terminating = await eventually(
      `garbage collector to delete pod ${podName}`,
      async () => {
        const current = await core.readNamespacedPod({ name: podName, namespace });
        return current.metadata?.deletionTimestamp ? current : undefined;
      },
      { timeoutMs: 60_000 },
    );
    expect(terminating.metadata?.deletionGracePeriodSeconds).toBeGreaterThan(0);
    await core.deleteNamespacedPod({ name: podName, namespace, gracePeriodSeconds: 0 });
    await eventually(`pod ${podName} to be gone`, async () => {
      const pods = await core.listNamespacedPod({ namespace, labelSelector: `job-name=${jobName}` });
      return pods.items.length === 0 ? true : undefined;
    });
  });
});

describe('MinIO', () => {
  it('stores an object and returns the same bytes', async () => {
    const endpoint = inject('minio');
    const client = minioClient(endpoint);
    const bucket = uniqueName('env');
    const body = randomBytes(256 * 1024);
    await client.makeBucket(bucket);
    await client.putObject(bucket, 'probe.bin', body, body.length, {
      'Content-Type': 'application/octet-stream',
    });
    const chunks: Buffer[] = [];
    for await (const chunk of await client.getObject(bucket, 'probe.bin')) chunks.push(chunk as Buffer);
    const returned = Buffer.concat(chunks);
    expect(createHash('sha256').update(returned).digest('hex')).toBe(
      createHash('sha256').update(body).digest('hex'),
    );
    await client.removeObject(bucket, 'probe.bin');
    await client.removeBucket(bucket);
  });
});
