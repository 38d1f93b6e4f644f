// Downloads written onto a volume (spec.storage.volume): which claims the
// operator lets a download mount, and the Job that removes a download's file
// when the download is deleted under the Delete policy. Pure: the reconciler
// does the writes.
import type { V1Job } from '@kubernetes/client-node';
import { podPaths, toEnv } from '../../../crds/downloader-env.ts';
import { apiVersion, kind, labels, type VideoDownload } from '../../../crds/video-download.ts';
import type { OperatorConfig } from '../../config.ts';
import { downloadLabelValue } from './names.ts';

/** The component label of the cleanup Job and its pod, so neither is taken for the download's own. */
export const cleanupComponent = 'volume-cleanup';

/**
 * Whether the operator's list (VDL_VOLUME_CLAIMS: "claim" for any download
 * namespace, "namespace/claim" for one) lets a download in namespace mount
 * claim. Empty allows none: a download must not write onto just any claim
 * of its namespace (a database's, say).
 */
export function volumeClaimAllowed(list: string, namespace: string, claim: string): boolean {
  return list
    .split(',')
    .map((entry) => entry.trim())
    .some((entry) => entry === claim || entry === `${namespace}/${claim}`);
}

/** Why the download may not write onto its volume; undefined when it may (or writes no volume). */
export function volumeRefusal(
  download: VideoDownload,
  config: Pick<OperatorConfig, 'volumeClaims'>,
): { reason: string; message: string } | undefined {
  const volume = download.spec.storage?.volume;
  if (!volume) return undefined;
  if (volumeClaimAllowed(config.volumeClaims, download.metadata.namespace as string, volume.claimName))
    return undefined;
  return {
    reason: 'VolumeNotAllowed',
    message: `storage.volume.claimName ${volume.claimName} is not a claim downloads may write onto: the operator's VDL_VOLUME_CLAIMS (the chart's volumeOutput.claims) must list it`,
  };
}

/** The Job's name: one per download, so a second reconcile finds the one already made. */
export function cleanupJobNameFor(download: VideoDownload): string {
  return `vdl-clean-${download.metadata.uid}`;
}

/**
 * The file this download made on its volume and still owns: its result's
 * path, unless the same bytes were there before it (then the file is not its
 * own to remove). Undefined when it made none, or under the Retain policy.
 */
export function ownedVolumeFile(download: VideoDownload): { claimName: string; path: string } | undefined {
  const volume = download.status?.result?.volume;
  if (!volume || volume.preexisting || download.spec.storage?.deletionPolicy === 'Retain') return undefined;
  if (download.status?.phase !== 'Succeeded') return undefined;
  return { claimName: volume.claimName, path: volume.path };
}

/**
 * A Job that mounts the claim and removes the download's file, but only if
 * it still holds the bytes the download wrote (a file the user replaced
 * since stays), then the folders that became empty. It needs no credential
 * and no network, and runs as the user that wrote the file.
 */
export function volumeCleanupJob(download: VideoDownload, config: OperatorConfig): V1Job | undefined {
  const file = ownedVolumeFile(download);
  const volume = download.spec.storage?.volume;
  const result = download.status?.result;
  if (!file || !volume || !result) return undefined;
  const { name, namespace, uid } = download.metadata as { name: string; namespace: string; uid: string };
  const jobLabels = {
    [labels.download]: downloadLabelValue(name),
    [labels.managedBy]: 'vdl-operator',
    [labels.component]: cleanupComponent,
  };
  const annotations = { 'vdl.dev/download-name': name };
  return {
    apiVersion: 'batch/v1',
    kind: 'Job',
    metadata: {
      name: cleanupJobNameFor(download),
      namespace,
      labels: jobLabels,
      annotations,
      // Owned by the download but not blocking its deletion: the finalizer waits for it instead.
      ownerReferences: [{ apiVersion, kind, name, uid, controller: true, blockOwnerDeletion: false }],
    },
    spec: {
      backoffLimit: 3,
      activeDeadlineSeconds: 600,
      ttlSecondsAfterFinished: config.jobTtlSecondsAfterFinished,
      template: {
        metadata: { labels: jobLabels, annotations },
        spec: {
          restartPolicy: 'Never',
          automountServiceAccountToken: false,
          enableServiceLinks: false,
          serviceAccountName: config.downloaderServiceAccount,
          securityContext: {
            runAsNonRoot: true,
            runAsUser: volume.uid,
            runAsGroup: volume.gid,
            seccompProfile: { type: 'RuntimeDefault' },
          },
          containers: [
            {
              name: 'cleanup',
              image: config.downloaderImage,
              imagePullPolicy: config.downloadPodTemplate.imagePullPolicy ?? 'IfNotPresent',
              command: ['/usr/local/bin/node', '/app/images/downloader/remove-file.ts'],
              env: toEnv({ VDL_VOLUME_DIR: podPaths.volumeDir }).concat([
                { name: 'VDL_REMOVE_PATH', value: file.path },
                { name: 'VDL_REMOVE_SIZE', value: String(result.size) },
                { name: 'VDL_REMOVE_SHA256', value: result.sha256 },
              ]),
              resources: { requests: { cpu: '50m', memory: '64Mi' }, limits: { memory: '256Mi' } },
              securityContext: {
                allowPrivilegeEscalation: false,
                readOnlyRootFilesystem: true,
                runAsNonRoot: true,
                capabilities: { drop: ['ALL'] },
              },
              volumeMounts: [{ name: 'output', mountPath: podPaths.volumeDir }],
            },
          ],
          volumes: [{ name: 'output', persistentVolumeClaim: { claimName: file.claimName } }],
        },
      },
    },
  };
}
