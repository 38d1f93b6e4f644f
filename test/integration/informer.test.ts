// The operator's informer keeps delivering events across watch expiry (a
// control plane of its own, whose API server ends every watch within
// seconds) and across an API server restart.
import { randomBytes } from 'node:crypto';
import * as k8s from '@kubernetes/client-node';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Informer } from '../../lib/kube/informer.ts';
import { type ControlPlane, startControlPlane } from '../cluster/control-plane.ts';
import { eventually } from '../support/eventually.ts';
import { createTestNamespace, kubeConfigFrom } from '../support/kube.ts';

/** Compacts etcd's history up to its current revision, through etcd's JSON gateway. */
async function compactEtcd(etcdUrl: string): Promise<void> {
  const range = await fetch(`${etcdUrl}/v3/kv/range`, {
    method: 'POST',
    body: JSON.stringify({ key: 'AA==' }),
  });
  const revision = ((await range.json()) as { header: { revision: string } }).header.revision;
  const compaction = await fetch(`${etcdUrl}/v3/kv/compaction`, {
    method: 'POST',
    body: JSON.stringify({ revision, physical: true }),
  });
  if (!compaction.ok)
    throw new Error(`etcd compaction failed: HTTP ${compaction.status} ${await compaction.text()}`);
}

describe('Informer on a real API server', () => {
  let plane: ControlPlane;
  let config: k8s.KubeConfig;
  let namespace: string;
  let informer: Informer<k8s.V1ConfigMap>;
  const seen = new Map<string, string>();

  beforeAll(async () => {
    plane = await startControlPlane({ minio: false, minRequestTimeoutSeconds: 2 });
    config = kubeConfigFrom(plane.adminKubeconfig);
    namespace = await createTestNamespace(config, 'informer');
    informer = new Informer<k8s.V1ConfigMap>({
      name: 'configmaps',
      config,
      apiVersion: 'v1',
      kind: 'ConfigMap',
      plural: 'configmaps',
      namespace,
      labelSelector: 'test=informer',
      logger: pino({ level: 'silent' }),
      // Asks for long watches; the server's short --min-request-timeout ends them anyway.
      watchTimeoutSeconds: 2,
      onChange: (type, object) => seen.set(object.metadata?.name as string, `${type}:${object.data?.value}`),
    });
    informer.start();
    await informer.waitForSync();
  });
  afterAll(async () => {
    informer?.stop();
    await plane?.stop();
  });

  const core = () => config.makeApiClient(k8s.CoreV1Api);
  const put = (name: string, value: string) =>
    core().createNamespacedConfigMap({
      namespace,
      body: { metadata: { name, labels: { test: 'informer' } }, data: { value } },
    });

  it('sees changes made across many watch expiries', async () => {
    const restartsBefore = informer.health.restarts;
    for (let i = 0; i < 6; i++) {
      const name = `expiry-${i}`;
      await put(name, `v${i}`);
      await eventually(`${name} in the cache`, () => (seen.get(name) === `ADDED:v${i}` ? true : undefined));
      // Wait for the current watch to end before the next change, so each lands on a fresh watch.
      const restarts = informer.health.restarts;
      await eventually(
        'the server to end the watch',
        () => (informer.health.restarts > restarts ? true : undefined),
        {
          timeoutMs: 15_000,
        },
      );
    }
    expect(informer.health.restarts - restartsBefore).toBeGreaterThanOrEqual(6);
    expect(informer.list().filter((cm) => cm.metadata?.name?.startsWith('expiry-'))).toHaveLength(6);
  });

  it('sees deletions and changes made while the API server was restarting', async () => {
    await put('survives', 'before');
    await eventually('survives cached', () => (seen.get('survives') === 'ADDED:before' ? true : undefined));
    await plane.restartApiServer();
    const value = randomBytes(4).toString('hex');
    await core().replaceNamespacedConfigMap({
      name: 'survives',
      namespace,
      body: { metadata: { name: 'survives', labels: { test: 'informer' } }, data: { value } },
    });
    await core().deleteNamespacedConfigMap({ name: 'expiry-0', namespace });
    await eventually(
      'the change after the restart',
      () => (seen.get('survives') === `MODIFIED:${value}` ? true : undefined),
      {
        timeoutMs: 30_000,
      },
    );
    await eventually('the deletion after the restart', () =>
      informer.get(`${namespace}/expiry-0`) ? undefined : true,
    );
    expect(seen.get('expiry-0')?.startsWith('DELETED')).toBe(true);
    expect(informer.health.synced).toBe(true);
  });

  it('says in its health since when the API server is unreachable, and clears it on return', async () => {
    const stoppedAt = Date.now();
    await plane.processes.get('kube-apiserver')?.stop();
    const restarts = informer.health.restarts;
    // Several failed reconnects later, it still says watching has failed since the outage began.
    const health = await eventually(
      'the outage in the health',
      () =>
        informer.health.restarts >= restarts + 3 && informer.health.failingSince !== undefined
          ? { ...informer.health }
          : undefined,
      { timeoutMs: 30_000 },
    );
    expect(health.watching).toBe(false);
    expect(health.failingSince).toBeGreaterThanOrEqual(stoppedAt);
    await plane.restartApiServer();
    await eventually(
      'the watch back',
      () => (informer.health.watching && informer.health.failingSince === undefined ? true : undefined),
      { timeoutMs: 60_000 },
    );
  });

  it('relists after 410 Gone when the history it would resume from was compacted away', async () => {
    await put('before-compaction', 'x');
    await eventually('before-compaction cached', () => (seen.get('before-compaction') ? true : undefined));
    // Writes the informer does not watch move etcd's revision past its resource version.
    for (let i = 0; i < 5; i++) {
      await core().createNamespacedConfigMap({ namespace, body: { metadata: { name: `unwatched-${i}` } } });
    }
    await compactEtcd(plane.etcdUrl);
    const relistsBefore = informer.health.relists;
    // A fresh API server has no watch cache to serve the old version from; etcd answers "compacted".
    await plane.restartApiServer();
    await put('after-compaction', 'y');
    await eventually(
      'after-compaction seen',
      () => (seen.get('after-compaction') === 'ADDED:y' ? true : undefined),
      {
        timeoutMs: 30_000,
      },
    );
    expect(informer.health.relists).toBeGreaterThan(relistsBefore);
    expect(informer.get(`${namespace}/before-compaction`)).toBeDefined();
  });
});
