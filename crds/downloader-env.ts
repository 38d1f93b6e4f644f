// The contract between the operator and the downloader: the environment
// variables a download pod gets. The operator renders them (toEnv), the
// downloader parses them (images/downloader/config.ts), tests build them the
// same way: one list.
import { z } from 'zod';
import { hostListEnv } from './host-list.ts';
import { quantity } from './quantity.ts';
import { uploadPlanFile } from './upload-plan.ts';

/**
 * Where a download pod's files are: the operator mounts its volumes here and
 * the downloader's defaults point here, so the two cannot drift apart.
 */
export const podPaths = {
  /** The projected service account token and the cluster's CA. */
  tokenDir: '/var/run/secrets/vdl/token',
  /** The upload plan, one file of the download's own Secret. */
  uploadDir: '/var/run/secrets/vdl/upload',
  cookiesDir: '/var/run/secrets/vdl/cookies',
  /** The file name of the cookies, in cookiesDir. */
  cookiesFile: 'cookies.txt',
  workDir: '/work',
  /** The claim of a download written onto a volume (spec.storage.volume). */
  volumeDir: '/volume',
  tmpDir: '/tmp',
  terminationLog: '/dev/termination-log',
} as const;

/** The files in those folders the downloader reads. */
export const podFiles = {
  token: `${podPaths.tokenDir}/token`,
  ca: `${podPaths.tokenDir}/ca.crt`,
  uploadPlan: `${podPaths.uploadDir}/${uploadPlanFile}`,
  cookies: `${podPaths.cookiesDir}/${podPaths.cookiesFile}`,
} as const;

export const DownloaderEnv = z.object({
  VDL_DOWNLOAD_NAME: z.string().min(1),
  VDL_DOWNLOAD_NAMESPACE: z.string().min(1),
  /** Names the hidden copy of a file written onto a volume (the cleanup Job removes it by that name). */
  VDL_DOWNLOAD_UID: z.string().optional(),
  /** The download's spec as JSON (checked against VideoDownloadSpec by the downloader). */
  VDL_SPEC: z.string().min(2),
  VDL_MAX_FILE_SIZE: quantity.default('4Gi'),
  /** Bytes the work dir may hold (the operator sizes it with the pod's disk); unset: from the max file size. */
  VDL_WORK_DIR_LIMIT: quantity.optional(),
  /** The operator's presigned requests for this download's uploads (a file of its own Secret). */
  VDL_UPLOAD_PLAN_FILE: z.string().default(podFiles.uploadPlan),
  /** Bytes per second, as a quantity (2Mi, 500K); yt-dlp gets plain bytes so K means 1000 as in the spec. */
  VDL_RATE_LIMIT: quantity.optional(),
  /** The operator's host lists (comma-separated suffixes), enforced by the egress proxy. */
  [hostListEnv.allow]: z.string().optional(),
  [hostListEnv.deny]: z.string().optional(),
  VDL_COOKIES_FILE: z.string().optional(),
  VDL_TOKEN_FILE: z.string().default(podFiles.token),
  VDL_CA_FILE: z.string().default(podFiles.ca),
  VDL_WORK_DIR: z.string().default(podPaths.workDir),
  /** Where the claim of spec.storage.volume is mounted; read only for such a download (it has no upload plan). */
  VDL_VOLUME_DIR: z.string().default(podPaths.volumeDir),
  /** The API server; in a pod, from the service environment. */
  VDL_KUBERNETES_URL: z.string().optional(),
  KUBERNETES_SERVICE_HOST: z.string().optional(),
  KUBERNETES_SERVICE_PORT: z.string().optional(),
  VDL_TERMINATION_LOG: z.string().default(podPaths.terminationLog),
  VDL_YT_DLP: z.string().default('yt-dlp'),
  /** ip:port pairs that may be reached although internal (tests, local development). */
  VDL_EGRESS_ALLOW: z.string().optional(),
  VDL_UPLOAD_RETRIES: z.coerce.number().int().min(0).max(10).default(4),
});
export type DownloaderEnv = z.output<typeof DownloaderEnv>;

/** What a renderer may set: every variable, as the text it becomes; unset ones are left out. */
export type DownloaderEnvValues = { [Name in keyof z.input<typeof DownloaderEnv>]?: string | undefined };

/** The variables as a pod's env list, in the order given; an undefined value is no variable. */
export function toEnv(values: DownloaderEnvValues): Array<{ name: string; value: string }> {
  return Object.entries(values).flatMap(([name, value]) => (value === undefined ? [] : [{ name, value }]));
}

/** The variables as a process environment (a test running the downloader as its own process). */
export function toEnvRecord(values: DownloaderEnvValues): Record<string, string> {
  return Object.fromEntries(toEnv(values).map(({ name, value }) => [name, value]));
}
