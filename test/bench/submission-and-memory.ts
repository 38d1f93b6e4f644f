// Benchmarks 1 and 4 on the real control plane, the operator and the API as
// their own processes (admin credentials, limits raised for the run):
// 1. N downloads POSTed to the API as fast as it accepts them, until every
//    Job exists, against the least any design must do: the same N
//    VideoDownloads and their Jobs created directly with client-node (two
//    writes each). 1b: the same at a steady 50 a second for a minute, submit
//    → Job latency against the direct creates at the same rate.
// 4. Then up to M VideoDownloads in all (the rest created directly), each
//    with its Job, and the operator's and the API's RSS with them cached,
//    each against a bare Node process caching what that program caches
//    (operator: downloads, Jobs, pods; API: downloads and its key Secret)
//    with client-node's stock informers.
// The operator stores into MinIO (it makes each download's upload plan).
// kube-controller-manager is stopped first: the Jobs then create no pods,
// so nothing but our objects fills the caches and no pod writes compete
// with the Job creates (the same for the baseline).
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import * as k8s from '@kubernetes/client-node';
import { hashKey } from '../../api/api-keys.ts';
import { labels } from '../../crds/video-download.ts';
import { type Program, nodeFlags as programFlags } from '../../lib/runtime/node-flags.ts';
import { loadOperatorConfig } from '../../operator/config.ts';
import { desiredJob } from '../../operator/controllers/video-download/desired-job.ts';
import { startControlPlane } from '../cluster/control-plane.ts';
import { ManagedProcess } from '../cluster/managed-process.ts';
import { freePort } from '../cluster/readiness.ts';
import { eventually } from '../support/eventually.ts';
import { kubeConfigFrom } from '../support/kube.ts';
import { minioClient } from '../support/storage.ts';
import { createDownloadNamespace, Downloads, installCrd } from '../support/vdl.ts';
import { warmCompileCache } from './compile-cache.ts';
import { watchJobStarts } from './job-watch.ts';
import { cpuSeconds, inParallel, percentile, rssMiB } from './measures.ts';
import { reportBench } from './results-table.ts';

const count = Number(process.env.VDL_BENCH_COUNT ?? 1000);
const cached = Math.max(
  count +
    Number(process.env.VDL_BENCH_SUSTAIN_RATE ?? 50) * Number(process.env.VDL_BENCH_SUSTAIN_SECONDS ?? 60),
  Number(process.env.VDL_BENCH_CACHED ?? 10_000),
);
const concurrency = 32;
/** How long the cache fill may take: each download is a Job, an upload plan and status writes; a busy 2-core machine needs more than 15 minutes for 10,000. */
const fillWaitMs = Math.max(900_000, cached * 200);
const sustainRate = Number(process.env.VDL_BENCH_SUSTAIN_RATE ?? 50);
const sustainSeconds = Number(process.env.VDL_BENCH_SUSTAIN_SECONDS ?? 60);
const sustained = sustainRate * sustainSeconds;
const cpuProfileDir = process.env.VDL_BENCH_CPU_PROF;
const heapSnapshotDir = process.env.VDL_BENCH_HEAP_SNAPSHOT;
/** Node flags for the operator and the API after their own (lib/runtime/node-flags.ts), to try settings (e.g. --max-semi-space-size=2). */
const nodeFlags = process.env.VDL_BENCH_NODE_FLAGS?.split(' ').filter(Boolean) ?? [];
const root = fileURLToPath(new URL('../../', import.meta.url));
const startedAt = performance.now();
// A public address literal: the API's URL policy needs no DNS for it, and nothing ever connects.
const videoUrl = (name: string) => `https://93.184.215.14/watch?v=${name}`;

const mem = (n: number) => `${n.toFixed(0)} MiB`;

function latencies(sentAt: Map<string, number>, seen: Map<string, number>): number[] {
  return [...sentAt].map(([name, at]) => (seen.get(name) as number) - at);
}

