// The downloader's configuration: the environment variables of the
// operator's contract (crds/downloader-env.ts), validated once.
import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { fromEnv } from '../../crds/downloader-env.ts';
import { hostList, hostListEnv } from '../../crds/host-list.ts';
import { quantityBytes } from '../../crds/quantity.ts';
import { UploadPlan } from '../../crds/upload-plan.ts';
import { VideoDownloadSpec } from '../../crds/video-download.ts';
import { workDirLimit } from '../../crds/work-dir.ts';

export function loadDownloaderConfig(env: NodeJS.ProcessEnv = process.env) {
  const e = fromEnv(env);
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
