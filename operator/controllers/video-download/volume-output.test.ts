import { describe, expect, it } from 'vitest';
import { loadOperatorConfig } from '../../config.ts';
import { desiredJob } from './desired-job.ts';
import { desiredStatus } from './status.ts';
import { download, testConfig } from './test-fixtures.ts';
import {
  cleanupComponent,
  ownedVolumeFile,
  volumeClaimAllowed,
  volumeCleanupJob,
  volumeRefusal,
} from './volume-output.ts';

const config = loadOperatorConfig(
  {},
  {
    s3Endpoint: 'http://minio:9000',
    volumeClaims: 'media:1000:1001,other/archive',
    downloadPodTemplate: {
      tolerations: [{ key: 'storage', operator: 'Exists' }],
      imagePullSecrets: [{ name: 'pull' }],
    },
  },
);
const onVolume = (extra: Record<string, unknown> = {}) =>
  download('clip', { storage: { volume: { claimName: 'media', uid: 1000, gid: 1001, ...extra } } });

describe('volumeClaimAllowed and volumeRefusal', () => {
  it('allow a listed claim in any namespace, or in the one named with it, and nothing when the list is empty', () => {
    expect(volumeClaimAllowed('media,other/archive', 'team', 'media')).toBe(true);
    expect(volumeClaimAllowed('other/archive:1000', 'other', 'archive', { uid: 1000, gid: 5 })).toBe(true);
    expect(volumeClaimAllowed('other/archive:1000', 'other', 'archive', { uid: 1001, gid: 5 })).toBe(false);
    expect(volumeClaimAllowed('media:1000:1000', 'team', 'media', { uid: 1000, gid: 1001 })).toBe(false);
    expect(volumeClaimAllowed('media,other/archive', 'other', 'archive')).toBe(true);
    expect(volumeClaimAllowed('media,other/archive', 'team', 'archive')).toBe(false);
    expect(volumeClaimAllowed('', 'team', 'media')).toBe(false);
    expect(volumeClaimAllowed(' media , x', 'team', 'media')).toBe(true);
  });

  it('refuse a claim the operator does not list, by name, and say where to list it', () => {
    const refusal = volumeRefusal(onVolume({ claimName: 'postgres-data' }), config);
    expect(refusal?.reason).toBe('VolumeNotAllowed');
    expect(refusal?.message).toContain('postgres-data');
    expect(refusal?.message).toContain('VDL_VOLUME_CLAIMS');
    expect(volumeRefusal(onVolume(), config)).toBeUndefined();
    // Whoever writes the spec picks its uid: on a claim that names one, no other.
    const other = volumeRefusal(onVolume({ uid: 33 }), config);
    expect(other?.reason).toBe('VolumeNotAllowed');
    expect(other?.message).toContain('must run as the uid and gid');
    expect(volumeRefusal(download('clip'), testConfig)).toBeUndefined();
  });

  it('make a refused download Failed without a Job', () => {
    const refused = onVolume({ claimName: 'postgres-data' });
    const status = desiredStatus({
      download: refused,
      job: undefined,
      pods: [],
      admitted: true,
      bucket: 'videos',
      refused: volumeRefusal(refused, config),
      now: new Date('2026-01-01T00:00:10Z'),
    });
    expect(status.phase).toBe('Failed');
    expect(status.reason).toBe('VolumeNotAllowed');
    expect(status.jobName).toBeUndefined();
  });
});

