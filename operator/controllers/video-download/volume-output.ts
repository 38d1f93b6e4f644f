// Downloads written onto a volume (spec.storage.volume): which claims the
// operator lets a download mount, and the Job that removes a download's file
// when the download is deleted under the Delete policy. Pure: the reconciler
// does the writes.
import type { V1Job } from '@kubernetes/client-node';
import { podPaths, toEnv } from '../../../crds/downloader-env.ts';
import { apiVersion, downloaderUid, kind, labels, type VideoDownload } from '../../../crds/video-download.ts';
import { partialFileName } from '../../../crds/volume-path.ts';
import type { OperatorConfig } from '../../config.ts';
import { downloadNameAnnotation, managedBy } from './desired-job.ts';
import { downloadLabelValue } from './names.ts';
import { podPlacement } from './pod-placement.ts';

/** The component label of the cleanup Job and its pod, so neither is taken for the download's own. */
export const cleanupComponent = 'volume-cleanup';

/** One entry of VDL_VOLUME_CLAIMS: "[namespace/]claim[:uid[:gid]]". */
export interface AllowedClaim {
  namespace?: string;
  claim: string;
  uid?: number;
  gid?: number;
}

export function parseVolumeClaims(list: string): AllowedClaim[] {
  return list
    .split(',')
    .map((entry) => entry.trim())
    .filter(Boolean)
    .map((entry) => {
      const [where = '', uid, gid] = entry.split(':');
      const [first, second] = where.split('/');
      const id = (text: string | undefined) => (text === undefined || text === '' ? undefined : Number(text));
      return second === undefined
        ? { claim: first as string, uid: id(uid), gid: id(gid) }
        : { namespace: first, claim: second, uid: id(uid), gid: id(gid) };
    });
}

/**
 * Whether the operator's list (VDL_VOLUME_CLAIMS: "claim" for any download
 * namespace, "namespace/claim" for one, each optionally ":uid:gid" that
 * downloads onto it must run as) lets a download in namespace write onto
 * claim as uid and gid. Empty allows none: a download must not write onto
 * just any claim of its namespace (a database's, say), nor as just anyone
 * on a shared library (whoever writes a spec picks its uid).
 */
export function volumeClaimAllowed(
  list: string,
  namespace: string,
  claim: string,
  ids: { uid: number; gid: number } = { uid: downloaderUid, gid: downloaderUid },
): boolean {
  return parseVolumeClaims(list).some(
    (entry) =>
      entry.claim === claim &&
      (entry.namespace === undefined || entry.namespace === namespace) &&
      (entry.uid === undefined || entry.uid === ids.uid) &&
      (entry.gid === undefined || entry.gid === ids.gid),
  );
}

/** Why the download may not write onto its volume; undefined when it may (or writes no volume). */
export function volumeRefusal(
  download: VideoDownload,
  config: Pick<OperatorConfig, 'volumeClaims'>,
): { reason: string; message: string } | undefined {
  const volume = download.spec.storage?.volume;
  if (!volume) return undefined;
  const namespace = download.metadata.namespace as string;
  if (volumeClaimAllowed(config.volumeClaims, namespace, volume.claimName, volume)) return undefined;
  const claimListed = parseVolumeClaims(config.volumeClaims).some(
    (entry) => entry.claim === volume.claimName && (entry.namespace ?? namespace) === namespace,
  );
  return {
    reason: 'VolumeNotAllowed',
    message: claimListed
      ? `storage.volume: downloads onto claim ${volume.claimName} must run as the uid and gid the operator names for it (VDL_VOLUME_CLAIMS), not ${volume.uid}:${volume.gid}`
      : `storage.volume.claimName ${volume.claimName} is not a claim downloads may write onto: the operator's VDL_VOLUME_CLAIMS (the chart's operator.volumeOutput.claims) must list it`,
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
export function ownedVolumeFile(
  download: VideoDownload,
): { claimName: string; path: string; createdFolders: number } | undefined {
  const volume = download.status?.result?.volume;
  if (!volume || volume.preexisting || download.spec.storage?.deletionPolicy === 'Retain') return undefined;
  if (download.status?.phase !== 'Succeeded') return undefined;
  return { claimName: volume.claimName, path: volume.path, createdFolders: volume.createdFolders ?? 0 };
}

/**
 * A Job that mounts the claim and removes what the download left there: the
 * hidden copy a pod killed mid-write leaves (any download that had a Job),
 * and its own file, but only if it still holds the bytes the download wrote
 * (a file the user replaced since stays), with the folders it made once
 * empty. It needs no credential and no network, runs as the user that wrote
 * the file, and is placed as download pods are (pull secrets, tolerations,
 * node selectors of the cluster's pod template). Undefined when a download
 * never ran.
 */
export function volumeCleanupJob(download: VideoDownload, config: OperatorConfig): V1Job | undefined {
  const volume = download.spec.storage?.volume;
  if (!volume || !download.status?.jobName) return undefined;
  const file = ownedVolumeFile(download);
  const result = download.status?.result;
  const { name, namespace, uid } = download.metadata as { name: string; namespace: string; uid: string };
  const template = config.downloadPodTemplate;
  const jobLabels = {
    [labels.download]: downloadLabelValue(name),
    [labels.managedBy]: managedBy,
    [labels.component]: cleanupComponent,
  };
  const annotations = { [downloadNameAnnotation]: name };
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
    // No TTL: it goes with its download (owner), after the finalizer saw it Complete.
    spec: {
      backoffLimit: 3,
      activeDeadlineSeconds: 600,
      template: {
        metadata: {
          labels: { ...template.podLabels, ...jobLabels },
          annotations: { ...template.podAnnotations, ...annotations },
        },
        spec: {
          restartPolicy: 'Never',
          automountServiceAccountToken: false,
          enableServiceLinks: false,
          serviceAccountName: config.downloaderServiceAccount,
          ...podPlacement(template),
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
              imagePullPolicy: template.imagePullPolicy ?? 'IfNotPresent',
              command: ['/usr/local/bin/node', '/app/images/downloader/remove-file.ts'],
              env: [
                ...toEnv({ VDL_VOLUME_DIR: podPaths.volumeDir }),
                { name: 'VDL_REMOVE_PARTIAL', value: partialFileName(uid) },
                ...(file && result
                  ? [
                      { name: 'VDL_REMOVE_PATH', value: file.path },
                      { name: 'VDL_REMOVE_SIZE', value: String(result.size) },
                      { name: 'VDL_REMOVE_SHA256', value: result.sha256 },
                      { name: 'VDL_REMOVE_FOLDERS', value: String(file.createdFolders) },
                    ]
                  : []),
              ],
              resources: {
                requests: { cpu: '50m', memory: '64Mi', 'ephemeral-storage': '16Mi' },
                limits: { cpu: '500m', memory: '256Mi', 'ephemeral-storage': '16Mi' },
              },
              securityContext: {
                allowPrivilegeEscalation: false,
                readOnlyRootFilesystem: true,
                runAsNonRoot: true,
                capabilities: { drop: ['ALL'] },
              },
              volumeMounts: [{ name: 'output', mountPath: podPaths.volumeDir }],
            },
          ],
          volumes: [{ name: 'output', persistentVolumeClaim: { claimName: volume.claimName } }],
        },
      },
    },
  };
}
