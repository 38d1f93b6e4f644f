// What helm uninstall runs before it deletes the release (a pre-delete hook):
// stop the operator, put the downloads it was running back in the queue, and
// remove every download Job, waiting until their pods are gone. Helm keeps
// the CRD and so the VideoDownloads; installing vdl again runs the requeued
// ones from the start. Without this, uninstall left Jobs and download pods
// running with no operator to record their outcome.
import * as k8s from '@kubernetes/client-node';
import type { Logger } from 'pino';
import { group, labels, plural, type VideoDownload, version } from '../../crds/video-download.ts';
import { statusCodeOf } from '../../lib/kube/api-errors.ts';
import { managedBy } from '../controllers/video-download/desired-job.ts';
import { needsRequeue, requeuedStatus } from './requeue.ts';

const mergePatch = k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.MergePatch);

export interface DrainOptions {
  kubeConfig: k8s.KubeConfig;
  logger: Logger;
  /** Where the operator's Deployment runs (the release namespace). */
  operatorNamespace: string;
  operatorDeployment: string;
  /** Where download Jobs run: the operator's watch namespace; empty for every namespace. */
  downloadNamespace: string;
  /** The drain gives up (and uninstall fails, the release still there) after this long. */
  timeoutMs: number;
  pollMs?: number;
}

export interface DrainReport {
  requeued: string[];
  jobsDeleted: number;
}

/** The label selector of every download Job and pod the operator makes. */
export const downloadSelector = `${labels.managedBy}=${managedBy},${labels.component}=downloader`;

export async function drain(options: DrainOptions): Promise<DrainReport> {
  const { kubeConfig, logger } = options;
  const apps = kubeConfig.makeApiClient(k8s.AppsV1Api);
  const batch = kubeConfig.makeApiClient(k8s.BatchV1Api);
  const core = kubeConfig.makeApiClient(k8s.CoreV1Api);
  const objects = kubeConfig.makeApiClient(k8s.CustomObjectsApi);
  const deadline = Date.now() + options.timeoutMs;
  const everywhere = options.downloadNamespace === '';

  const until = async (what: string, done: () => Promise<boolean>) => {
    while (!(await done())) {
      if (Date.now() > deadline)
        throw new Error(`gave up after ${options.timeoutMs / 1000} s waiting until ${what}`);
      await new Promise((resolve) => setTimeout(resolve, options.pollMs ?? 500));
    }
  };

  // 1. No operator may make a Job while they are removed.
  const operatorPods = await stopDeployment(apps, options.operatorNamespace, options.operatorDeployment);
  if (operatorPods) {
    logger.info(
      { deployment: options.operatorDeployment },
      'scaled the operator to 0; waiting for its pods to stop',
    );
    await until('the operator pods stopped', async () => {
      const pods = await core.listNamespacedPod({
        namespace: options.operatorNamespace,
        labelSelector: operatorPods,
      });
      return pods.items.length === 0;
    });
  }

  // 2. Before any Job goes: a download whose Job vanished with its jobName set
  // would be failed (JobDeleted) by the next operator.
  const downloads = (
    (everywhere
      ? await objects.listClusterCustomObject({ group, version, plural })
      : await objects.listNamespacedCustomObject({
          group,
          version,
          plural,
          namespace: options.downloadNamespace,
        })) as { items: VideoDownload[] }
  ).items;
  const requeued: string[] = [];
  for (const download of downloads.filter(needsRequeue)) {
    const { namespace, name } = download.metadata as { namespace: string; name: string };
    await objects.patchNamespacedCustomObjectStatus(
      { group, version, plural, namespace, name, body: { status: requeuedStatus(download, new Date()) } },
      mergePatch,
    );
    requeued.push(`${namespace}/${name}`);
  }
  if (requeued.length > 0) logger.info({ requeued }, 'put interrupted downloads back in the queue');

  // 3. Every download Job, finished ones kept for their TTL too; their pods
  // and upload plans (owned by the Job) go with them.
  const listJobs = () =>
    everywhere
      ? batch.listJobForAllNamespaces({ labelSelector: downloadSelector })
      : batch.listNamespacedJob({ namespace: options.downloadNamespace, labelSelector: downloadSelector });
  const jobs = (await listJobs()).items;
  for (const job of jobs) {
    try {
      await batch.deleteNamespacedJob({
        name: job.metadata?.name as string,
        namespace: job.metadata?.namespace as string,
        propagationPolicy: 'Background',
      });
    } catch (error) {
      if (statusCodeOf(error) !== 404) throw error;
    }
  }
  logger.info({ jobs: jobs.length }, 'deleted the download Jobs; waiting for their pods to stop');
  await until('no download Job or pod is left', async () => {
    const pods = everywhere
      ? await core.listPodForAllNamespaces({ labelSelector: downloadSelector })
      : await core.listNamespacedPod({
          namespace: options.downloadNamespace,
          labelSelector: downloadSelector,
        });
    return pods.items.length === 0 && (await listJobs()).items.length === 0;
  });
  return { requeued, jobsDeleted: jobs.length };
}

/** Scales the Deployment to 0 and returns its pods' selector; undefined when it is already gone. */
async function stopDeployment(
  apps: k8s.AppsV1Api,
  namespace: string,
  name: string,
): Promise<string | undefined> {
  let deployment: k8s.V1Deployment;
  try {
    deployment = await apps.readNamespacedDeployment({ name, namespace });
  } catch (error) {
    if (statusCodeOf(error) === 404) return undefined;
    throw error;
  }
  await apps.patchNamespacedDeploymentScale({ name, namespace, body: { spec: { replicas: 0 } } }, mergePatch);
  const selector = Object.entries(deployment.spec?.selector?.matchLabels ?? {})
    .map(([key, value]) => `${key}=${value}`)
    .join(',');
  // An empty selector would match this drain's own pod, which never stops.
  if (selector === '') throw new Error(`Deployment ${namespace}/${name} selects its pods by no label`);
  return selector;
}
