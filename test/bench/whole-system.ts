// Benchmarks 3, 5, 5c, 5d, 6 and 7 on the whole system as `make dev` runs it
// (real control plane and MinIO, the operator and the API as their own
// processes under the chart's RBAC, download pods on the node VDL_TEST_NODE
// names: `make bench` picks the real kubelet and containerd):
// 5. A large local video POSTed to the API until DONE, against plain yt-dlp
//    downloading the same file to disk, in alternating rounds; 5c the same
//    with the source served at a realistic line's speed; 5d where the time of
//    each vdl round went, stage by stage (./stage-timer.ts).
// 3. kube-apiserver's own request counts (apiserver_request_total) before and
//    after those downloads and a few small ones, per completed download.
//    Progress patches are the VideoDownload status patches the operator did
//    not make (its vdl_operator_status_writes_total counts its own): the
//    only other writer of status is the download pod.
// 7. Ten small files submitted at once until all are DONE, against ten plain
//    yt-dlp processes run side by side.
// 6. Alice queues 30 downloads first, then bob 5 and carol 1, with the same
//    limit: whether bob's and carol's first start before more of alice's (FIFO
//    would start alice's whole backlog first), by the order Jobs appear.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as k8s from '@kubernetes/client-node';
import { hashKey } from '../../api/api-keys.ts';
import { startDevEnvironment } from '../dev-environment/environment.ts';
import { eventually } from '../support/eventually.ts';
import { kubeConfigFrom } from '../support/kube.ts';
import { apiServerWrites, delta, settledWrites } from './apiserver-writes.ts';
import { watchJobStarts } from './job-watch.ts';
import { median, plainYtDlpSeconds, writeRandomVideo } from './plain-yt-dlp.ts';
import { type BenchFigure, reportBench } from './results-table.ts';
import { type StageBreakdown, stageBreakdown, watchStages } from './stage-timer.ts';

const megabytes = Number(process.env.VDL_BENCH_FILE_MB ?? 200);
const rounds = Number(process.env.VDL_BENCH_ROUNDS ?? 3);
/** 5c's line: 25 MiB/s. */
const lineBytesPerSecond = Number(process.env.VDL_BENCH_LINE_MIB_S ?? 25) * 2 ** 20;
const smallDownloads = 5;
const side = { files: 10, megabytes: 5 };
/** Raised so that 7's ten run at once; 6 queues more than this. */
const activeLimit = side.files;
const users = { alice: 30, bob: 5, carol: 1 } as const;
const startedAt = performance.now();

interface Status {
  state: string;
  started_at: string | null;
  finished_at: string | null;
  error: unknown;
}

