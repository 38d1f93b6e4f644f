// GET /status/{id} of the vdl API under 64 concurrent clients (autocannon),
// side by side with a GET of the same resource from kube-apiserver at the
// same concurrency. Like with like: the API answers from its informer cache,
// so the baseline is kube-apiserver's cache read (resourceVersion=0, served
// from its watch cache); its quorum read (from etcd) is shown for context.
// The API runs as its own process (node api/main.ts), and the load generator
// runs in a process of its own for every side.
import { execFile } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import * as k8s from '@kubernetes/client-node';
import type autocannon from 'autocannon';
import { hashKey } from '../../api/api-keys.ts';
import { nodeFlags as apiFlags } from '../../lib/runtime/node-flags.ts';
import { startControlPlane } from '../cluster/control-plane.ts';
import { ManagedProcess } from '../cluster/managed-process.ts';
import { freePort, waitForHealthy } from '../cluster/readiness.ts';
import { eventually } from '../support/eventually.ts';
import { createTestNamespace, kubeConfigFrom } from '../support/kube.ts';
import { installCrd } from '../support/vdl.ts';
import { warmCompileCache } from './compile-cache.ts';
import { reportBench } from './results-table.ts';

const connections = 64;
const duration = Number(process.env.VDL_BENCH_SECONDS ?? 10);
const root = fileURLToPath(new URL('../../', import.meta.url));
/** Node flags for the API after its own (lib/runtime/node-flags.ts), to try settings (e.g. --max-semi-space-size=16). */
const nodeFlags = process.env.VDL_BENCH_NODE_FLAGS?.split(' ').filter(Boolean) ?? [];
const startedAt = performance.now();

async function load(run: Record<string, unknown>): Promise<autocannon.Result> {
  const { stdout } = await promisify(execFile)(
    process.execPath,
    [join(root, 'test/bench/load.ts'), JSON.stringify({ connections, duration, ...run })],
    { maxBuffer: 64 * 2 ** 20 },
  );
  return JSON.parse(stdout) as autocannon.Result;
}

const plane = await startControlPlane({ minio: false, log: (m) => console.error(`[cluster] ${m}`) });
let api: ManagedProcess | undefined;
try {
  const config = kubeConfigFrom(plane.adminKubeconfig);
  await installCrd(config);
  const namespace = await createTestNamespace(config, 'bench');
  const key = 'bench-key';
  await config.makeApiClient(k8s.CoreV1Api).createNamespacedSecret({
    namespace,
    body: { metadata: { name: 'vdl-api-keys' }, stringData: { keys: `bench:user:${hashKey(key)}\n` } },
  });
  const port = await freePort();
  const flags = [...apiFlags('api', root), ...nodeFlags];
  api = new ManagedProcess({
    name: 'api',
    command: process.execPath,
    args: [...flags, join(root, 'api/main.ts')],
    env: {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      KUBECONFIG: plane.adminKubeconfig,
      NODE_COMPILE_CACHE: warmCompileCache(root, [{ program: 'api', flags }]),
      VDL_API_PORT: String(port),
      VDL_API_NAMESPACE: namespace,
      VDL_API_LOG_LEVEL: 'warn',
      VDL_API_SUBMIT_BURST: '1000',
    },
    logFile: join(mkdtempSync(join(tmpdir(), 'vdl-bench-api-')), 'api.log'),
  });
  const apiUrl = `http://127.0.0.1:${port}`;
  await waitForHealthy(api, `${apiUrl}/readyz`, { timeoutMs: 120_000 });
  const authorization = `Bearer ${key}`;
  const submitted = await eventually('the API to know the bench key', async () => {
    const response = await fetch(`${apiUrl}/download`, {
      method: 'POST',
      headers: { authorization, 'content-type': 'application/json' },
      body: JSON.stringify({ url: 'https://93.184.215.14/watch?v=bench' }),
    });
    return response.status === 202 ? ((await response.json()) as { job_id: string }) : undefined;
  });
  const id = submitted.job_id;
  await eventually('the API to serve the download from its cache', async () =>
    (await fetch(`${apiUrl}/status/${id}`, { headers: { authorization } })).ok ? true : undefined,
  );

  const vdl = await load({ url: `${apiUrl}/status/${id}`, headers: { authorization } });
  const admin = plane.pki.clients['vdl-admin'];
  const tlsFiles = { ca: plane.pki.ca.cert, cert: admin?.cert, key: admin?.key };
  const resource = `${plane.apiServerUrl}/apis/vdl.dev/v1alpha1/namespaces/${namespace}/videodownloads/${id}`;
  const cacheRead = await load({ url: `${resource}?resourceVersion=0`, tlsFiles });
  const quorumRead = await load({ url: resource, tlsFiles });

  const ratio = vdl.requests.average / cacheRead.requests.average;
  const absolute = (result: autocannon.Result) =>
    `${result.requests.average.toFixed(0)} req/s, p50 ${result.latency.p50} ms, p99 ${result.latency.p99} ms`;
  const failures = (result: autocannon.Result) => result.errors + result.non2xx;
  reportBench(
    'api status reads',
    startedAt,
    [
      {
        id: '2',
        measure: `GET /status/{id}, ${connections} clients: throughput`,
        vdl: absolute(vdl),
        baseline: `${absolute(cacheRead)} (kube-apiserver cache read, resourceVersion=0)`,
        ratio: ratio.toFixed(2),
        goal: '≥ 5',
        met: ratio >= 5 && failures(vdl) === 0,
      },
      {
        id: '2',
        measure: 'GET /status/{id}: p99',
        vdl: `${vdl.latency.p99} ms`,
        baseline: `${cacheRead.latency.p99} ms`,
        ratio: (vdl.latency.p99 / cacheRead.latency.p99).toFixed(2),
        goal: '< 10 ms',
        met: vdl.latency.p99 < 10,
      },
    ],
    [
      ['seconds per run', String(duration)],
      ['API node flags', [...apiFlags('api', '.'), ...nodeFlags].join(' ')],
      ['kube-apiserver quorum read (from etcd), for context', absolute(quorumRead)],
      [
        'errors + non-2xx, vdl / cache read / quorum read',
        `${failures(vdl)} / ${failures(cacheRead)} / ${failures(quorumRead)}`,
      ],
      [
        'requests, vdl / cache read / quorum read',
        `${vdl.requests.total} / ${cacheRead.requests.total} / ${quorumRead.requests.total}`,
      ],
      ['processes', 'API (node api/main.ts), kube-apiserver, etcd, and one autocannon process per run'],
    ],
  );
} finally {
  await api?.stop();
  await plane.stop();
}