/** Starts work(i) for i < total at a steady rate, not waiting for one before the next is due. */
async function atRate(total: number, perSecond: number, work: (i: number) => Promise<void>) {
  const began = performance.now();
  const started: Array<Promise<void>> = [];
  for (let i = 0; i < total; i++) {
    const wait = began + (i * 1000) / perSecond - performance.now();
    if (wait > 0) await delay(wait);
    started.push(work(i));
  }
  await Promise.all(started);
}

// MinIO too: the operator makes each started download's upload plan (two multipart uploads and
// a Secret), part of what it costs per download; without a store every reconcile would fail.
const plane = await startControlPlane({ log: (m) => console.error(`[cluster] ${m}`) });
const processes: ManagedProcess[] = [];
/** CPU seconds of the named processes, for where the time of a run went. */
function cpuOf(named: Record<string, number | undefined>): Record<string, number> {
  return Object.fromEntries(Object.entries(named).map(([name, pid]) => [name, pid ? cpuSeconds(pid) : 0]));
}
function cpuSpent(before: Record<string, number>, after: Record<string, number>): string {
  return Object.keys(after)
    .map((name) => `${name} ${((after[name] ?? 0) - (before[name] ?? 0)).toFixed(1)}`)
    .join(', ');
}
try {
  const config = kubeConfigFrom(plane.adminKubeconfig);
  await installCrd(config);
  // Namespaces first: their default service account comes from the controller manager.
  const baselineNs = await createDownloadNamespace(config, 'baseline');
  const namespace = await createDownloadNamespace(config, 'bench');
  await plane.processes.get('kube-controller-manager')?.stop();
  plane.processes.delete('kube-controller-manager');
  const names = Array.from({ length: count }, (_, i) => `d${String(i).padStart(5, '0')}`);

  // Baseline: each download and the operator's Job for it, created straight through client-node.
  const baselineSeen = new Map<string, number>();
  const baselineWatch = watchJobStarts(config, baselineNs, baselineSeen);
  await baselineWatch.waitForSync();
  const batch = config.makeApiClient(k8s.BatchV1Api);
  const baselineDownloads = new Downloads(config, baselineNs);
  const operatorConfig = loadOperatorConfig({}, {});
  const baselineSent = new Map<string, number>();
  const createDirectly = async (name: string, sentAt: Map<string, number>) => {
    sentAt.set(name, performance.now());
    const download = await baselineDownloads.create(
      name,
      { url: videoUrl(name) },
      { labels: { [labels.owner]: 'bench' } },
    );
    await batch.createNamespacedJob({ namespace: baselineNs, body: desiredJob(download, operatorConfig) });
  };
  const planePids = {
    'kube-apiserver': plane.processes.get('kube-apiserver')?.pid,
    etcd: plane.processes.get('etcd')?.pid,
    bench: process.pid,
  };
  const baselineCpu = cpuOf(planePids);
  const baselineStart = performance.now();
  await inParallel(names, concurrency, (name) => createDirectly(name, baselineSent));
  await eventually(`${count} baseline Jobs seen`, () => (baselineSeen.size === count ? true : undefined), {
    timeoutMs: 300_000,
  });
  const baselineSeconds = (Math.max(...baselineSeen.values()) - baselineStart) / 1000;
  const baselineCpuSpent = cpuSpent(baselineCpu, cpuOf(planePids));
  // 1b's baseline: the same creates at a steady rate.
  const baselineSteadySent = new Map<string, number>();
  await atRate(sustained, sustainRate, (i) =>
    createDirectly(`s${String(i).padStart(5, '0')}`, baselineSteadySent),
  );
  await eventually(
    `${sustained} steady baseline Jobs seen`,
    () => (baselineSeen.size === count + sustained ? true : undefined),
    { timeoutMs: 300_000 },
  );
  baselineWatch.stop();

  // vdl: the operator and the API as their own processes.
  const key = 'bench-key';
  await config.makeApiClient(k8s.CoreV1Api).createNamespacedSecret({
    namespace,
    body: { metadata: { name: 'vdl-api-keys' }, stringData: { keys: `bench:user:${hashKey(key)}\n` } },
  });
  const logDir = mkdtempSync(join(tmpdir(), 'vdl-bench-'));
  const operatorPort = await freePort();
  const apiPort = await freePort();
  const heapSnapshot = (part: string) =>
    heapSnapshotDir && part.endsWith('restarted')
      ? ['--heapsnapshot-signal=SIGUSR2', `--diagnostic-dir=${heapSnapshotDir}/${part}`]
      : [];
  const profile = (part: string) =>
    cpuProfileDir ? [`--cpu-prof`, `--cpu-prof-dir=${cpuProfileDir}/${part}`] : [];
  const compileCache = warmCompileCache(root, [
    { program: 'operator', flags: [...programFlags('operator', root), ...nodeFlags] },
    { program: 'api', flags: [...programFlags('api', root), ...nodeFlags] },
  ]);
  const start = (part: string, program: Program, env: Record<string, string>) => {
    const child = new ManagedProcess({
      name: part,
      command: process.execPath,
      args: [
        ...programFlags(program, root),
        ...nodeFlags,
        ...profile(part),
        ...heapSnapshot(part),
        join(root, program, 'main.ts'),
      ],
      env: {
        PATH: process.env.PATH,
        HOME: process.env.HOME,
        KUBECONFIG: plane.adminKubeconfig,
        NODE_COMPILE_CACHE: compileCache,
        ...env,
      },
      logFile: join(logDir, `${part}.log`),
    });
    processes.push(child);
    return child;
  };
  const minio = plane.minio as NonNullable<typeof plane.minio>;
  await minioClient(minio).makeBucket('vdl');
  const operatorEnv = {
    VDL_S3_ENDPOINT: minio.url,
    VDL_S3_ACCESS_KEY: minio.accessKey,
    VDL_S3_SECRET_KEY: minio.secretKey,
    VDL_DEFAULT_BUCKET: 'vdl',
    VDL_WATCH_NAMESPACE: namespace,
    VDL_LEASE_NAMESPACE: namespace,
    VDL_METRICS_PORT: String(operatorPort),
    VDL_MAX_ACTIVE_DOWNLOADS: String(cached),
    VDL_MAX_ACTIVE_PER_OWNER: String(cached),
    VDL_LOG_LEVEL: 'warn',
    ...(process.env.VDL_WORKERS ? { VDL_WORKERS: process.env.VDL_WORKERS } : {}),
  };
  const apiEnv = {
    VDL_API_PORT: String(apiPort),
    VDL_API_NAMESPACE: namespace,
    VDL_API_LOG_LEVEL: 'warn',
    VDL_API_SUBMIT_PER_MINUTE: String(cached * 100),
    VDL_API_SUBMIT_BURST: String(cached),
    VDL_API_MAX_UNFINISHED_PER_USER: String(cached),
  };
  const operator = start('operator', 'operator', operatorEnv);
  const api = start('api', 'api', apiEnv);
  const apiUrl = `http://127.0.0.1:${apiPort}`;
  const ready = async () => {
    for (const url of [`http://127.0.0.1:${operatorPort}/readyz`, `${apiUrl}/readyz`]) {
      await eventually(
        `${url} ready`,
        async () => ((await fetch(url).catch(() => undefined))?.ok ? true : undefined),
        {
          timeoutMs: 120_000,
        },
      );
    }
  };
  await ready();
  const idle = { operator: rssMiB(operator.pid as number), api: rssMiB(api.pid as number) };

  const seen = new Map<string, number>();
  const jobWatch = watchJobStarts(config, namespace, seen);
  await jobWatch.waitForSync();
  const sentAt = new Map<string, number>();
  let rejected = 0;
  const vdlPids = { ...planePids, operator: operator.pid, api: api.pid };
  const vdlCpu = cpuOf(vdlPids);
  const vdlStart = performance.now();
  await inParallel(names, concurrency, async () => {
    const sent = performance.now();
    const response = await fetch(`${apiUrl}/download`, {
      method: 'POST',
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
      body: JSON.stringify({ url: videoUrl(String(sent)) }),
    });
    const body = (await response.json()) as { job_id?: string };
    if (response.status !== 202 || !body.job_id) {
      rejected += 1;
      throw new Error(`POST /download answered ${response.status}: ${JSON.stringify(body)}`);
    }
    sentAt.set(body.job_id, sent);
  });
  const acceptSeconds = (performance.now() - vdlStart) / 1000;
  await eventually(`${count} Jobs of submitted downloads`, () => (seen.size >= count ? true : undefined), {
    timeoutMs: 900_000,
    intervalMs: 100,
  });
  const vdlSeconds = (Math.max(...seen.values()) - vdlStart) / 1000;
  const vdlCpuSpent = cpuSpent(vdlCpu, cpuOf(vdlPids));
  const vdlLatency = latencies(sentAt, seen);
  const baselineLatency = latencies(baselineSent, baselineSeen);

  // 1b: a steady stream of submits, each timed from its POST to its Job.
  const steadySent = new Map<string, number>();
  await atRate(sustained, sustainRate, async () => {
    const sent = performance.now();
    const response = await fetch(`${apiUrl}/download`, {
      method: 'POST',
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
      body: JSON.stringify({ url: videoUrl(`steady-${sent}`) }),
    });
    const body = (await response.json()) as { job_id?: string };
    if (response.status !== 202 || !body.job_id)
      throw new Error(`POST /download answered ${response.status}: ${JSON.stringify(body)}`);
    steadySent.set(body.job_id, sent);
  });
  await eventually(
    `${sustained} Jobs of steady submits`,
    () => (seen.size >= count + sustained ? true : undefined),
    { timeoutMs: 900_000, intervalMs: 100 },
  );
  const steadyLatency = latencies(steadySent, seen);
  const baselineSteadyLatency = latencies(baselineSteadySent, baselineSeen);
  const operatorMetrics = async () => {
    const text = await (await fetch(`http://127.0.0.1:${operatorPort}/metrics`)).text();
    return (name: string) =>
      Number(new RegExp(`^${name.replace(/[{}]/g, '\\$&')} (\\S+)$`, 'm').exec(text)?.[1]);
  };
  const m1 = await operatorMetrics();
  const reconcileMs =
    (m1('vdl_operator_reconcile_duration_seconds_sum') /
      m1('vdl_operator_reconcile_duration_seconds_count')) *
    1000;

  // 4: the rest of the downloads created directly (the same objects the API makes), until each has its Job.
  const downloads = new Downloads(config, namespace);
  const more = Array.from({ length: cached - count - sustained }, (_, i) => `m${String(i).padStart(5, '0')}`);
  const fillStart = performance.now();
  await inParallel(more, concurrency, async (name) => {
    await downloads.create(name, { url: videoUrl(name) }, { labels: { [labels.owner]: 'bench' } });
  });
  await eventually(`${cached} Jobs`, () => (seen.size >= cached ? true : undefined), {
    timeoutMs: fillWaitMs,
    intervalMs: 250,
  });
  const fillSeconds = (performance.now() - fillStart) / 1000;
  jobWatch.stop();
  // Both caches must hold everything: every status written (the API's watch follows within moments).
  await eventually(
    'every download has its status written',
    async () => {
      const m = await operatorMetrics();
      return m('vdl_operator_status_writes_total') >= cached && m('vdl_operator_workqueue_depth') === 0
        ? true
        : undefined;
    },
    { timeoutMs: fillWaitMs, intervalMs: 500 },
  );
  await eventually('the API serves the last download', async () => {
    const response = await fetch(`${apiUrl}/status/${more.at(-1) ?? [...sentAt.keys()].at(-1)}`, {
      headers: { authorization: `Bearer ${key}` },
    });
    return response.ok ? true : undefined;
  });
  const m4 = await operatorMetrics();
  const loaded = { operator: rssMiB(operator.pid as number), api: rssMiB(api.pid as number) };
  const heapUsed = m4('nodejs_heap_size_used_bytes') / 2 ** 20;

  // The same programs started afresh with everything there: their caches filled by one list, as
  // after a restart, without the garbage of the burst above (V8 keeps the heap it grew to).
  await operator.stop();
  await api.stop();
  const operatorAgain = start('operator-restarted', 'operator', operatorEnv);
  const apiAgain = start('api-restarted', 'api', apiEnv);
  await ready();
  await eventually(
    'the restarted operator has looked at every download',
    async () => {
      const m = await operatorMetrics();
      return m('vdl_operator_reconciles_total{result="success"}') >= cached &&
        m('vdl_operator_workqueue_depth') === 0
        ? true
        : undefined;
    },
    { timeoutMs: fillWaitMs, intervalMs: 500 },
  );
  const restarted = { operator: rssMiB(operatorAgain.pid as number), api: rssMiB(apiAgain.pid as number) };
  const heapOf = async (url: string) => {
    const text = await (await fetch(url)).text();
    const value = (name: string) => Number(new RegExp(`^${name} (\\S+)$`, 'm').exec(text)?.[1]) / 2 ** 20;
    return `${mem(value('nodejs_heap_size_used_bytes'))} / ${mem(value('nodejs_heap_size_total_bytes'))}`;
  };
  const restartedHeap = {
    operator: await heapOf(`http://127.0.0.1:${operatorPort}/metrics`),
    api: await heapOf(`${apiUrl}/metrics`),
  };
  if (heapSnapshotDir) {
    mkdirSync(`${heapSnapshotDir}/operator-restarted`, { recursive: true });
    process.kill(operatorAgain.pid as number, 'SIGUSR2');
    await eventually(
      'heap snapshot written',
      () =>
        readdirSync(`${heapSnapshotDir}/operator-restarted`).some((f) => f.endsWith('.heapsnapshot'))
          ? true
          : undefined,
      { timeoutMs: 120_000, intervalMs: 1_000 },
    );
  }

  // Baselines for memory: client-node's stock informers in a bare process, each caching the same
  // objects as the program it is compared with (the API caches no Jobs).
  const stockRssOf = async (what: 'operator' | 'api') => {
    const stock = spawn(process.execPath, [join(root, 'test/bench/stock-informers.ts'), namespace, what], {
      env: { ...process.env, KUBECONFIG: plane.adminKubeconfig },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    try {
      const synced = await new Promise<string>((resolve, reject) => {
        stock.stdout.on('data', (chunk: Buffer) => {
          if (chunk.toString().includes('synced')) resolve(chunk.toString().trim());
        });
        stock.on('exit', (code) => reject(new Error(`stock informers (${what}) exited with ${code}`)));
      });
      return { rss: rssMiB(stock.pid as number), synced };
    } finally {
      stock.kill();
    }
  };
  const stockOperator = await stockRssOf('operator');
  const stockApi = await stockRssOf('api');

  const s = (n: number) => n.toFixed(2);
  const ms = (n: number) => n.toFixed(0);
  reportBench(
    'submission and memory',
    startedAt,
    [
      {
        id: '1',
        measure: `${count} POST /download → every Job exists`,
        vdl: `${s(vdlSeconds)} s`,
        baseline: `${s(baselineSeconds)} s (the downloads and their Jobs created directly)`,
        ratio: s(vdlSeconds / baselineSeconds),
        goal: '≤ 1.3',
        met: vdlSeconds / baselineSeconds <= 1.3,
      },
      {
        id: '1',
        measure: 'submit → Job p50 / p99',
        vdl: `${ms(percentile(vdlLatency, 50))} / ${ms(percentile(vdlLatency, 99))} ms`,
        baseline: `${ms(percentile(baselineLatency, 50))} / ${ms(percentile(baselineLatency, 99))} ms`,
        ratio: `${s(percentile(vdlLatency, 50) / percentile(baselineLatency, 50))} / ${s(percentile(vdlLatency, 99) / percentile(baselineLatency, 99))}`,
        goal: '',
        met: undefined,
      },
      {
        id: '1b',
        measure: `${sustainRate} POST /download a second for ${sustainSeconds} s: submit → Job p50 / p99`,
        vdl: `${ms(percentile(steadyLatency, 50))} / ${ms(percentile(steadyLatency, 99))} ms`,
        baseline: `${ms(percentile(baselineSteadyLatency, 50))} / ${ms(percentile(baselineSteadyLatency, 99))} ms (created directly at the same rate)`,
        ratio: `${s(percentile(steadyLatency, 50) / percentile(baselineSteadyLatency, 50))} / ${s(percentile(steadyLatency, 99) / percentile(baselineSteadyLatency, 99))}`,
        goal: 'p99 < 1 s',
        met: percentile(steadyLatency, 99) < 1000,
      },
      {
        id: '4',
        measure: `operator RSS, ${cached} downloads + Jobs cached (restarted)`,
        vdl: mem(restarted.operator),
        baseline: `${mem(stockOperator.rss)} (stock client-node informers: downloads, Jobs, pods)`,
        ratio: s(restarted.operator / stockOperator.rss),
        goal: '< 150 MiB',
        met: restarted.operator < 150,
      },
      {
        id: '4',
        measure: `API RSS, ${cached} downloads cached (restarted)`,
        vdl: mem(restarted.api),
        baseline: `${mem(stockApi.rss)} (stock client-node informers: downloads, key Secret)`,
        ratio: s(restarted.api / stockApi.rss),
        goal: '< 150 MiB',
        met: restarted.api < 150,
      },
    ],
    [
      ['CPU seconds during 1, vdl', vdlCpuSpent],
      ['CPU seconds during 1, baseline', baselineCpuSpent],
      ['POSTs accepted in (s)', s(acceptSeconds)],
      ['POSTs rejected', String(rejected)],
      ['Node flags of operator and API', nodeFlags.join(' ') || 'none'],
      ['operator workers', process.env.VDL_WORKERS ?? String(operatorConfig.workers)],
      ['mean reconcile during 1 (ms)', reconcileMs.toFixed(1)],
      ['reconciles during 1', String(m1('vdl_operator_reconciles_total{result="success"}'))],
      ['operator status writes during 1', String(m1('vdl_operator_status_writes_total'))],
      [`${cached - count} more created directly, until all have Jobs (s)`, s(fillSeconds)],
      ['RSS idle (no downloads), operator / API', `${mem(idle.operator)} / ${mem(idle.api)}`],
      [
        `RSS right after the burst of ${cached}, operator / API`,
        `${mem(loaded.operator)} / ${mem(loaded.api)}`,
      ],
      ['V8 heap used / total when restarted, operator', restartedHeap.operator],
      ['V8 heap used / total when restarted, API', restartedHeap.api],
      [
        'operator V8 heap used / total right after the burst',
        `${mem(heapUsed)} / ${mem(m4('nodejs_heap_size_total_bytes') / 2 ** 20)}`,
      ],
      ['operator external memory right after the burst', mem(m4('nodejs_external_memory_bytes') / 2 ** 20)],
      ['stock informers, operator baseline', stockOperator.synced],
      ['stock informers, API baseline', stockApi.synced],
    ],
  );
} finally {
  for (const child of processes) await child.stop();
  await plane.stop();
}