describe('desiredJob for a download onto a volume', () => {
  const job = desiredJob(onVolume(), config);
  const pod = job.spec?.template.spec;
  const container = pod?.containers[0];
  const env = Object.fromEntries((container?.env ?? []).map((e) => [e.name, e.value]));

  it('mounts the claim and no upload plan, and runs as the user and group the file should have', () => {
    expect(pod?.volumes?.find((v) => v.name === 'output')?.persistentVolumeClaim).toEqual({
      claimName: 'media',
    });
    expect(pod?.volumes?.some((v) => v.name === 'upload')).toBe(false);
    expect(container?.volumeMounts?.find((m) => m.name === 'output')?.mountPath).toBe('/volume');
    expect(env.VDL_VOLUME_DIR).toBe('/volume');
    expect(env.VDL_UPLOAD_PLAN_FILE).toBeUndefined();
    expect(pod?.securityContext).toMatchObject({ runAsUser: 1000, runAsGroup: 1001, runAsNonRoot: true });
    // No fsGroup: the kubelet would change the ownership of the whole library on volume types it manages.
    expect(pod?.securityContext?.fsGroup).toBeUndefined();
    expect(container?.securityContext?.readOnlyRootFilesystem).toBe(true);
  });

  it('keeps the object storage layout for every other download', () => {
    const plain = desiredJob(download('clip'), config).spec?.template.spec;
    expect(plain?.volumes?.some((v) => v.name === 'upload')).toBe(true);
    expect(plain?.volumes?.some((v) => v.name === 'output')).toBe(false);
    expect(plain?.securityContext).toMatchObject({ runAsUser: 65532, fsGroup: 65532 });
  });
});

describe('volumeCleanupJob', () => {
  const succeeded = (volume: Record<string, unknown>, spec: Record<string, unknown> = {}) => {
    const d = onVolume(spec);
    d.status = {
      phase: 'Succeeded',
      jobName: 'clip',
      result: {
        volume: { claimName: 'media', path: 'Chan/T [x].mp4', createdFolders: 1, ...volume },
        size: 5,
        sha256: 'a'.repeat(64),
        contentType: 'video/mp4',
      },
    };
    return d;
  };

  it('removes the file the download wrote, as its user, with no credential', () => {
    const job = volumeCleanupJob(succeeded({}), config);
    const pod = job?.spec?.template.spec;
    const env = Object.fromEntries((pod?.containers[0]?.env ?? []).map((e) => [e.name, e.value]));
    expect(env).toMatchObject({
      VDL_REMOVE_PATH: 'Chan/T [x].mp4',
      VDL_REMOVE_SIZE: '5',
      VDL_REMOVE_SHA256: 'a'.repeat(64),
      VDL_REMOVE_FOLDERS: '1',
      VDL_REMOVE_PARTIAL: '.vdl-uid-clip.part',
    });
    // Placed as download pods are, and no TTL: it goes with its download once the finalizer saw it done.
    expect(pod?.tolerations).toEqual([{ key: 'storage', operator: 'Exists' }]);
    expect(pod?.imagePullSecrets).toEqual([{ name: 'pull' }]);
    expect(job?.spec?.ttlSecondsAfterFinished).toBeUndefined();
    expect(pod?.automountServiceAccountToken).toBe(false);
    expect(pod?.securityContext).toMatchObject({ runAsUser: 1000, runAsGroup: 1001 });
    expect(pod?.volumes).toEqual([{ name: 'output', persistentVolumeClaim: { claimName: 'media' } }]);
    expect(job?.metadata?.labels?.['app.kubernetes.io/component']).toBe(cleanupComponent);
  });

  it("removes only a killed pod's hidden copy when the file is not the download's own", () => {
    const partialOnly = (d: ReturnType<typeof onVolume>) => {
      const names = (volumeCleanupJob(d, config)?.spec?.template.spec?.containers[0]?.env ?? []).map(
        (e) => e.name,
      );
      return names.includes('VDL_REMOVE_PARTIAL') && !names.includes('VDL_REMOVE_PATH');
    };
    expect(partialOnly(succeeded({ preexisting: true }))).toBe(true);
    expect(ownedVolumeFile(succeeded({}))).toBeDefined();
    const retained = succeeded({});
    retained.spec.storage.deletionPolicy = 'Retain';
    expect(partialOnly(retained)).toBe(true);
    const failed = onVolume();
    failed.status = { phase: 'Failed', jobName: 'clip', reason: 'UploadFailed' };
    expect(partialOnly(failed)).toBe(true);
    // Never ran: nothing to clean.
    expect(volumeCleanupJob(onVolume(), config)).toBeUndefined();
  });
});
