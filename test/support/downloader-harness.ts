// Runs the downloader program as its own process, the way a download pod
// would: its own service account under the chart's RBAC and admission
// policy (only status.progress of its own download), a token bound to a pod
// of the download's Job as the kubelet would request it, the cluster CA,
// MinIO credentials.
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as k8s from '@kubernetes/client-node';
import { execa } from 'execa';
import { parseTerminationMessage, type TerminationMessage } from '../../crds/termination-message.ts';
import {
  group,
  plural,
  type VideoDownload,
  type VideoDownloadSpecInput,
  version,
} from '../../crds/video-download.ts';
import { jobNameFor } from '../../operator/desired-job.ts';
import type { MinioEndpoint } from '../cluster/control-plane.ts';
import { toolPath } from '../toolchain/tools.ts';
import { applyChartRbac } from './chart-rbac.ts';
import type { Downloads } from './vdl.ts';

const mergePatch = k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.MergePatch);

const mainScript = fileURLToPath(new URL('../../images/downloader/main.ts', import.meta.url));

export interface DownloaderRun {
  exitCode: number;
  message: TerminationMessage | undefined;
  output: string;
  statusWrites: number;
  seconds: number;
  /** yt-dlp's and the upload's share of seconds, as the downloader logged them. */
  downloadSeconds: number;
  uploadSeconds: number;
  download: VideoDownload;
}

export interface DownloaderHarness {
  run(name: string, spec: VideoDownloadSpecInput, env?: Record<string, string>): Promise<DownloaderRun>;
}

/** Applies the chart's RBAC and policy to the namespace and returns a runner. */
export async function downloaderHarness(options: {
  config: k8s.KubeConfig;
  apiServerUrl: string;
  namespace: string;
  downloads: Downloads;
  minio: MinioEndpoint;
  bucket: string;
  egressAllow: string;
}): Promise<DownloaderHarness> {
  const { config, namespace } = options;
  await applyChartRbac(config, namespace);
  const core = config.makeApiClient(k8s.CoreV1Api);
  const objects = config.makeApiClient(k8s.CustomObjectsApi);
  const credentials = mkdtempSync(join(tmpdir(), 'vdl-credentials-'));
  const caFile = join(credentials, 'ca.crt');
  writeFileSync(caFile, Buffer.from(config.getCurrentCluster()?.caData as string, 'base64'));

  /**
   * What the operator and the Job controller would have done before the pod
   * runs: status.jobName recorded, a pod named after the Job (never
   * scheduled: a scheduling gate holds it), and the token bound to that pod.
   */
  async function podToken(name: string): Promise<string> {
    const jobName = jobNameFor(name);
    await objects.patchNamespacedCustomObjectStatus(
      { group, version, plural, namespace, name, body: { status: { jobName, phase: 'Running' } } },
      mergePatch,
    );
    const pod = await core.createNamespacedPod({
      namespace,
      body: {
        metadata: { generateName: `${jobName}-` },
        spec: {
          serviceAccountName: 'vdl-downloader',
          automountServiceAccountToken: false,
          schedulingGates: [{ name: 'vdl.dev/harness' }],
          securityContext: {
            runAsNonRoot: true,
            runAsUser: 65532,
            seccompProfile: { type: 'RuntimeDefault' },
          },
          containers: [
            {
              name: 'downloader',
              image: 'vdl/downloader:harness',
              securityContext: { allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] } },
            },
          ],
        },
      },
    });
    const issued = await core.createNamespacedServiceAccountToken({
      name: 'vdl-downloader',
      namespace,
      body: {
        spec: {
          audiences: [],
          expirationSeconds: 3600,
          boundObjectRef: { apiVersion: 'v1', kind: 'Pod', name: pod.metadata?.name, uid: pod.metadata?.uid },
        },
      },
    });
    const tokenFile = join(credentials, `${name}.token`);
    writeFileSync(tokenFile, issued.status?.token as string, { mode: 0o600 });
    return tokenFile;
  }

  return {
    async run(name, spec, env = {}) {
      const created = await options.downloads.create(name, spec);
      const tokenFile = await podToken(name);
      const work = mkdtempSync(join(tmpdir(), 'vdl-work-'));
      const terminationLog = join(work, 'termination-log');
      const started = performance.now();
      const result = await execa(process.execPath, [mainScript], {
        reject: false,
        all: true,
        extendEnv: false,
        env: {
          PATH: process.env.PATH,
          VDL_DOWNLOAD_NAME: name,
          VDL_DOWNLOAD_NAMESPACE: namespace,
          VDL_SPEC: JSON.stringify(created.spec),
          VDL_BUCKET: options.bucket,
          VDL_KEY_PREFIX: `${namespace}/${name}/${created.metadata.uid}/`,
          VDL_MAX_FILE_SIZE: '4Gi',
          VDL_S3_ENDPOINT: options.minio.url,
          VDL_S3_ACCESS_KEY: options.minio.accessKey,
          VDL_S3_SECRET_KEY: options.minio.secretKey,
          VDL_TOKEN_FILE: tokenFile,
          VDL_CA_FILE: caFile,
          VDL_KUBERNETES_URL: options.apiServerUrl,
          VDL_WORK_DIR: join(work, 'work'),
          VDL_TERMINATION_LOG: terminationLog,
          VDL_YT_DLP: toolPath('yt-dlp'),
          VDL_EGRESS_ALLOW: options.egressAllow,
          ...env,
        },
      });
      const seconds = (performance.now() - started) / 1000;
      const finished = (result.all ?? '')
        .split('\n')
        .map((line) => {
          try {
            return JSON.parse(line) as {
              msg?: string;
              statusWrites?: number;
              downloadSeconds?: number;
              uploadSeconds?: number;
            };
          } catch {
            return {};
          }
        })
        .find((entry) => entry.msg === 'finished');
      return {
        exitCode: result.exitCode ?? -1,
        message: parseTerminationMessage(readFileSync(terminationLog, 'utf8')),
        output: result.all ?? '',
        statusWrites: finished?.statusWrites ?? -1,
        seconds,
        downloadSeconds: finished?.downloadSeconds ?? Number.NaN,
        uploadSeconds: finished?.uploadSeconds ?? Number.NaN,
        download: await options.downloads.get(name),
      };
    },
  };
}
