// The unfinished-download quota raced: a dozen concurrent submissions of one
// user with a limit of 3, spread over two API processes on one control plane,
// each under the chart's service account, RBAC and admission policy.
import { randomBytes } from 'node:crypto';
import * as k8s from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hashKey } from '../../api/api-keys.ts';
import { quotaObjectName } from '../../api/quota.ts';
import { labels } from '../../crds/video-download.ts';
import { VideoDownloads } from '../../lib/kube/video-downloads.ts';
import { type ApiProcess, type ApiReplica, startApiProcess } from '../support/api-process.ts';
import { eventually } from '../support/eventually.ts';
import { kubeConfigFrom } from '../support/kube.ts';

let api: ApiProcess;
let second: ApiReplica;
const daveKey = randomBytes(16).toString('hex');
const downloads = () => new VideoDownloads(api.kube, api.namespace);

beforeAll(async () => {
  api = await startApiProcess({ VDL_API_MAX_UNFINISHED_PER_USER: '3' }, { serviceAccount: true });
  second = await api.startReplica();
  await api.setKeysText(`${api.keysText()}dave:user:${hashKey(daveKey)}\n`);
  for (const url of [api.url, second.url])
    await eventually(`dave's key on ${url}`, async () => {
      const response = await fetch(`${url}/downloads`, { headers: { authorization: `Bearer ${daveKey}` } });
      return response.status === 200 ? true : undefined;
    });
});

afterAll(async () => {
  await api?.stop();
});

describe('the unfinished-download quota', () => {
  it('accepts exactly 3 of 12 concurrent submissions over two replicas, and frees a slot once one finishes', async () => {
    const submit = (url: string, i: number) =>
      fetch(`${url}/download`, {
        method: 'POST',
        headers: { authorization: `Bearer ${daveKey}`, 'content-type': 'application/json' },
        body: JSON.stringify({ url: `https://videos.example/race-${i}` }),
      }).then(async (response) => ({
        status: response.status,
        body: (await response.json()) as { job_id?: string; detail?: string },
      }));
    const answers = await Promise.all(
      Array.from({ length: 12 }, (_, i) => submit(i % 2 === 0 ? api.url : second.url, i)),
    );
    const accepted = answers.filter((a) => a.status === 202).map((a) => a.body.job_id as string);
    expect(answers.map((a) => a.status).sort()).toEqual([...Array(3).fill(202), ...Array(9).fill(429)]);
    for (const refused of answers.filter((a) => a.status === 429))
      expect(refused.body.detail).toMatch(/unfinished downloads; the limit is 3/);
    const list = await downloads().list({ labelSelector: `${labels.owner}=dave` });
    expect(list.map((d) => d.metadata.name).sort()).toEqual([...accepted].sort());
    const counter = await api.kube
      .makeApiClient(k8s.CoreV1Api)
      .readNamespacedConfigMap({ name: quotaObjectName('dave'), namespace: api.namespace });
    expect(Object.keys(counter.data ?? {}).sort()).toEqual([...accepted].sort());

    await downloads().patchStatus(accepted[0] as string, { phase: 'Succeeded' });
    const next = await eventually('a slot once one download finished', async () => {
      const answer = await submit(second.url, 100);
      return answer.status === 202 ? (answer.body.job_id as string) : undefined;
    });
    const after = await api.kube
      .makeApiClient(k8s.CoreV1Api)
      .readNamespacedConfigMap({ name: quotaObjectName('dave'), namespace: api.namespace });
    expect(Object.keys(after.data ?? {}).sort()).toEqual([...accepted.slice(1), next].sort());
  });

  it("lets the API's service account write its quota ConfigMaps and no other", async () => {
    const core = api.kube.makeApiClient(k8s.CoreV1Api);
    await core.createNamespacedConfigMap({
      namespace: api.namespace,
      body: { metadata: { name: 'someone-elses' }, data: { a: 'b' } },
    });
    const asApi = kubeConfigFrom(api.apiKubeconfig).makeApiClient(k8s.CoreV1Api);
    const name = quotaObjectName('erin');
    const mine = await asApi.createNamespacedConfigMap({
      namespace: api.namespace,
      body: { metadata: { name }, data: {} },
    });
    await asApi.replaceNamespacedConfigMap({
      name,
      namespace: api.namespace,
      body: { ...mine, data: { x: 'y' } },
    });
    const codeOf = (call: Promise<unknown>) =>
      call.then(
        () => 200,
        (error: { code?: number }) => error.code,
      );
    const theirs = await asApi.readNamespacedConfigMap({ name: 'someone-elses', namespace: api.namespace });
    expect(
      await codeOf(
        asApi.replaceNamespacedConfigMap({
          name: 'someone-elses',
          namespace: api.namespace,
          body: { ...theirs, data: { a: 'changed' } },
        }),
      ),
    ).toBe(403);
    expect(
      await codeOf(
        asApi.createNamespacedConfigMap({
          namespace: api.namespace,
          body: { metadata: { name: 'planted' } },
        }),
      ),
    ).toBe(403);
    expect(await codeOf(asApi.listNamespacedConfigMap({ namespace: api.namespace }))).toBe(403);
    expect(await codeOf(asApi.deleteNamespacedConfigMap({ name, namespace: api.namespace }))).toBe(403);
  });
});
