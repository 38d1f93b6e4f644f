// The operator's configuration: one validated object, read once from the
// environment, with defaults that work in `make dev`.
import { z } from 'zod';
import { quantity, resourceQuantity } from '../crds/quantity.ts';

export const OperatorConfig = z.object({
  /** Namespace to watch; empty watches every namespace (needs cluster-wide RBAC). */
  watchNamespace: z.string().default(''),
  /** Namespace of the leader-election Lease. */
  leaseNamespace: z.string().default('default'),
  leaseName: z.string().default('vdl-operator'),
  leaderElection: z.boolean().default(true),
  identity: z.string().default(`${process.env.HOSTNAME ?? 'operator'}-${process.pid}`),
  workers: z.int().min(1).max(64).default(4),
  /** At most this many downloads run at once, over all owners. */
  maxActiveDownloads: z.int().min(1).default(10),
  /** At most this many downloads of one owner run at once. */
  maxActivePerOwner: z.int().min(1).default(3),
  downloaderImage: z.string().default('vdl/downloader:dev'),
  downloaderServiceAccount: z.string().default('vdl-downloader'),
  /** Where the operator and download pods reach storage; presigned requests are signed for this host. */
  s3Endpoint: z.string().default('http://127.0.0.1:9000'),
  s3Region: z.string().default('us-east-1'),
  /** The operator's own storage credentials (it presigns the pods' uploads and removes files); unset: neither. */
  s3AccessKey: z.string().optional(),
  s3SecretKey: z.string().optional(),
  defaultBucket: z.string().default('vdl'),
  /** The largest file a download may store: the default, and the cap of every spec's maxFileSize. */
  defaultMaxFileSize: quantity.default('4Gi'),
  defaultDeadlineSeconds: z.int().min(30).default(3600),
  /**
   * Smallest part of a download's multipart upload (S3's floor of 5 MiB
   * holds anyway); larger limits get larger parts, about 200 at most.
   */
  minUploadPartSize: quantity.default('8Mi'),
  /** Bytes per second a download may use: the default, and the cap of every spec's rateLimit; unset: no limit. */
  defaultRateLimit: quantity.optional(),
  /** Host suffixes (comma-separated) download pods may reach, as the API's VDL_API_ALLOW_HOSTS; empty: any. */
  allowHosts: z.string().default(''),
  /** Host suffixes download pods may not reach, as the API's VDL_API_DENY_HOSTS. */
  denyHosts: z.string().default(''),
  /**
   * host:port pairs download pods may reach although their addresses are
   * internal (a test site in the cluster), as the API's VDL_API_EGRESS_ALLOW;
   * everything else internal stays refused. Empty on real deployments.
   */
  egressAllow: z.string().default(''),
  /**
   * The most a download pod's work dir (emptyDir) may be given; it is sized
   * from the download's maximum file size (twice it, for a merge) up to this.
   */
  workDirSizeLimit: quantity.default('9Gi'),
  requests: z
    .object({ cpu: resourceQuantity, memory: resourceQuantity })
    .default({ cpu: '250m', memory: '256Mi' }),
  limits: z.object({ cpu: resourceQuantity, memory: resourceQuantity }).default({ cpu: '2', memory: '1Gi' }),
  /** How long a finished Job stays after its result is recorded. */
  jobTtlSecondsAfterRecorded: z.int().min(0).default(60),
  /** Give up removing a stored file after this long, so deletion never blocks forever. */
  finalizerTimeoutSeconds: z.int().min(0).default(600),
  metricsPort: z.int().min(0).max(65_535).default(8080),
  metricsHost: z.string().default('127.0.0.1'),
  logLevel: z.enum(['trace', 'debug', 'info', 'warn', 'error']).default('info'),
});
export type OperatorConfig = z.output<typeof OperatorConfig>;

