// The chart as a user installs it, on a real node: every vdl pod runs in a
// container of containerd, admitted by a namespace that enforces the
// restricted Pod Security Standard, and `helm test` passes.
import * as k8s from '@kubernetes/client-node';
import { describe, expect, inject, it } from 'vitest';
import { kubeConfigFrom } from '../support/kube.ts';
import { helm, kubectl, namespace, release } from './cluster.ts';

const kubeconfig = inject('realKubeconfig');
const core = kubeConfigFrom(kubeconfig).makeApiClient(k8s.CoreV1Api);

describe('the chart on a real node', () => {
  it('passes helm test: the API is ready and a VideoDownload made through the CRD succeeds', async () => {
    // helm test fails when any test pod fails; the download pod fails unless its VideoDownload
    // reached Succeeded. (Not --logs: hook-succeeded deletes the pods before helm reads them.)
    const output = await helm(['test', release, '--namespace', namespace, '--timeout', '4m'], kubeconfig);
    expect(output).toMatch(/TEST SUITE:\s+vdl-test-api-ready[\s\S]*?Phase:\s+Succeeded/);
    expect(output).toMatch(/TEST SUITE:\s+vdl-test-download[\s\S]*?Phase:\s+Succeeded/);
  });

  it('runs every vdl pod in a containerd container, admitted under restricted', async () => {
    const ns = await core.readNamespace({ name: namespace });
    expect(ns.metadata?.labels?.['pod-security.kubernetes.io/enforce']).toBe('restricted');
    const pods = (await core.listNamespacedPod({ namespace })).items.filter(
      (pod) => pod.status?.phase === 'Running',
    );
    const parts = new Set(pods.map((pod) => pod.metadata?.labels?.['app.kubernetes.io/component']));
    expect([...parts].sort()).toEqual(expect.arrayContaining(['api', 'minio', 'operator']));
    for (const pod of pods) {
      for (const status of pod.status?.containerStatuses ?? [])
        expect(status.containerID).toMatch(/^containerd:\/\//);
    }
  });

  it('refuses a privileged pod in the release namespace (the policy is enforced, not only labelled)', async () => {
    const error = await kubectl(
      [
        '-n',
        namespace,
        'run',
        'privileged',
        '--image',
        'ghcr.io/vdl-dev/api:dev',
        '--privileged',
        '--restart=Never',
      ],
      kubeconfig,
    ).catch((e: Error) => e);
    expect(String(error)).toMatch(/violates PodSecurity "restricted/);
  });
});
