// Runs the downloader program as its own process, the way a download pod
// would: its own service account under the chart's RBAC and admission
// policy (only status.progress of its own download), a token bound to a pod
// of the download's Job as the kubelet would request it, the cluster CA, and
// the upload plan the operator would make (by the operator's own code), no
// storage credentials.
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type * as k8s from '@kubernetes/client-node';
import { execa, type ResultPromise } from 'execa';
import { type DownloaderEnvValues, toEnvRecord } from '../../crds/downloader-env.ts';
import { parseTerminationMessage, type TerminationMessage } from '../../crds/termination-message.ts';
import type { UploadPlan } from '../../crds/upload-plan.ts';
import type { VideoDownload, VideoDownloadSpecInput } from '../../crds/video-download.ts';
import { s3ObjectStore } from '../../lib/storage/object-store.ts';
import { jobNameFor } from '../../operator/controllers/video-download/desired-job.ts';
import { prepareUploadPlan } from '../../operator/controllers/video-download/upload-plan.ts';
import type { MinioEndpoint } from '../cluster/control-plane.ts';
import { toolPath } from '../toolchain/tools.ts';
import { applyChartRbac } from './chart-render.ts';
import { podBoundToken } from './pod-token.ts';
import type { Downloads } from './vdl.ts';

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
  /** Parts of the file sent while yt-dlp still wrote it. */
  streamedParts: number;
  download: VideoDownload;
}

export interface RunOptions {
  /** Where the pod reaches storage (a slow link, say); the plan is presigned for it. Default: MinIO. */
  storageUrl?: string;
  /** The operator's VDL_MIN_UPLOAD_PART_SIZE, in bytes (default 8 MiB). */
  minimumPartSize?: number;
  /** Changes the plan before the downloader gets it (an unreachable endpoint, say). */
  alterPlan?: (plan: UploadPlan) => UploadPlan;
}

export interface StartedRun {
  process: ResultPromise;
  plan: UploadPlan;
  /** The download's key prefix. */
  prefix: string;
  finished: Promise<DownloaderRun>;
  /** Starts the Job's next pod, as after an eviction: the same download and upload plan, a new work dir. */
  replacement(): StartedRun;
}

export interface DownloaderHarness {
  run(
    name: string,
    spec: VideoDownloadSpecInput,
    env?: DownloaderEnvValues,
    options?: RunOptions,
  ): Promise<DownloaderRun>;
  start(
    name: string,
    spec: VideoDownloadSpecInput,
    env?: DownloaderEnvValues,
    options?: RunOptions,
  ): Promise<StartedRun>;
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
    await options.downloads.patchStatus(name, { jobName, phase: 'Running' });
    const { token } = await podBoundToken(config, namespace, jobName);
    const tokenFile = join(credentials, `${name}.token`);
    writeFileSync(tokenFile, token, { mode: 0o600 });
    return tokenFile;
  }

  const start: DownloaderHarness['start'] = async (name, spec, env = {}, runOptions = {}) => {
    const created = await options.downloads.create(name, spec);
    const tokenFile = await podToken(name);
    const work = mkdtempSync(join(tmpdir(), 'vdl-work-'));
    const prefix = `${namespace}/${name}/${created.metadata.uid}/`;
    const { accessKey, secretKey } = options.minio;
    const store = s3ObjectStore(
      runOptions.storageUrl ?? options.minio.url,
      accessKey,
      secretKey,
      'us-east-1',
    );
    const prepared = await prepareUploadPlan(store, {
      bucket: options.bucket,
      prefix,
      maxFileSize: env.VDL_MAX_FILE_SIZE ?? '4Gi',
      minimumPartSize: runOptions.minimumPartSize ?? 8 * 2 ** 20,
      deadlineSeconds: 3600,
      sourceUrl: created.spec.url,
      now: new Date(),
    });
    const plan = runOptions.alterPlan ? runOptions.alterPlan(prepared) : prepared;
    const planFile = join(work, 'upload-plan.json');
    writeFileSync(planFile, JSON.stringify(plan), { mode: 0o400 });
    /** One pod of the download's Job: its own work dir and termination log, the same plan. */
    const launch = (): StartedRun => {
      const pod = mkdtempSync(join(work, 'pod-'));
      const terminationLog = join(pod, 'termination-log');
      const started = performance.now();
      const child = execa(process.execPath, [mainScript], {
        reject: false,
        all: true,
        extendEnv: false,
        env: {
          PATH: process.env.PATH,
          // The operator's contract, as the pod would get it, with the pod's paths on this host.
          ...toEnvRecord({
            VDL_DOWNLOAD_NAME: name,
            VDL_DOWNLOAD_NAMESPACE: namespace,
            VDL_SPEC: JSON.stringify(created.spec),
            VDL_MAX_FILE_SIZE: '4Gi',
            VDL_UPLOAD_PLAN_FILE: planFile,
            VDL_TOKEN_FILE: tokenFile,
            VDL_CA_FILE: caFile,
            VDL_KUBERNETES_URL: options.apiServerUrl,
            VDL_WORK_DIR: join(pod, 'work'),
            VDL_TERMINATION_LOG: terminationLog,
            VDL_YT_DLP: toolPath('yt-dlp'),
            VDL_EGRESS_ALLOW: options.egressAllow,
            ...env,
          }),
        },
      });
      const finished = (async (): Promise<DownloaderRun> => {
        const result = await child;
        const seconds = (performance.now() - started) / 1000;
        const logged = (result.all ?? '')
          .split('\n')
          .map((line) => {
            try {
              return JSON.parse(line) as {
                msg?: string;
                statusWrites?: number;
                downloadSeconds?: number;
                uploadSeconds?: number;
                streamedParts?: number;
              };
            } catch {
              return {};
            }
          })
          .find((entry) => entry.msg === 'finished');
        return {
          exitCode: result.exitCode ?? -1,
          message: parseTerminationMessage(
            existsSync(terminationLog) ? readFileSync(terminationLog, 'utf8') : '',
          ),
          output: result.all ?? '',
          statusWrites: logged?.statusWrites ?? -1,
          seconds,
          downloadSeconds: logged?.downloadSeconds ?? Number.NaN,
          uploadSeconds: logged?.uploadSeconds ?? Number.NaN,
          streamedParts: logged?.streamedParts ?? Number.NaN,
          download: await options.downloads.get(name),
        };
      })();
      return { process: child, plan, prefix, finished, replacement: launch };
    };
    return launch();
  };

  return {
    start,
    async run(name, spec, env = {}, runOptions = {}) {
      return (await start(name, spec, env, runOptions)).finished;
    },
  };
}
