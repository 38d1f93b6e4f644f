// What a download pod's token may write, as the real API server enforces it
// under the chart's RBAC and admission policy: status.progress of its own
// download, nothing of another's, and never phase, result or conditions.
import * as k8s from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { group, plural, version } from '../../crds/video-download.ts';
import { applyChartRbac } from '../support/chart-render.ts';
import { eventually } from '../support/eventually.ts';
import { deleteNamespace, kubeConfigFrom } from '../support/kube.ts';
import { podBoundToken } from '../support/pod-token.ts';
import { createDownloadNamespace, Downloads, installCrd } from '../support/vdl.ts';

const admin = kubeConfigFrom(inject('adminKubeconfig'));
const mergePatch = k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.MergePatch);
let namespace: string;
let downloads: Downloads;

/** A client that authenticates with nothing but the token, as the downloader does. */
function clientWithToken(token: string): k8s.CustomObjectsApi {
  const cluster = admin.getCurrentCluster() as k8s.Cluster;
  const config = new k8s.KubeConfig();
  config.loadFromOptions({
    clusters: [{ name: 'c', server: cluster.server, caData: cluster.caData, skipTLSVerify: false }],
    users: [{ name: 'downloader', token }],
    contexts: [{ name: 'd', cluster: 'c', user: 'downloader' }],
    currentContext: 'd',
  });
  return config.makeApiClient(k8s.CustomObjectsApi);
}

const podToken = (jobName: string) => podBoundToken(admin, namespace, jobName);

async function patchStatus(api: k8s.CustomObjectsApi, name: string, status: Record<string, unknown>) {
  try {
    await api.patchNamespacedCustomObjectStatus(
      { group, version, plural, namespace, name, body: { status } },
      mergePatch,
    );
    return { code: 200, message: '' };
  } catch (error) {
    const { code, body } = error as { code?: number; body?: string };
    return { code: code ?? 0, message: String(body) };
  }
}

const progress = { progress: { stage: 'downloading', percent: 12 } };
const result = {
  bucket: 'vdl',
  key: 'elsewhere/secret.mp4',
  size: 1,
  sha256: 'a'.repeat(64),
  contentType: 'video/mp4',
};

let ownToken: string;
let ownPod: string;

beforeAll(async () => {
  await installCrd(admin);
  namespace = await createDownloadNamespace(admin, 'perms');
  await applyChartRbac(admin, namespace);
  downloads = new Downloads(admin, namespace);
  const adminObjects = admin.makeApiClient(k8s.CustomObjectsApi);
  for (const name of ['alpha', 'beta', 'probe']) {
    await downloads.create(name, { url: `https://example.com/${name}` });
    // What the operator records when it creates the download's Job.
    await patchStatus(adminObjects, name, { phase: 'Running', jobName: name, attempts: 1 });
  }
  ({ pod: ownPod, token: ownToken } = await podToken('alpha'));
  // The API server picks a new policy up within a moment; wait for it to act
  // (on a download of its own, so nothing the tests look at is written).
  await eventually('the downloader policy to be in force', async () => {
    const refused = await patchStatus(clientWithToken(ownToken), 'probe', progress);
    return refused.code === 403 ? refused : undefined;
  });
}, 120_000);

afterAll(async () => {
  await deleteNamespace(admin, namespace);
});

describe("a download pod's token", () => {
  it('carries the pod it is bound to, which the policy reads', async () => {
    const cluster = admin.getCurrentCluster() as k8s.Cluster;
    const config = new k8s.KubeConfig();
    config.loadFromOptions({
      clusters: [{ name: 'c', server: cluster.server, caData: cluster.caData, skipTLSVerify: false }],
      users: [{ name: 'downloader', token: ownToken }],
      contexts: [{ name: 'd', cluster: 'c', user: 'downloader' }],
      currentContext: 'd',
    });
    const review = await config.makeApiClient(k8s.AuthenticationV1Api).createSelfSubjectReview({
      body: { apiVersion: 'authentication.k8s.io/v1', kind: 'SelfSubjectReview' },
    });
    expect(review.status?.userInfo?.username).toBe(`system:serviceaccount:${namespace}:vdl-downloader`);
    expect(review.status?.userInfo?.extra?.['authentication.kubernetes.io/pod-name']).toEqual([ownPod]);
  });

  it('may write the progress of its own download', async () => {
    expect(await patchStatus(clientWithToken(ownToken), 'alpha', progress)).toEqual({
      code: 200,
      message: '',
    });
    expect((await downloads.get('alpha')).status?.progress).toEqual(progress.progress);
    // Its last report names the stored file, inside progress: the operator checks it before it counts.
    const done = { progress: { stage: 'done', percent: 100, result } };
    expect(await patchStatus(clientWithToken(ownToken), 'alpha', done)).toEqual({ code: 200, message: '' });
    expect((await downloads.get('alpha')).status?.progress?.result).toEqual(result);
    expect((await downloads.get('alpha')).status?.result).toBeUndefined();
  });

  it('is refused the progress of another download, and the refusal names the pod', async () => {
    const refused = await patchStatus(clientWithToken(ownToken), 'beta', progress);
    expect(refused.code).toBe(403);
    expect(refused.message).toContain(`pod ${ownPod} may write the status of its own download only`);
    expect((await downloads.get('beta')).status?.progress).toBeUndefined();
  });

  it.each([
    ['phase', { phase: 'Succeeded' }],
    ['result', { result }],
    ['phase and result together with progress', { ...progress, phase: 'Succeeded', result }],
    [
      'conditions',
      {
        conditions: [
          {
            type: 'Ready',
            status: 'True',
            reason: 'X',
            message: '',
            lastTransitionTime: '2026-01-01T00:00:00Z',
          },
        ],
      },
    ],
    ['jobName (to claim another Job)', { jobName: 'beta' }],
    ['a removed field', { attempts: null }],
  ])('is refused %s of its own download', async (_name, status) => {
    const refused = await patchStatus(clientWithToken(ownToken), 'alpha', status);
    expect(refused.code).toBe(403);
    expect(refused.message).toContain('may change status.progress only');
    const stored = (await downloads.get('alpha')).status;
    expect(stored).toMatchObject({ phase: 'Running', jobName: 'alpha', attempts: 1 });
    expect(stored?.result).toBeUndefined();
  });

  it('is refused everything when it is not bound to a pod', async () => {
    const issued = await admin.makeApiClient(k8s.CoreV1Api).createNamespacedServiceAccountToken({
      name: 'vdl-downloader',
      namespace,
      body: { spec: { audiences: [] } },
    });
    const refused = await patchStatus(clientWithToken(issued.status?.token as string), 'alpha', progress);
    expect(refused.code).toBe(403);
    expect(refused.message).toContain('pod-bound service-account token');
  });

  it("of a pod whose name only starts like the download's Job is refused", async () => {
    // "alpha-x" makes pods "alpha-x-abcde": longer than alpha's "alpha-abcde".
    const { token } = await podToken('alpha-x');
    expect((await patchStatus(clientWithToken(token), 'alpha', progress)).code).toBe(403);
  });
});
