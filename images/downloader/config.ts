// The downloader's configuration: the environment variables of the
// operator's contract (crds/downloader-env.ts), validated once.
import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { DownloaderEnv } from '../../crds/downloader-env.ts';
import { hostList, hostListEnv } from '../../crds/host-list.ts';
import { quantityBytes } from '../../crds/quantity.ts';
import { UploadPlan } from '../../crds/upload-plan.ts';
import { VideoDownloadSpec } from '../../crds/video-download.ts';
import { workDirLimit } from '../../crds/work-dir.ts';
import { parseEnv } from '../../lib/config/env-config.ts';

/** The contract's variables, checked, with defaults; throws naming each bad variable. */
export function downloaderEnv(env: Record<string, string | undefined>): DownloaderEnv {
  return parseEnv(DownloaderEnv, env, { program: 'downloader' });
}

/** JSON text checked against a schema; the error says where the text came from. */
function parseJson<Schema extends z.ZodType>(schema: Schema, text: string, source: string): z.output<Schema> {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new Error(`invalid downloader configuration: ${source}: ${(error as Error).message}`);
  }
  const parsed = schema.safeParse(value);
  if (!parsed.success)
    throw new Error(`invalid downloader configuration: ${source}: ${z.prettifyError(parsed.error)}`);
  return parsed.data;
}

/** kube-apiserver's URL from the service environment a pod gets; an IPv6 address goes in brackets. */
export function inClusterApiServer(host: string, port = '443'): string {
  return `https://${host.includes(':') ? `[${host}]` : host}:${port}`;
}

export function loadDownloaderConfig(env: NodeJS.ProcessEnv = process.env) {
  const e = downloaderEnv(env);
  const spec = parseJson(VideoDownloadSpec, e.VDL_SPEC, 'VDL_SPEC');
  const apiServer =
    e.VDL_KUBERNETES_URL ??
    (e.KUBERNETES_SERVICE_HOST
      ? inClusterApiServer(e.KUBERNETES_SERVICE_HOST, e.KUBERNETES_SERVICE_PORT)
      : undefined);
  if (!apiServer) throw new Error('no API server: set VDL_KUBERNETES_URL or run in a pod');
  const maxFileSize = quantityBytes(e.VDL_MAX_FILE_SIZE);
  // A download written onto a volume gets no upload plan: it writes to its claim, mounted at VDL_VOLUME_DIR.
  const volume = spec.storage.volume ? { ...spec.storage.volume, root: e.VDL_VOLUME_DIR } : undefined;
  const upload = volume
    ? undefined
    : parseJson(
        UploadPlan,
        readFileSync(e.VDL_UPLOAD_PLAN_FILE, 'utf8'),
        `the upload plan (VDL_UPLOAD_PLAN_FILE ${e.VDL_UPLOAD_PLAN_FILE})`,
      );
  return {
    download: { name: e.VDL_DOWNLOAD_NAME, namespace: e.VDL_DOWNLOAD_NAMESPACE, uid: e.VDL_DOWNLOAD_UID },
    spec,
    maxFileSize,
    workDirLimit:
      e.VDL_WORK_DIR_LIMIT !== undefined ? quantityBytes(e.VDL_WORK_DIR_LIMIT) : workDirLimit(maxFileSize),
    upload,
    volume,
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
