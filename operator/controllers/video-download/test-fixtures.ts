// Builders of the objects the operator's pure functions read, for table tests.
import type { V1Job, V1Pod } from '@kubernetes/client-node';
import {
  type VideoDownload,
  VideoDownloadSpec,
  type VideoDownloadSpecInput,
} from '../../../crds/video-download.ts';
import { loadOperatorConfig } from '../../config.ts';

export const testConfig = loadOperatorConfig({}, { s3Endpoint: 'http://minio:9000' });

export function download(
  name = 'clip',
  spec: Partial<VideoDownloadSpecInput> = {},
  extra: Partial<VideoDownload> = {},
): VideoDownload {
  return {
    apiVersion: 'vdl.dev/v1alpha1',
    kind: 'VideoDownload',
    metadata: {
      name,
      namespace: 'team',
      uid: `uid-${name}`,
      generation: 1,
      creationTimestamp: '2026-01-01T00:00:00Z',
    },
    spec: VideoDownloadSpec.parse({ url: 'https://example.com/v', ...spec }),
    ...extra,
  };
}

/** The uid of job()'s Job, which pod() names as its controller unless told otherwise. */
export const jobUid = 'job-uid-2';

export function job(
  conditions: Array<{ type: string; reason?: string; message?: string }> = [],
  status: V1Job['status'] = {},
): V1Job {
  return {
    metadata: {
      name: 'clip',
      namespace: 'team',
      uid: jobUid,
      creationTimestamp: new Date('2026-01-01T00:00:05Z'),
    },
    spec: {
      template: { spec: { containers: [{ name: 'downloader', resources: { limits: { memory: '1Gi' } } }] } },
    },
    status: {
      ...status,
      conditions: conditions.map((c) => ({
        ...c,
        status: 'True',
        lastTransitionTime: new Date('2026-01-01T00:01:00Z'),
      })),
    },
  };
}

export function pod(
  phase: string,
  terminated?: { exitCode: number; message?: string; reason?: string },
  created = '2026-01-01T00:00:06Z',
  ownerUid = jobUid,
): V1Pod {
  return {
    metadata: {
      name: `clip-${created}`,
      creationTimestamp: new Date(created),
      ownerReferences: [
        { apiVersion: 'batch/v1', kind: 'Job', name: 'clip', uid: ownerUid, controller: true },
      ],
    },
    status: {
      phase,
      containerStatuses: [
        {
          name: 'downloader',
          image: 'x',
          imageID: '',
          ready: false,
          restartCount: 0,
          state: terminated ? { terminated } : { running: {} },
        },
      ],
    },
  };
}
