// Operator at scale: N VideoDownloads submitted at once against the real
// control plane, with the operator as its own process. Reports the time from
// create to a Job recorded in status (p50/p99), the operator's RSS with N
// resources and their Jobs in its caches, and, side by side, the same N Jobs
// created directly with client-node as the baseline. `make bench` runs it.
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as k8s from '@kubernetes/client-node';
import { type VideoDownload, VideoDownloadSpec } from '../../crds/video-download.ts';
import { loadOperatorConfig } from '../../operator/config.ts';
import { desiredJob } from '../../operator/desired-job.ts';
import { startControlPlane } from '../cluster/control-plane.ts';
import { ManagedProcess } from '../cluster/managed-process.ts';
import { registerNode } from '../cluster/node-registration.ts';
import { freePort } from '../cluster/readiness.ts';
import { eventually } from '../support/eventually.ts';
import { kubeConfigFrom } from '../support/kube.ts';
import { createDownloadNamespace, Downloads, installCrd, watchDownloads } from '../support/vdl.ts';
import { reportTable } from './results-table.ts';

const count = Number(process.env.VDL_BENCH_COUNT ?? 1000);
const concurrency = 32;

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? Number.NaN;
}

async function inParallel<T>(items: T[], work: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < items.length) await work(items[next++] as T);
    }),
  );
}

function rssMiB(pid: number): number {
  const line = readFileSync(`/proc/${pid}/status`, 'utf8')
    .split('\n')
    .find((l) => l.startsWith('VmRSS:'));
  return Number(line?.split(/\s+/)[1]) / 1024;
}

const plane = await startControlPlane({ minio: false, log: (m) => console.error(`[cluster] ${m}`) });
const config = kubeConfigFrom(plane.adminKubeconfig);
const node = await registerNode(config, 'bench-node', { cpu: '10000', memory: '10000Gi', pods: '10000' });
try {
  await installCrd(config);
  const names = Array.from({ length: count }, (_, i) => `d${String(i).padStart(5, '0')}`);

  // Baseline: the same Jobs, created straight through client-node.
  const baselineNs = await createDownloadNamespace(config, 'baseline');
  const batch = config.makeApiClient(k8s.BatchV1Api);
  const operatorConfig = loadOperatorConfig({}, {});
  const baselineStart = performance.now();
  await inParallel(names, async (name) => {
    const fake: VideoDownload = {
      apiVersion: 'vdl.dev/v1alpha1',
      kind: 'VideoDownload',
      metadata: { name, namespace: baselineNs, uid: `00000000-0000-0000-0000-${name.padStart(12, '0')}` },
      spec: VideoDownloadSpec.parse({ url: `https://example.com/${name}` }),
    };
    const job = desiredJob(fake, operatorConfig);
    delete job.metadata?.ownerReferences;
    await batch.createNamespacedJob({ namespace: baselineNs, body: job });
  });
  const baselineSeconds = (performance.now() - baselineStart) / 1000;

  // vdl: VideoDownloads through the operator.
  const namespace = await createDownloadNamespace(config, 'bench');
  const port = await freePort();
  const logDir = mkdtempSync(join(tmpdir(), 'vdl-bench-'));
  const operator = new ManagedProcess({
    name: 'operator',
    command: process.execPath,
    args: [fileURLToPath(new URL('../../operator/main.ts', import.meta.url))],
    env: {
      ...process.env,
      KUBECONFIG: plane.adminKubeconfig,
      VDL_WATCH_NAMESPACE: namespace,
      VDL_LEASE_NAMESPACE: namespace,
      VDL_METRICS_PORT: String(port),
      VDL_MAX_ACTIVE_DOWNLOADS: String(count),
      VDL_MAX_ACTIVE_PER_OWNER: String(count),
      VDL_LOG_LEVEL: 'warn',
    },
    logFile: join(logDir, 'operator.log'),
  });
  await eventually(
    'operator ready',
    async () => ((await fetch(`http://127.0.0.1:${port}/readyz`)).ok ? true : undefined),
    {
      timeoutMs: 60_000,
    },
  );
  const idleRss = rssMiB(operator.pid as number);

  const createdAt = new Map<string, number>();
  const latencies: number[] = [];
  // Observed through the operator's own Informer: it resumes its watch when
  // the server or a timeout ends it, so no transition is missed.
  const watch = watchDownloads(config, namespace, (d) => {
    const start = createdAt.get(d.metadata.name as string);
    if (start !== undefined && d.status?.jobName) {
      latencies.push(performance.now() - start);
      createdAt.delete(d.metadata.name as string);
    }
  });
  await watch.waitForSync();
  const downloads = new Downloads(config, namespace);
  const vdlStart = performance.now();
  await inParallel(names, async (name) => {
    createdAt.set(name, performance.now());
    await downloads.create(name, { url: `https://example.com/${name}` });
  });
  const submitSeconds = (performance.now() - vdlStart) / 1000;
  await eventually(`${count} downloads with a Job`, () => (latencies.length === count ? true : undefined), {
    timeoutMs: 600_000,
    intervalMs: 250,
  });
  const vdlSeconds = (performance.now() - vdlStart) / 1000;
  watch.stop();
  const loadedRss = rssMiB(operator.pid as number);
  const metrics = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
  const metric = (name: string) => Number(new RegExp(`^${name} (\\S+)$`, 'm').exec(metrics)?.[1]);
  const reconcileMs =
    (metric('vdl_operator_reconcile_duration_seconds_sum') /
      metric('vdl_operator_reconcile_duration_seconds_count')) *
    1000;
  await operator.stop();

  latencies.sort((a, b) => a - b);
  reportTable('operator scale', [
    ['downloads', String(count)],
    [`baseline: ${count} Jobs created directly (s)`, baselineSeconds.toFixed(2)],
    [`vdl: ${count} VideoDownloads submitted (s)`, submitSeconds.toFixed(2)],
    [`vdl: until every download has its Job in status (s)`, vdlSeconds.toFixed(2)],
    ['ratio vdl / baseline', (vdlSeconds / baselineSeconds).toFixed(2)],
    ['create → status.jobName p50 (ms)', percentile(latencies, 50).toFixed(0)],
    ['create → status.jobName p99 (ms)', percentile(latencies, 99).toFixed(0)],
    ['mean reconcile (ms)', reconcileMs.toFixed(2)],
    ['reconciles', String(metric('vdl_operator_reconciles_total{result="success"}'))],
    ['status writes', String(metric('vdl_operator_status_writes_total'))],
    ['operator RSS idle (MiB)', idleRss.toFixed(0)],
    [`operator RSS with ${count} downloads + Jobs cached (MiB)`, loadedRss.toFixed(0)],
    [
      'operator V8 heap used, same moment (MiB)',
      (metric('nodejs_heap_size_used_bytes') / 2 ** 20).toFixed(0),
    ],
  ]);
} finally {
  await node.stop();
  await plane.stop();
}
