// The audit after the faults: what the system promised against what is
// there. Every accepted download finished; every DONE has its object with
// the recorded sha256; nothing is left over (Jobs without a download, pods
// without a Job, objects or multipart uploads without a DONE download).
import { createHash } from 'node:crypto';
import * as k8s from '@kubernetes/client-node';
import type { VideoDownload } from '../../crds/video-download.ts';
import { minioClient } from '../support/storage.ts';
import type { FaultRun } from './fault-run.ts';

export interface AuditReport {
  submitted: number;
  terminal: number;
  done: number;
  failed: number;
  /** Accepted downloads with no terminal resource: must be none. */
  lost: string[];
  /** DONE downloads whose object is missing or has other bytes. */
  badObjects: string[];
  orphanedJobs: string[];
  orphanedPods: string[];
  orphanedObjects: string[];
  incompleteUploads: string[];
  /** Downloads that ever had more than one Job. */
  secondJobs: string[];
}

export async function audit(run: FaultRun): Promise<AuditReport> {
  const { env } = run;
  const namespace = env.namespace;
  const downloads = new Map<string, VideoDownload>();
  for (const download of run.downloads.list()) downloads.set(download.metadata.name as string, download);
  const accepted = [...run.accepted.keys()];
  const terminal = accepted.filter((id) => run.isFinished(id));
  const done = terminal.filter((id) => run.phaseOf(id) === 'Succeeded');

  const storage = minioClient(env.plane.minio as NonNullable<typeof env.plane.minio>);
  const badObjects: string[] = [];
  const expectedKeys = new Set<string>();
  for (const id of done) {
    const result = downloads.get(id)?.status?.result;
    if (!result?.bucket || !result.key) {
      badObjects.push(`${id}: DONE without a stored object`);
      continue;
    }
    expectedKeys.add(result.key);
    if (result.infoKey) expectedKeys.add(result.infoKey);
    try {
      const hash = createHash('sha256');
      for await (const chunk of await storage.getObject(result.bucket, result.key)) hash.update(chunk);
      const sha256 = hash.digest('hex');
      if (sha256 !== result.sha256) badObjects.push(`${id}: stored ${sha256}, status says ${result.sha256}`);
    } catch (error) {
      badObjects.push(`${id}: ${(error as Error).message}`);
    }
  }

  const orphanedObjects: string[] = [];
  for await (const item of storage.listObjectsV2(env.bucket, `${namespace}/`, true)) {
    const key = item.name as string;
    if (expectedKeys.has(key)) continue;
    // Say whose it is and how that download ended, so a failure names its cause.
    const owner = downloads.get(key.slice(namespace.length + 1).split('/')[0] ?? '')?.status;
    orphanedObjects.push(
      owner ? `${key} (${owner.phase} ${owner.reason ?? ''}: ${owner.message ?? ''})` : key,
    );
  }
  const incompleteUploads: string[] = [];
  for await (const upload of storage.listIncompleteUploads(env.bucket, '', true))
    incompleteUploads.push(upload.key);

  const batch = run.config.makeApiClient(k8s.BatchV1Api);
  const core = run.config.makeApiClient(k8s.CoreV1Api);
  const uids = new Set([...downloads.values()].map((d) => d.metadata.uid));
  const jobs = (await batch.listNamespacedJob({ namespace })).items;
  const orphanedJobs = jobs
    .filter((job) => !job.metadata?.ownerReferences?.some((owner) => uids.has(owner.uid)))
    .map((job) => job.metadata?.name as string);
  const jobUids = new Set(jobs.map((job) => job.metadata?.uid));
  const orphanedPods = (await core.listNamespacedPod({ namespace })).items
    .filter((pod) => !pod.metadata?.ownerReferences?.some((owner) => jobUids.has(owner.uid)))
    .map((pod) => pod.metadata?.name as string);

  return {
    submitted: accepted.length,
    terminal: terminal.length,
    done: done.length,
    failed: terminal.length - done.length,
    lost: accepted.filter((id) => !run.isFinished(id)),
    badObjects,
    orphanedJobs,
    orphanedPods,
    orphanedObjects,
    incompleteUploads,
    secondJobs: [...run.jobUids].filter(([, set]) => set.size > 1).map(([id]) => id),
  };
}
