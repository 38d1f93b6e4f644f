// The writes one download costs kube-apiserver, counted by kube-apiserver
// itself (apiserver_request_total by verb and resource), on the whole system
// as `make dev` runs it: the API and operator as their own processes, the pod
// run by the process node with real yt-dlp, the file in real MinIO.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as k8s from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { apiServerWrites, delta, settledWrites } from '../bench/apiserver-writes.ts';
import { type DevEnvironment, startDevEnvironment } from '../dev-environment/environment.ts';
import { eventually } from '../support/eventually.ts';
import { kubeConfigFrom } from '../support/kube.ts';

let env: DevEnvironment;
let config: k8s.KubeConfig;

beforeAll(async () => {
  env = await startDevEnvironment({ dir: mkdtempSync(join(tmpdir(), 'vdl-writes-')), namespace: 'writes' });
  config = kubeConfigFrom(env.kubeconfig);
}, 180_000);

afterAll(async () => {
  await env?.stop();
});

async function operatorStatusWrites(): Promise<number> {
  const text = await (await fetch(env.operatorMetricsUrl)).text();
  return Number(/^vdl_operator_status_writes_total (\S+)$/m.exec(text)?.[1] ?? 0);
}

describe('write budget', () => {
  it('spends 5 writes on a download besides its progress: create, Job, upload plan, 2 status patches, no Events', async () => {
    const before = await apiServerWrites(env.plane);
    const operatorBefore = await operatorStatusWrites();
    const submitted = await fetch(`${env.apiUrl}/download`, {
      method: 'POST',
      headers: { authorization: `Bearer ${env.apiKey}`, 'content-type': 'application/json' },
      body: JSON.stringify({ url: `${env.media.url}/progressive.mp4` }),
    });
    expect(submitted.status).toBe(202);
    const { job_id: id } = (await submitted.json()) as { job_id: string };
    await eventually(
      `${id} DONE`,
      async () => {
        const status = (await (
          await fetch(`${env.apiUrl}/status/${id}`, { headers: { authorization: `Bearer ${env.apiKey}` } })
        ).json()) as { state: string; error: unknown };
        if (status.state === 'FAILED') throw new Error(`${id} failed: ${JSON.stringify(status.error)}`);
        return status.state === 'DONE' ? true : undefined;
      },
      { timeoutMs: 90_000, intervalMs: 100 },
    );
    const batch = config.makeApiClient(k8s.BatchV1Api);
    // The Job ends after DONE; whatever the operator does on seeing that must be in the count.
    const job = await eventually(
      'the Job complete',
      async () => {
        const read = await batch.readNamespacedJob({ name: id, namespace: env.namespace });
        return read.status?.conditions?.some((c) => c.type === 'Complete' && c.status === 'True')
          ? read
          : undefined;
      },
      { timeoutMs: 60_000 },
    );
    expect(job.spec?.ttlSecondsAfterFinished).toBeDefined();
    const settled = await settledWrites(env.plane, (key) =>
      /^\S+ (videodownloads|jobs|secrets|events)(\/|$)/.test(key),
    );
    const writes = delta(settled, before);
    const count = (key: string) => writes.get(key) ?? 0;
    const operatorStatus = (await operatorStatusWrites()) - operatorBefore;
    const events = await config.makeApiClient(k8s.CoreV1Api).listNamespacedEvent({
      namespace: env.namespace,
      fieldSelector: `involvedObject.kind=VideoDownload,involvedObject.name=${id}`,
    });
    console.log(
      'writes in the window:',
      [...writes]
        .sort((a, b) => b[1] - a[1])
        .map(([k, v]) => `${k} ${v}`)
        .join(', '),
      `; operator status patches ${operatorStatus}`,
    );
    expect({
      'POST videodownloads': count('POST videodownloads'),
      'PATCH videodownloads': count('PATCH videodownloads'),
      'POST jobs': count('POST jobs'),
      'PATCH jobs': count('PATCH jobs'),
      'POST secrets': count('POST secrets'),
      'operator status patches': operatorStatus,
      'VideoDownload Events': events.items.map((e) => e.reason),
    }).toEqual({
      'POST videodownloads': 1,
      'PATCH videodownloads': 0,
      'POST jobs': 1,
      'PATCH jobs': 0,
      'POST secrets': 1,
      'operator status patches': 2,
      'VideoDownload Events': [],
    });
    // The rest of the status patches are the pod's progress, at least its final report.
    expect(count('PATCH videodownloads/status')).toBeGreaterThan(operatorStatus);
  });
});
