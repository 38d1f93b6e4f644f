// Which Job should exist for a VideoDownload: a pure function of the resource
// and the operator's configuration, so it is tested without a cluster.
import type { V1Job, V1PodSpec } from '@kubernetes/client-node';
import { type DownloaderEnvValues, podFiles, podPaths, toEnv } from '../../../crds/downloader-env.ts';
import { hostList, hostListEnv } from '../../../crds/host-list.ts';
import { isQuantity, quantityBytes } from '../../../crds/quantity.ts';
import { downloadKeyPrefix } from '../../../crds/storage-location.ts';
import { uploadPlanFile } from '../../../crds/upload-plan.ts';
import {
  apiVersion,
  downloaderUid,
  kind,
  labels,
  permanentFailureExitCode,
  type VideoDownload,
} from '../../../crds/video-download.ts';
import type { OperatorConfig } from '../../config.ts';
import { downloadLabelValue, jobNameFor, maxJobNameLength } from './names.ts';
import { podDisk } from './pod-disk.ts';
import { podPlacement } from './pod-placement.ts';
import { uploadSecretNameFor } from './upload-plan.ts';

export const downloaderContainerName = 'downloader';
export const managedBy = 'vdl-operator';
const { tokenDir, uploadDir, cookiesDir, cookiesFile, workDir, tmpDir, terminationLog, volumeDir } = podPaths;

export { downloadLabelValue, jobNameFor, maxJobNameLength };

/** The download's whole name, on its Job and pods beside the label, which may hold only a hash of it. */
export const downloadNameAnnotation = 'vdl.dev/download-name';

/** Which download a Job or pod of the operator's belongs to (its name), if any. */
export function downloadNameOf(object: {
  metadata?: { labels?: Record<string, string>; annotations?: Record<string, string> };
}): string | undefined {
  return object.metadata?.annotations?.[downloadNameAnnotation] ?? object.metadata?.labels?.[labels.download];
}

/** Every key the download may write starts with this; a result outside it is refused. */
export const keyPrefixFor = downloadKeyPrefix;

export function bucketFor(download: VideoDownload, config: OperatorConfig): string {
  return download.spec.storage?.bucket ?? config.defaultBucket;
}

/** The largest file the download may store: what its spec asks, at most the operator's cap. */
export function maxFileSizeFor(download: VideoDownload, config: OperatorConfig): string {
  return (
    cappedQuantity(download.spec.limits?.maxFileSize, config.defaultMaxFileSize) ?? config.defaultMaxFileSize
  );
}

export function deadlineSecondsFor(download: VideoDownload, config: OperatorConfig): number {
  return download.spec.limits?.deadlineSeconds ?? config.defaultDeadlineSeconds;
}

export function ownerOf(download: VideoDownload): string {
  return download.metadata.labels?.[labels.owner] ?? `namespace:${download.metadata.namespace}`;
}

export function selectorLabels(download: VideoDownload): Record<string, string> {
  return {
    [labels.download]: downloadLabelValue(download.metadata.name as string),
    [labels.managedBy]: managedBy,
    [labels.component]: 'downloader',
  };
}

/**
 * The operator's limits are caps, not only defaults: the smaller of what the
 * spec asks and the cap wins; the cap alone when the spec asks nothing (or
 * something that is no quantity, as a resource stored before the bound could).
 */
export function cappedQuantity(wanted: string | undefined, cap: string | undefined): string | undefined {
  if (wanted === undefined || !isQuantity(wanted)) return cap;
  if (cap === undefined) return wanted;
  return quantityBytes(wanted) <= quantityBytes(cap) ? wanted : cap;
}

/** The operator's host lists, for the pod's egress proxy to enforce as the API does; empty lists are left out. */
function hostListsEnv(config: OperatorConfig): DownloaderEnvValues {
  return {
    [hostListEnv.allow]: hostList(config.allowHosts).join(',') || undefined,
    [hostListEnv.deny]: hostList(config.denyHosts).join(',') || undefined,
  };
}

