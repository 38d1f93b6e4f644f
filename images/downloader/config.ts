// The downloader's configuration: environment variables rendered by the
// operator into the Job (see operator/desired-job.ts), validated once.
import { z } from 'zod';
import { hostList, hostListEnv } from '../../crds/host-list.ts';
import { quantityBytes, quantityPattern } from '../../crds/quantity.ts';
import { VideoDownloadSpec } from '../../crds/video-download.ts';
import { workDirLimit } from '../../crds/work-dir.ts';

const DownloaderEnv = z.object({
  VDL_DOWNLOAD_NAME: z.string().min(1),
  VDL_DOWNLOAD_NAMESPACE: z.string().min(1),
  VDL_SPEC: z.string().min(2),
  VDL_BUCKET: z.string().min(1),
  VDL_KEY_PREFIX: z.string().min(1),
  VDL_MAX_FILE_SIZE: z.string().regex(new RegExp(quantityPattern)).default('4Gi'),
  /** Bytes the work dir may hold (the operator sizes it with the pod's disk); unset: from the max file size. */
  VDL_WORK_DIR_LIMIT: z.string().regex(new RegExp(quantityPattern)).optional(),
  VDL_S3_ENDPOINT: z.url(),
  VDL_S3_REGION: z.string().default('us-east-1'),
  VDL_S3_ACCESS_KEY: z.string().min(1),
  VDL_S3_SECRET_KEY: z.string().min(1),
  VDL_TOKEN_FILE: z.string().default('/var/run/secrets/vdl/token/token'),
  VDL_CA_FILE: z.string().default('/var/run/secrets/vdl/token/ca.crt'),
  /** The API server; in a pod, from the service environment. */
  VDL_KUBERNETES_URL: z.string().optional(),
  KUBERNETES_SERVICE_HOST: z.string().optional(),
  KUBERNETES_SERVICE_PORT: z.string().optional(),
  VDL_WORK_DIR: z.string().default('/work'),
  VDL_TERMINATION_LOG: z.string().default('/dev/termination-log'),
  VDL_YT_DLP: z.string().default('yt-dlp'),
  /** ip:port pairs that may be reached although internal (tests, local development). */
  VDL_EGRESS_ALLOW: z.string().optional(),
  /** Bytes per second, as a quantity (2Mi, 500K); yt-dlp gets plain bytes so K means 1000 as in the spec. */
  VDL_RATE_LIMIT: z.string().regex(new RegExp(quantityPattern)).optional(),
  VDL_COOKIES_FILE: z.string().optional(),
  /** The operator's host lists (comma-separated suffixes), enforced by the egress proxy. */
  [hostListEnv.allow]: z.string().optional(),
  [hostListEnv.deny]: z.string().optional(),
  VDL_UPLOAD_RETRIES: z.coerce.number().int().min(0).max(10).default(4),
});

export function loadDownloaderConfig(env: NodeJS.ProcessEnv = process.env) {
  const parsed = DownloaderEnv.safeParse(env);
  if (!parsed.success) throw new Error(`invalid downloader environment: ${z.prettifyError(parsed.error)}`);
  const e = parsed.data;
  const spec = VideoDownloadSpec.safeParse(JSON.parse(e.VDL_SPEC));
  if (!spec.success) throw new Error(`invalid VDL_SPEC: ${z.prettifyError(spec.error)}`);
  const apiServer =
    e.VDL_KUBERNETES_URL ??
    (e.KUBERNETES_SERVICE_HOST
      ? `https://${e.KUBERNETES_SERVICE_HOST}:${e.KUBERNETES_SERVICE_PORT ?? 443}`
      : undefined);
  if (!apiServer) throw new Error('no API server: set VDL_KUBERNETES_URL or run in a pod');
  const maxFileSize = quantityBytes(e.VDL_MAX_FILE_SIZE);
  return {
    download: { name: e.VDL_DOWNLOAD_NAME, namespace: e.VDL_DOWNLOAD_NAMESPACE },
    spec: spec.data,
    bucket: e.VDL_BUCKET,
    keyPrefix: e.VDL_KEY_PREFIX,
    maxFileSize,
    workDirLimit:
      e.VDL_WORK_DIR_LIMIT !== undefined ? quantityBytes(e.VDL_WORK_DIR_LIMIT) : workDirLimit(maxFileSize),
    s3: {
      endpoint: e.VDL_S3_ENDPOINT,
      region: e.VDL_S3_REGION,
      accessKey: e.VDL_S3_ACCESS_KEY,
      secretKey: e.VDL_S3_SECRET_KEY,
    },
    apiServer,
    tokenFile: e.VDL_TOKEN_FILE,
    caFile: e.VDL_CA_FILE,
    workDir: e.VDL_WORK_DIR,
    terminationLog: e.VDL_TERMINATION_LOG,
    ytDlp: e.VDL_YT_DLP,
    egressAllow: e.VDL_EGRESS_ALLOW,
    hosts: { allowHosts: hostList(e[hostListEnv.allow]), denyHosts: hostList(e[hostListEnv.deny]) },
    rateLimit: e.VDL_RATE_LIMIT !== undefined ? quantityBytes(e.VDL_RATE_LIMIT) : undefined,
    cookiesFile: e.VDL_COOKIES_FILE,
    uploadRetries: e.VDL_UPLOAD_RETRIES,
  };
}
export type DownloaderConfig = ReturnType<typeof loadDownloaderConfig>;