const envNames: Record<string, keyof OperatorConfig> = {
  VDL_WATCH_NAMESPACE: 'watchNamespace',
  VDL_LEASE_NAMESPACE: 'leaseNamespace',
  VDL_LEASE_NAME: 'leaseName',
  VDL_LEADER_ELECTION: 'leaderElection',
  VDL_IDENTITY: 'identity',
  VDL_WORKERS: 'workers',
  VDL_MAX_ACTIVE_DOWNLOADS: 'maxActiveDownloads',
  VDL_MAX_ACTIVE_PER_OWNER: 'maxActivePerOwner',
  VDL_DOWNLOADER_IMAGE: 'downloaderImage',
  VDL_DOWNLOADER_SERVICE_ACCOUNT: 'downloaderServiceAccount',
  VDL_S3_ENDPOINT: 's3Endpoint',
  VDL_S3_REGION: 's3Region',
  VDL_S3_ACCESS_KEY: 's3AccessKey',
  VDL_S3_SECRET_KEY: 's3SecretKey',
  VDL_DEFAULT_BUCKET: 'defaultBucket',
  VDL_DEFAULT_MAX_FILE_SIZE: 'defaultMaxFileSize',
  VDL_DEFAULT_DEADLINE_SECONDS: 'defaultDeadlineSeconds',
  VDL_MIN_UPLOAD_PART_SIZE: 'minUploadPartSize',
  VDL_DEFAULT_RATE_LIMIT: 'defaultRateLimit',
  VDL_ALLOW_HOSTS: 'allowHosts',
  VDL_DENY_HOSTS: 'denyHosts',
  VDL_EGRESS_ALLOW: 'egressAllow',
  VDL_WORK_DIR_SIZE_LIMIT: 'workDirSizeLimit',
  VDL_JOB_TTL_SECONDS_AFTER_RECORDED: 'jobTtlSecondsAfterRecorded',
  VDL_FINALIZER_TIMEOUT_SECONDS: 'finalizerTimeoutSeconds',
  VDL_METRICS_PORT: 'metricsPort',
  VDL_METRICS_HOST: 'metricsHost',
  VDL_LOG_LEVEL: 'logLevel',
};

function fromEnvString(key: keyof OperatorConfig, raw: string): unknown {
  const shape = OperatorConfig.shape[key];
  const inner = shape instanceof z.ZodDefault ? shape.unwrap() : shape;
  if (inner instanceof z.ZodBoolean) return raw === 'true' || raw === '1';
  if (inner instanceof z.ZodNumber) return Number(raw);
  return raw;
}

/** Reads VDL_* variables; overrides (from tests) win. Throws a readable error on bad values. */
export function loadOperatorConfig(
  env: NodeJS.ProcessEnv = process.env,
  overrides: Partial<z.input<typeof OperatorConfig>> = {},
): OperatorConfig {
  const raw: Record<string, unknown> = {};
  for (const [name, key] of Object.entries(envNames)) {
    const value = env[name];
    if (value !== undefined && value !== '') raw[key] = fromEnvString(key, value);
  }
  // Pod resources of download Jobs come as four plain variables.
  const resource = (name: string) => env[name] || undefined;
  const requests = { cpu: resource('VDL_REQUESTS_CPU'), memory: resource('VDL_REQUESTS_MEMORY') };
  const limits = { cpu: resource('VDL_LIMITS_CPU'), memory: resource('VDL_LIMITS_MEMORY') };
  if (requests.cpu || requests.memory)
    raw.requests = { cpu: requests.cpu ?? '250m', memory: requests.memory ?? '256Mi' };
  if (limits.cpu || limits.memory) raw.limits = { cpu: limits.cpu ?? '2', memory: limits.memory ?? '1Gi' };
  const parsed = OperatorConfig.safeParse({ ...raw, ...overrides });
  if (!parsed.success) throw new Error(`invalid operator configuration: ${z.prettifyError(parsed.error)}`);
  return parsed.data;
}