const env = await startDevEnvironment({
  dir: mkdtempSync(join(tmpdir(), 'vdl-bench-system-')),
  namespace: 'bench',
  maxActiveDownloads: activeLimit,
});
try {
  const config = kubeConfigFrom(env.kubeconfig);
  const core = config.makeApiClient(k8s.CoreV1Api);
  const keys: Record<string, string> = { dev: env.apiKey };
  for (const user of Object.keys(users)) keys[user] = `bench-${user}-key`;
  await core.replaceNamespacedSecret({
    name: 'vdl-api-keys',
    namespace: env.namespace,
    body: {
      metadata: { name: 'vdl-api-keys' },
      stringData: {
        keys: Object.entries(keys)
          .map(([user, key]) => `${user}:user:${hashKey(key)}\n`)
          .join(''),
      },
    },
  });
  const call = (user: string, path: string, init: RequestInit = {}) =>
    fetch(`${env.apiUrl}${path}`, {
      ...init,
      headers: { authorization: `Bearer ${keys[user]}`, 'content-type': 'application/json' },
    });
  await eventually('the API knows the bench users', async () =>
    (await call('carol', '/downloads')).ok ? true : undefined,
  );
  const submit = async (user: string, url: string) => {
    const response = await call(user, '/download', { method: 'POST', body: JSON.stringify({ url }) });
    const body = (await response.json()) as { job_id?: string };
    if (response.status !== 202 || !body.job_id)
      throw new Error(`POST /download as ${user} answered ${response.status}: ${JSON.stringify(body)}`);
    return body.job_id;
  };
  const done = (id: string) =>
    eventually(
      `download ${id} DONE`,
      async () => {
        const status = (await (await call('dev', `/status/${id}`)).json()) as Status;
        if (status.state === 'FAILED')
          throw new Error(`download ${id} failed: ${JSON.stringify(status.error)}`);
        return status.state === 'DONE' ? status : undefined;
      },
      { timeoutMs: 300_000, intervalMs: 50 },
    );
  const operatorStatusWrites = async () => {
    const text = await (await fetch(env.operatorMetricsUrl)).text();
    return Number(/^vdl_operator_status_writes_total (\S+)$/m.exec(text)?.[1]);
  };

  const stageTimer = watchStages(config, env.namespace);
  await stageTimer.waitForSync();
  /** One download POSTed and followed to DONE: its seconds and where they went. */
  const timedDownload = async (url: string, transferPath: string) => {
    const started = performance.now();
    const id = await submit('dev', url);
    const status = await done(id);
    const seconds = (performance.now() - started) / 1000;
    await eventually('every stage seen', () => (stageTimer.times(id).done ? true : undefined));
    return {
      id,
      status,
      seconds,
      stages: stageBreakdown(started, stageTimer.times(id), env.media.transfer(transferPath)),
    };
  };

  // 5 and 5c (inside the window of 3): the whole system against plain yt-dlp, the source at
  // loopback speed, then at a line's.
  await writeRandomVideo(env.media.file('large-random.mp4'), megabytes);
  const large = `${env.media.url}/large-random.mp4`;
  const writesBefore = await apiServerWrites(env.plane);
  const operatorBefore = await operatorStatusWrites();
  const rows = {
    local: { plain: [] as number[], system: [] as number[], stages: [] as StageBreakdown[] },
    line: { plain: [] as number[], system: [] as number[], stages: [] as StageBreakdown[] },
  };
  const completed: Status[] = [];
  const ids: string[] = [];
  for (const [row, query] of [
    ['local', ''],
    ['line', `rate=${lineBytesPerSecond}&`],
  ] as const) {
    for (let round = 0; round < rounds; round++) {
      rows[row].plain.push(await plainYtDlpSeconds(`${large}?${query}plain=${round}`));
      const path = `/large-random.mp4?${query}round=${round}`;
      const run = await timedDownload(`${env.media.url}${path}`, path);
      rows[row].system.push(run.seconds);
      rows[row].stages.push(run.stages);
      completed.push(run.status);
      ids.push(run.id);
    }
  }
  // 3: a few small downloads at once besides the large ones.
  const small = await Promise.all(
    Array.from({ length: smallDownloads }, (_, i) =>
      submit('dev', `${env.media.url}/progressive.mp4?n=${i}`),
    ),
  );
  completed.push(...(await Promise.all(small.map(done))));
  ids.push(...small);
  // Done is written before the operator's last touches (the Job's TTL): wait until writes stop changing.
  // Only what vdl writes: the node's leases and heartbeats never stop changing.
  const settled = await settledWrites(env.plane, (key) =>
    /^\S+ (videodownloads|jobs|secrets|events)(\/|$)/.test(key),
  );
  const writes = delta(settled, writesBefore);
  const operatorPatches = (await operatorStatusWrites()) - operatorBefore;
  const events = await core.listNamespacedEvent({ namespace: env.namespace });
  // An Event seen again is one object whose count rises, each time by a write.
  const operatorEvents = events.items
    .filter((e) => e.source?.component === 'vdl-operator' && ids.includes(e.involvedObject.name as string))
    .reduce((sum, e) => sum + (e.count ?? 1), 0);
  const n = ids.length;
  const count = (key: string) => writes.get(key) ?? 0;
  const statusPatches = count('PATCH videodownloads/status');
  const progressPatches = statusPatches - operatorPatches;
  const runningSeconds = completed.reduce(
    (sum, s) =>
      sum + Math.max(1, (Date.parse(s.finished_at ?? '') - Date.parse(s.started_at ?? '')) / 1000 || 1),
    0,
  );
  const vdlWrites = {
    'create VideoDownload (API)': count('POST videodownloads'),
    'patch VideoDownload: finalizer (operator)': count('PATCH videodownloads'),
    'status patches (operator)': operatorPatches,
    'Job create/patch/delete (operator)': count('POST jobs') + count('PATCH jobs') + count('DELETE jobs'),
    'upload plan Secret create (operator)': count('POST secrets'),
    // The per-user quota's reservations, one ConfigMap per user (writes batched per user).
    'quota ConfigMap writes (API)': count('POST configmaps') + count('PUT configmaps'),
    'Events (operator)': operatorEvents,
  };
  const otherPerDownload = Object.values(vdlWrites).reduce((a, b) => a + b, 0) / n;
  const progressPerSecond = progressPatches / runningSeconds;

  // 7: ten files at once, all of them until the last is DONE, against ten plain yt-dlp side by side.
  const sideFiles = Array.from({ length: side.files }, (_, i) => `side-${i}.mp4`);
  for (const file of sideFiles) await writeRandomVideo(env.media.file(file), side.megabytes);
  const sideBySide = { plain: [] as number[], system: [] as number[] };
  for (let round = 0; round < rounds; round++) {
    const plainStarted = performance.now();
    await Promise.all(sideFiles.map((file) => plainYtDlpSeconds(`${env.media.url}/${file}?plain=${round}`)));
    sideBySide.plain.push((performance.now() - plainStarted) / 1000);
    const systemStarted = performance.now();
    await Promise.all(
      sideFiles.map(async (file) => done(await submit('dev', `${env.media.url}/${file}?round=${round}`))),
    );
    sideBySide.system.push((performance.now() - systemStarted) / 1000);
  }
  stageTimer.stop();

  // 6: the queue filled with one user's downloads first, then the others': plain FIFO would make
  // the late users wait behind alice's whole backlog, while the fair queue (fewest running first)
  // must give them the next free slots. Counted by the order of events: how many of alice's
  // downloads start after every late user has one queued and before every late user has one
  // started (0 when fair; 1 allows for a start the operator decided before its cache held them).
  const starts = new Map<string, number>();
  const jobWatch = watchJobStarts(config, env.namespace, starts);
  await jobWatch.waitForSync();
  const label = new Map<string, string>();
  const idOf = new Map<string, string>();
  const acceptedAt = new Map<string, number>();
  const [early, ...late] = Object.entries(users) as [[string, number], ...Array<[string, number]>];
  const submitAs = async (user: string, i: number) => {
    const id = await submit(user, `${env.media.url}/throttled-${user}-${i}.mp4`);
    acceptedAt.set(`${user[0]}${i}`, performance.now());
    label.set(id, `${user[0]}${i}`);
    idOf.set(`${user[0]}${i}`, id);
  };
  for (let i = 1; i <= early[1]; i++) await submitAs(early[0], i);
  await Promise.all(
    late.map(async ([user, howMany]) => {
      for (let i = 1; i <= howMany; i++) await submitAs(user, i);
    }),
  );
  const lateFirsts = late.map(([user]) => `${user[0]}1`);
  const startOf = (l: string) => starts.get(idOf.get(l) as string);
  const firstStartOf = (user: string, howMany: number) =>
    Math.min(
      ...Array.from({ length: howMany }, (_, i) => startOf(`${user[0]}${i + 1}`) ?? Number.POSITIVE_INFINITY),
    );
  await eventually(
    'a download of every late user started',
    () => (late.every(([user, howMany]) => firstStartOf(user, howMany) < Infinity) ? true : undefined),
    { timeoutMs: 600_000, intervalMs: 200 },
  );
  jobWatch.stop();
  const lateQueued = Math.max(...lateFirsts.map((first) => acceptedAt.get(first) as number));
  const lateStarted = Math.max(...late.map(([user, howMany]) => firstStartOf(user, howMany)));
  const earlyLabels = Array.from({ length: early[1] }, (_, i) => `${early[0][0]}${i + 1}`);
  const earlyBacklog = earlyLabels.filter((l) => (startOf(l) ?? Infinity) > lateQueued).length;
  const overtaking = earlyLabels.filter((l) => {
    const at = startOf(l);
    return at !== undefined && at > lateQueued && at < lateStarted;
  }).length;
  const order = [...starts]
    .filter(([id]) => label.has(id))
    .sort((a, b) => a[1] - b[1])
    .map(([id]) => label.get(id) as string);
  const afterLate = [...starts]
    .filter(([id, at]) => label.has(id) && at > lateQueued)
    .sort((a, b) => a[1] - b[1])
    .map(([id]) => label.get(id) as string);
  const fair = earlyBacklog > 0 && overtaking <= 1;

  const s = (x: number) => x.toFixed(2);
  const figures: BenchFigure[] = [
    {
      id: '3',
      measure: 'progress patches per second per download',
      vdl: s(progressPerSecond),
      baseline: '1 per second',
      ratio: s(progressPerSecond),
      goal: '≤ 1',
      met: progressPerSecond <= 1,
    },
    {
      id: '3',
      measure: 'other vdl writes per download',
      vdl: s(otherPerDownload),
      baseline: '2 per download (create it and its Job)',
      ratio: s(otherPerDownload / 2),
      goal: '≤ 4',
      met: otherPerDownload <= 4,
    },
    ...dataPathRows(rows.local, rows.line),
    {
      id: '7',
      measure: `${side.files} files of ${side.megabytes} MiB submitted at once, until all are DONE (median of ${rounds}, limit ${activeLimit})`,
      vdl: `${s(median(sideBySide.system))} s`,
      baseline: `${s(median(sideBySide.plain))} s (${side.files} plain yt-dlp side by side)`,
      ratio: s(median(sideBySide.system) / median(sideBySide.plain)),
      goal: '≤ 1.5',
      met: median(sideBySide.system) / median(sideBySide.plain) <= 1.5,
    },
    {
      id: '6',
      measure: `fair queue, ${early[1]} of ${early[0]}'s queued first, then ${late.map(([u, c]) => `${u}'s ${c}`).join(' and ')} (limit ${activeLimit}): ${early[0]}'s starts before each late user has one started`,
      vdl: `${overtaking} (${fair ? 'PASS' : 'FAIL'})`,
      baseline: `${earlyBacklog} (FIFO: ${early[0]}'s backlog then)`,
      ratio: '',
      goal: '≤ 1',
      met: fair,
    },
  ];
  reportBench('whole system', startedAt, figures, [
    [
      'completed downloads in the write window',
      `${n} (${2 * rounds} × ${megabytes} MiB, ${smallDownloads} small)`,
    ],
    ['node the download pods ran on', env.nodeKind],
    ['running seconds summed over them (status times, ≥ 1 s each)', s(runningSeconds)],
    ['progress patches (status patches not by the operator)', String(progressPatches)],
    ...Object.entries(vdlWrites).map(([what, c]): [string, string] => [`${what} per download`, s(c / n)]),
    [
      'every write in the window, per download (incl. kube components)',
      [...writes]
        .sort((a, b) => b[1] - a[1])
        .map(([k, v]) => `${k} ${s(v / n)}`)
        .join(', '),
    ],
    ['5: plain yt-dlp rounds (s)', rows.local.plain.map(s).join(', ')],
    ['5: POST → DONE rounds (s)', rows.local.system.map(s).join(', ')],
    ['5c: plain yt-dlp rounds at the line (s)', rows.line.plain.map(s).join(', ')],
    ['5c: POST → DONE rounds at the line (s)', rows.line.system.map(s).join(', ')],
    ...stageDetails('5d', rows.local.stages),
    ...stageDetails('5d at the line', rows.line.stages),
    [`7: ${side.files} plain yt-dlp side by side, rounds (s)`, sideBySide.plain.map(s).join(', ')],
    [`7: ${side.files} vdl downloads at once, rounds (s)`, sideBySide.system.map(s).join(', ')],
    [
      'fair queue users (downloads)',
      Object.entries(users)
        .map(([u, c]) => `${u} ${c}`)
        .join(', '),
    ],
    ['fair queue start order', order.join(' ')],
    ['fair queue starts after the late users were queued', afterLate.join(' ')],
  ]);
} finally {
  await env.stop();
}

/** 5, 5c and 5d: each against plain yt-dlp in the same rounds; 5d the median of each stage. */
function dataPathRows(
  local: { plain: number[]; system: number[]; stages: StageBreakdown[] },
  line: { plain: number[]; system: number[]; stages: StageBreakdown[] },
): BenchFigure[] {
  const s = (x: number) => x.toFixed(2);
  const row = (id: string, measure: string, of: typeof local, goal: number): BenchFigure => {
    const ratio = median(of.system) / median(of.plain);
    return {
      id,
      measure,
      vdl: `${s(median(of.system))} s`,
      baseline: `${s(median(of.plain))} s (plain yt-dlp to disk)`,
      ratio: s(ratio),
      goal: `≤ ${goal}`,
      met: ratio <= goal,
    };
  };
  const stages = medianStages(local.stages);
  return [
    row('5', `${megabytes} MiB video, POST → DONE (median of ${rounds})`, local, 1.5),
    row(
      '5c',
      `${megabytes} MiB video served at ${lineBytesPerSecond / 2 ** 20} MiB/s, POST → DONE (median of ${rounds})`,
      line,
      1.1,
    ),
    {
      id: '5d',
      measure: `where 5's time goes, median seconds per stage`,
      vdl: stages.map(([name, seconds]) => `${name} ${s(seconds)}`).join('; '),
      baseline: '',
      ratio: '',
      goal: '',
      met: undefined,
    },
  ];
}

function medianStages(breakdowns: StageBreakdown[]): Array<[string, number]> {
  const names = breakdowns[0]?.stages.map(([name]) => name) ?? [];
  return names.map((name, i) => [name, median(breakdowns.map((b) => b.stages[i]?.[1] ?? 0))]);
}

function stageDetails(label: string, breakdowns: StageBreakdown[]): Array<[string, string]> {
  return breakdowns.map((b, round) => [
    `${label}: stages of round ${round + 1} (s)`,
    `${b.stages.map(([name, seconds]) => `${name} ${seconds.toFixed(2)}`).join('; ')}; total ${b.total.toFixed(2)}`,
  ]);
}
