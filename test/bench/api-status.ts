// GET /status/{id} of the vdl API under 64 concurrent clients (autocannon),
// side by side with a direct GET of the same resource from kube-apiserver at
// the same concurrency: the API answers from its informer cache.
import { readFileSync } from 'node:fs';
import * as k8s from '@kubernetes/client-node';
import autocannon from 'autocannon';
import { pino } from 'pino';
import { hashKey } from '../../api/api-keys.ts';
import { loadApiConfig } from '../../api/config.ts';
import { startApi } from '../../api/server.ts';
import { startControlPlane } from '../cluster/control-plane.ts';
import { createTestNamespace, kubeConfigFrom } from '../support/kube.ts';
import { installCrd } from '../support/vdl.ts';
import { reportBench } from './results-table.ts';

const connections = 64;
const duration = Number(process.env.VDL_BENCH_SECONDS ?? 10);
const startedAt = performance.now();

function load(options: autocannon.Options): Promise<autocannon.Result> {
  return new Promise((resolve, reject) => {
    autocannon({ connections, duration, ...options }, (error, result) =>
      error ? reject(error) : resolve(result),
    );
  });
}

const plane = await startControlPlane({ minio: false, log: (m) => console.error(`[cluster] ${m}`) });
try {
  const config = kubeConfigFrom(plane.adminKubeconfig);
  await installCrd(config);
  const namespace = await createTestNamespace(config, 'bench');
  const key = 'bench-key';
  await config.makeApiClient(k8s.CoreV1Api).createNamespacedSecret({
    namespace,
    body: { metadata: { name: 'vdl-api-keys' }, stringData: { keys: `bench:user:${hashKey(key)}\n` } },
  });
  const api = await startApi({
    config: loadApiConfig({}, { namespace, port: 0, logLevel: 'silent', submitBurst: 1000 }),
    kubeConfig: config,
    logger: pino({ level: 'silent' }),
    storage: undefined,
    resolve: async () => [],
  });
  const submitted = await fetch(`${api.url}/download`, {
    method: 'POST',
    headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
    body: JSON.stringify({ url: 'https://videos.example/watch?v=bench' }),
  });
  const { job_id: id } = (await submitted.json()) as { job_id: string };
  while (!api.downloads.get(`${namespace}/${id}`)) await new Promise((r) => setImmediate(r));

  const vdl = await load({ url: `${api.url}/status/${id}`, headers: { authorization: `Bearer ${key}` } });
  const pki = plane.pki;
  const direct = await load({
    url: `${plane.apiServerUrl}/apis/vdl.dev/v1alpha1/namespaces/${namespace}/videodownloads/${id}`,
    tlsOptions: {
      ca: readFileSync(pki.ca.cert),
      cert: readFileSync(pki.clients['vdl-admin']?.cert as string),
      key: readFileSync(pki.clients['vdl-admin']?.key as string),
    },
  } as autocannon.Options);
  await api.close();

  const ratio = vdl.requests.average / direct.requests.average;
  const absolute = (result: autocannon.Result) =>
    `${result.requests.average.toFixed(0)} req/s, p50 ${result.latency.p50} ms, p99 ${result.latency.p99} ms`;
  reportBench(
    'api status reads',
    startedAt,
    [
      {
        id: '2',
        measure: `GET /status/{id}, ${connections} clients: throughput`,
        vdl: absolute(vdl),
        baseline: `${absolute(direct)} (GET from kube-apiserver)`,
        ratio: ratio.toFixed(2),
        goal: '≥ 5',
        met: ratio >= 5,
      },
      {
        id: '2',
        measure: 'GET /status/{id}: p99',
        vdl: `${vdl.latency.p99} ms`,
        baseline: `${direct.latency.p99} ms`,
        ratio: (vdl.latency.p99 / direct.latency.p99).toFixed(2),
        goal: '< 10 ms',
        met: vdl.latency.p99 < 10,
      },
    ],
    [
      ['seconds per run', String(duration)],
      ['errors + non-2xx, vdl / baseline', `${vdl.errors + vdl.non2xx} / ${direct.errors + direct.non2xx}`],
      ['requests, vdl / baseline', `${vdl.requests.total} / ${direct.requests.total}`],
    ],
  );
} finally {
  await plane.stop();
}