export function desiredJob(download: VideoDownload, config: OperatorConfig): V1Job {
  const { name, namespace, uid } = download.metadata;
  const { spec } = download;
  const template = config.downloadPodTemplate;
  const jobLabels = { ...selectorLabels(download) };
  const jobAnnotations = { [downloadNameAnnotation]: name as string };
  const owner = download.metadata.labels?.[labels.owner];
  if (owner) jobLabels[labels.owner] = owner;
  // The cluster's pod labels and annotations go first: the operator's own
  // (which its selectors, NetworkPolicies and the download's lookup rely on) win.
  const podLabels = { ...template.podLabels, ...jobLabels };
  const podAnnotations = { ...template.podAnnotations, ...jobAnnotations };

  const maxFileSize = maxFileSizeFor(download, config);
  const disk = podDisk(maxFileSize, config.workDirSizeLimit);
  // Onto a volume: the pod runs as the user and group the file should have,
  // so it is theirs without a chown (which NFS and SMB shares often refuse),
  // and no fsGroup, which would make the kubelet change the ownership of the
  // whole library on volume types it manages. It gets no upload plan.
  const volume = spec.storage?.volume;
  const runAs = volume ? { uid: volume.uid, gid: volume.gid } : { uid: downloaderUid, gid: downloaderUid };
  const podSpec: V1PodSpec = {
    restartPolicy: 'Never',
    serviceAccountName: config.downloaderServiceAccount,
    // The only credential the pod gets is the projected token below, which
    // its service account can use for nothing but VideoDownload status.
    automountServiceAccountToken: false,
    enableServiceLinks: false,
    ...podPlacement(template),
    securityContext: {
      runAsNonRoot: true,
      runAsUser: runAs.uid,
      runAsGroup: runAs.gid,
      ...(volume ? {} : { fsGroup: downloaderUid }),
      seccompProfile: { type: 'RuntimeDefault' },
    },
    containers: [
      {
        name: downloaderContainerName,
        image: config.downloaderImage,
        imagePullPolicy: template.imagePullPolicy ?? 'IfNotPresent',
        env: [
          ...toEnv({
            VDL_DOWNLOAD_NAME: name,
            VDL_DOWNLOAD_NAMESPACE: namespace,
            VDL_DOWNLOAD_UID: uid,
            VDL_SPEC: JSON.stringify(spec),
            VDL_MAX_FILE_SIZE: maxFileSize,
            VDL_WORK_DIR_LIMIT: String(disk.workDirLimitBytes),
            // No storage credentials: presigned requests for this download's own uploads only.
            VDL_UPLOAD_PLAN_FILE: volume ? undefined : podFiles.uploadPlan,
            VDL_VOLUME_DIR: volume ? volumeDir : undefined,
            VDL_RATE_LIMIT: cappedQuantity(spec.limits?.rateLimit, config.defaultRateLimit) || undefined,
            ...hostListsEnv(config),
            VDL_EGRESS_ALLOW: config.egressAllow || undefined,
            VDL_COOKIES_FILE: spec.cookies ? podFiles.cookies : undefined,
            VDL_TOKEN_FILE: podFiles.token,
            VDL_CA_FILE: podFiles.ca,
            VDL_WORK_DIR: workDir,
          }),
          { name: 'HOME', value: tmpDir },
        ],
        resources: {
          requests: { ...config.requests, 'ephemeral-storage': disk.ephemeralStorage },
          limits: { ...config.limits, 'ephemeral-storage': disk.ephemeralStorage },
        },
        securityContext: {
          allowPrivilegeEscalation: false,
          readOnlyRootFilesystem: true,
          runAsNonRoot: true,
          capabilities: { drop: ['ALL'] },
        },
        terminationMessagePath: terminationLog,
        terminationMessagePolicy: 'File',
        volumeMounts: [
          { name: 'work', mountPath: workDir },
          { name: 'tmp', mountPath: tmpDir },
          { name: 'vdl-token', mountPath: tokenDir, readOnly: true },
          ...(volume
            ? [{ name: 'output', mountPath: volumeDir }]
            : [{ name: 'upload', mountPath: uploadDir, readOnly: true }]),
          ...(spec.cookies ? [{ name: 'cookies', mountPath: cookiesDir, readOnly: true }] : []),
        ],
      },
    ],
    volumes: [
      { name: 'work', emptyDir: { sizeLimit: disk.workDirSizeLimit } },
      { name: 'tmp', emptyDir: { sizeLimit: disk.tmpSizeLimit } },
      {
        name: 'vdl-token',
        projected: {
          sources: [
            { serviceAccountToken: { path: 'token', expirationSeconds: 3600 } },
            { configMap: { name: 'kube-root-ca.crt', items: [{ key: 'ca.crt', path: 'ca.crt' }] } },
          ],
        },
      },
      // Made by the operator right after the Job (it is owned by the Job); the
      // kubelet waits for it as for any Secret volume.
      volume
        ? { name: 'output', persistentVolumeClaim: { claimName: volume.claimName } }
        : {
            name: 'upload',
            secret: {
              secretName: uploadSecretNameFor(download),
              items: [{ key: uploadPlanFile, path: uploadPlanFile }],
              defaultMode: 0o400,
            },
          },
      // Only the one key, readable by the downloader's user alone. A missing
      // Secret keeps the pod from starting; the operator reports it.
      ...(spec.cookies
        ? [
            {
              name: 'cookies',
              secret: {
                secretName: spec.cookies.secretName,
                items: [{ key: spec.cookies.key, path: cookiesFile }],
                // Without fsGroup (a volume download) the file stays root's: readable by all
                // then, which in a pod of one user and one process tree is that user.
                defaultMode: volume ? 0o444 : 0o400,
              },
            },
          ]
        : []),
    ],
  };

  return {
    apiVersion: 'batch/v1',
    kind: 'Job',
    metadata: {
      name: jobNameFor(name as string),
      namespace,
      labels: jobLabels,
      annotations: jobAnnotations,
      ownerReferences: [
        {
          apiVersion,
          kind,
          name: name as string,
          uid: uid as string,
          controller: true,
          blockOwnerDeletion: true,
        },
      ],
    },
    spec: {
      backoffLimit: spec.retries,
      activeDeadlineSeconds: deadlineSecondsFor(download, config),
      // Set now rather than patched in once the result is recorded: one write less per download.
      ttlSecondsAfterFinished: config.jobTtlSecondsAfterFinished,
      // A replacement pod starts only after the failed one is gone: never two
      // downloaders writing the same keys.
      podReplacementPolicy: 'Failed',
      podFailurePolicy: {
        rules: [
          {
            action: 'FailJob',
            onExitCodes: {
              containerName: downloaderContainerName,
              operator: 'In',
              values: [permanentFailureExitCode],
            },
          },
          // An evicted or preempted pod is not the download's fault.
          { action: 'Ignore', onPodConditions: [{ type: 'DisruptionTarget', status: 'True' }] },
        ],
      },
      template: { metadata: { labels: podLabels, annotations: podAnnotations }, spec: podSpec },
    },
  };
}
