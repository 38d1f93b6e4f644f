// Where one download's time goes: watches of its Job, its pods and the
// VideoDownload itself record, on this process's clock (performance.now()),
// the first moment each stage was seen; the media server adds when the
// source's bytes began and ended. Watch events arrive moments after the
// write they report, the same for every stage, so differences are fair.
import type * as k8s from '@kubernetes/client-node';
import { pino } from 'pino';
import type { VideoDownload } from '../../crds/video-download.ts';
import { Informer } from '../../lib/kube/informer.ts';
import { downloadNameOf } from '../../operator/controllers/video-download/desired-job.ts';

export interface StageTimes {
  jobSeen?: number;
  podRunning?: number;
  /** The downloader's last progress report: its file and info JSON are stored. */
  stored?: number;
  done?: number;
  podExited?: number;
}

type Stage = keyof StageTimes;

export interface StageTimer {
  times(download: string): StageTimes;
  waitForSync(): Promise<void>;
  stop(): void;
}

export function watchStages(config: k8s.KubeConfig, namespace: string): StageTimer {
  const seen = new Map<string, StageTimes>();
  const mark = (download: string | undefined, stage: Stage) => {
    if (!download) return;
    const times = seen.get(download) ?? {};
    if (times[stage] === undefined) times[stage] = performance.now();
    seen.set(download, times);
  };
  const quiet = pino({ level: 'silent' });
  const jobs = new Informer<k8s.V1Job>({
    name: `bench-stage-jobs-${namespace}`,
    config,
    apiVersion: 'batch/v1',
    kind: 'Job',
    plural: 'jobs',
    namespace,
    logger: quiet,
    onChange: (type, job) => {
      if (type === 'ADDED') mark(downloadNameOf(job), 'jobSeen');
    },
  });
  const pods = new Informer<k8s.V1Pod>({
    name: `bench-stage-pods-${namespace}`,
    config,
    apiVersion: 'v1',
    kind: 'Pod',
    plural: 'pods',
    namespace,
    logger: quiet,
    onChange: (_type, pod) => {
      const download = downloadNameOf(pod);
      const container = pod.status?.containerStatuses?.[0];
      if (container?.state?.running) mark(download, 'podRunning');
      if (container?.state?.terminated) mark(download, 'podExited');
    },
  });
  const downloads = new Informer<VideoDownload>({
    name: `bench-stage-downloads-${namespace}`,
    config,
    apiVersion: 'vdl.dev/v1alpha1',
    kind: 'VideoDownload',
    plural: 'videodownloads',
    namespace,
    logger: quiet,
    onChange: (_type, download) => {
      const name = download.metadata.name;
      if (download.status?.progress?.stage === 'done') mark(name, 'stored');
      if (download.status?.phase === 'Succeeded') mark(name, 'done');
    },
  });
  const informers = [jobs, pods, downloads];
  for (const informer of informers) informer.start();
  return {
    times: (download) => seen.get(download) ?? {},
    waitForSync: async () => {
      await Promise.all(informers.map((informer) => informer.waitForSync()));
    },
    stop: () => {
      for (const informer of informers) informer.stop();
    },
  };
}

export interface StageBreakdown {
  /** Stage name → seconds, in the order a download passes them. */
  stages: Array<[string, number]>;
  total: number;
}

/**
 * One download's stages from its submit and its source's transfer times.
 * A stage whose end came before its start (DONE written before the pod's
 * exit was seen) counts as 0: it overlapped the one before.
 */
export function stageBreakdown(
  submittedAt: number,
  times: StageTimes,
  transfer: { firstByteAt: number; lastByteAt: number } | undefined,
): StageBreakdown {
  const points: Array<[string, number | undefined]> = [
    ['submit → Job', times.jobSeen],
    ['Job → pod running', times.podRunning],
    ["pod running → source's first byte", transfer?.firstByteAt],
    ['transfer (first to last byte)', transfer?.lastByteAt],
    ['last byte → file stored (upload tail)', times.stored],
    ['stored → DONE', times.done],
  ];
  const stages: Array<[string, number]> = [];
  let previous = submittedAt;
  for (const [name, at] of points) {
    if (at === undefined) throw new Error(`stage "${name}" was never seen`);
    stages.push([name, Math.max(0, at - previous) / 1000]);
    previous = Math.max(previous, at);
  }
  return { stages, total: (previous - submittedAt) / 1000 };
}
