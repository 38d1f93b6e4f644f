// Leader election when the leader's connection to the API server hangs: the
// leader must stop leading before the standby can take over. Checked as a
// property of the order of events, never of how long anything took.
import * as k8s from '@kubernetes/client-node';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { reuseConnections } from '../../lib/kube/kube-config.ts';
import { LeaderElector } from '../../operator/manager/leader-election.ts';
import { eventually } from '../support/eventually.ts';
import { createTestNamespace, deleteNamespace, kubeConfigFrom } from '../support/kube.ts';
import { startTcpProxy, type TcpProxy } from '../support/tcp-proxy.ts';

/** The same credentials, reaching the API server at another address. */
function throughPort(config: k8s.KubeConfig, port: number): k8s.KubeConfig {
  const copy = new k8s.KubeConfig();
  copy.loadFromString(config.exportConfig());
  const cluster = copy.getCurrentCluster() as k8s.Cluster;
  const server = new URL(cluster.server);
  server.port = String(port);
  copy.loadFromOptions({
    clusters: copy.clusters.map((c) => (c.name === cluster.name ? { ...c, server: server.origin } : c)),
    users: copy.users,
    contexts: copy.contexts,
    currentContext: copy.currentContext,
  });
  return reuseConnections(copy);
}

describe('leader election with a hung connection', () => {
  let admin: k8s.KubeConfig;
  let namespace: string;
  let proxy: TcpProxy;
  const electors: LeaderElector[] = [];

  beforeAll(async () => {
    admin = kubeConfigFrom(inject('adminKubeconfig'));
    namespace = await createTestNamespace(admin, 'lease');
    const apiServer = new URL(inject('apiServerUrl'));
    proxy = await startTcpProxy({ host: apiServer.hostname, port: Number(apiServer.port) });
  });
  afterAll(async () => {
    await Promise.all(electors.map((elector) => elector.stop()));
    await proxy?.close();
    if (namespace) await deleteNamespace(admin, namespace);
  });

  it('the leader whose renew hangs stops leading before the standby starts', async () => {
    // Each elector's transitions, in the order this process saw them; a start
    // while another elector still leads is the violation this test exists for.
    const events: string[] = [];
    const violations: string[] = [];
    const elect = (identity: string, config: k8s.KubeConfig) => {
      const elector: LeaderElector = new LeaderElector({
        config,
        namespace,
        name: 'vdl-operator',
        identity,
        logger: pino({ level: process.env.VDL_TEST_LOG_LEVEL ?? 'warn' }),
        // Shorter than the defaults so the test is quick; the rule is the same.
        leaseDurationSeconds: 6,
        renewDeadlineMs: 4_000,
        retryPeriodMs: 500,
        onStartedLeading: () => {
          events.push(`${identity} started`);
          for (const other of electors)
            if (other !== elector && other.leading) violations.push(`${identity} started while another led`);
        },
        onStoppedLeading: () => events.push(`${identity} stopped`),
      });
      electors.push(elector);
      elector.start();
      return elector;
    };

    const leader = elect('leader', throughPort(admin, proxy.port));
    await eventually('the leader to lead', () => (leader.leading ? true : undefined));
    const standby = elect('standby', admin);
    // The leader keeps leading through renews (each a new renewTime) before the hang.
    const renewals = new Set<string>();
    await eventually('the leader to renew twice while leading', async () => {
      const lease = await admin
        .makeApiClient(k8s.CoordinationV1Api)
        .readNamespacedLease({ name: 'vdl-operator', namespace });
      if (lease.spec?.holderIdentity === 'leader') renewals.add(String(lease.spec.renewTime));
      return renewals.size >= 3 && leader.leading ? true : undefined;
    });
    proxy.hang();
    await eventually('the standby to lead', () => (standby.leading ? true : undefined), {
      timeoutMs: 90_000,
    });

    expect(violations, events.join(', ')).toEqual([]);
    expect(leader.leading).toBe(false);
    expect(events.lastIndexOf('leader stopped')).toBeGreaterThan(-1);
    expect(events.lastIndexOf('leader stopped'), events.join(', ')).toBeLessThan(
      events.indexOf('standby started'),
    );
  });
});
