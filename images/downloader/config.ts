// The downloader's configuration: environment variables rendered by the
// operator into the Job (see operator/desired-job.ts), validated once.
import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { hostList, hostListEnv } from '../../crds/host-list.ts';
import { quantityBytes, quantityPattern } from '../../crds/quantity.ts';
import { UploadPlan } from '../../crds/upload-plan.ts';
import { VideoDownloadSpec } from '../../crds/video-download.ts';
import { workDirLimit } from '../../crds/work-dir.ts';

const DownloaderEnv = z.object({
  VDL_DOWNLOAD_NAME: z.string().min(1),
  VDL_DOWNLOAD_NAMESPACE: z.string().min(1),
  VDL_SPEC: z.string().min(2),
  VDL_MAX_FILE_SIZE: z.string().regex(new RegExp(quantityPattern)).default('4Gi'),
  /** Bytes the work dir may hold (the operator sizes it with the pod's disk); unset: from the max file size. */
  VDL_WORK_DIR_LIMIT: z.string().regex(new RegExp(quantityPattern)).optional(),
  /** The operator's presigned requests for this download's uploads (a file of its own Secret). */
  VDL_UPLOAD_PLAN_FILE: z.string().default('/var/run/secrets/vdl/upload/upload-plan.json'),
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
  const upload = UploadPlan.safeParse(JSON.parse(readFileSync(e.VDL_UPLOAD_PLAN_FILE, 'utf8')));
  if (!upload.success) throw new Error(`invalid upload plan: ${z.prettifyError(upload.error)}`);
  return {
    download: { name: e.VDL_DOWNLOAD_NAME, namespace: e.VDL_DOWNLOAD_NAMESPACE },
    spec: spec.data,
    maxFileSize,
    workDirLimit:
      e.VDL_WORK_DIR_LIMIT !== undefined ? quantityBytes(e.VDL_WORK_DIR_LIMIT) : workDirLimit(maxFileSize),
    upload: upload.data,
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
