// The operator's configuration: one validated object, read once from VDL_*
// environment variables, with defaults that work in `make dev`.
import { z } from 'zod';
import { quantity, resourceQuantity } from '../crds/quantity.ts';
import { envFlag, envInteger as integer, parseEnv } from '../lib/config/env-config.ts';
import { DownloadPodTemplate } from './download-pod-template.ts';

/** A download pod's CPU and memory (VDL_REQUESTS_CPU, VDL_LIMITS_MEMORY…); each unset one keeps its default. */
const podResources = (cpu: string, memory: string) =>
  z.object({ cpu: resourceQuantity.default(cpu), memory: resourceQuantity.default(memory) }).prefault({});

export const OperatorConfig = z.object({
  /** Namespace to watch; empty watches every namespace (needs cluster-wide RBAC). */
  watchNamespace: z.string().default(''),
  /** Namespace of the leader-election Lease. */
  leaseNamespace: z.string().default('default'),
  leaseName: z.string().default('vdl-operator'),
  leaderElection: envFlag('true', '1').default(true),
  /** Who holds the Lease; by default HOSTNAME (the pod's name) and the process id. */
  identity: z.string(),
  workers: integer.min(1).max(64).default(4),
  /** At most this many downloads run at once, over all owners. */
  maxActiveDownloads: integer.min(1).default(10),
  /** At most this many downloads of one owner run at once. */
  maxActivePerOwner: integer.min(1).default(3),
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
  defaultDeadlineSeconds: integer.min(30).default(3600),
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
  requests: podResources('250m', '256Mi'),
  limits: podResources('2', '1Gi'),
  /**
   * Scheduling and pull settings for every download pod, as JSON
   * (VDL_DOWNLOAD_POD_TEMPLATE, from the chart's downloader.podTemplate);
   * only the keys of download-pod-template.ts, anything else is refused.
   */
  downloadPodTemplate: DownloadPodTemplate.default({}),
  /**
   * How long a finished Job (and its pods) stays: set when the Job is made,
   * so no patch later. The result reaches status first through the pod's
   * final progress report; the Job's termination message is the fallback,
   * which this leaves an operator that was down or behind minutes to read.
   */
  jobTtlSecondsAfterFinished: integer.min(0).default(300),
  /**
   * PersistentVolumeClaims downloads may write onto (spec.storage.volume),
   * comma-separated: "claim" in any download namespace, "namespace/claim" in
   * one. Empty: none, so a download cannot write onto any claim it can name.
   */
  volumeClaims: z.string().default(''),
  /** Give up removing a stored file after this long, so deletion never blocks forever. */
  finalizerTimeoutSeconds: integer.min(0).default(600),
  /**
   * Completion webhooks (spec.notify): VDL_WEBHOOK_ALLOW lists host:port
   * pairs a webhook may reach although internal (a receiver in the cluster,
   * a test's); every other internal address is refused. A failed attempt
   * waits backoffSeconds, doubled after each further one up to
   * backoffMaxSeconds, for at most maxAttempts attempts (by default about 80
   * minutes of trying before giving up).
   */
  webhook: z
    .object({
      /** Off: no notifier runs (the chart then grants no Secret reads and no egress for it). */
      enabled: envFlag('true', '1').default(true),
      allow: z.string().default(''),
      maxAttempts: integer.min(1).max(100).default(12),
      backoffSeconds: z.coerce.number().min(0.1).max(3600).default(10),
      backoffMaxSeconds: z.coerce.number().min(0.1).max(86_400).default(900),
      timeoutSeconds: z.coerce.number().min(0.1).max(120).default(10),
    })
    .prefault({}),
  /**
   * The archive of finished downloads (PostgreSQL): VDL_ARCHIVE_URL, a
   * postgres:// URL (from a Secret; never logged); empty keeps no archive.
   * A deleted download waits for its row at most finalizerTimeoutSeconds
   * while the database cannot be written, then goes with an Event
   * ArchiveAbandoned; a failed write is tried again after retrySeconds;
   * rows older than ttlDays are deleted.
   */
  archive: z
    .object({
      url: z.string().default(''),
      finalizerTimeoutSeconds: integer.min(0).default(3600),
      retrySeconds: z.coerce.number().min(0.1).max(3600).default(5),
      /** Rows of downloads finished longer ago are deleted (hourly, in batches); 0 keeps them all. */
      ttlDays: integer.min(0).max(36_500).default(0),
    })
    .prefault({}),
  metricsPort: integer.min(0).max(65_535).default(8080),
  metricsHost: z.string().default('127.0.0.1'),
  logLevel: z.enum(['trace', 'debug', 'info', 'warn', 'error']).default('info'),
});
export type OperatorConfig = z.output<typeof OperatorConfig>;

/** Reads VDL_* variables (VDL_ and the field in upper snake case); overrides (from tests) win. */
export function loadOperatorConfig(
  env: NodeJS.ProcessEnv = process.env,
  overrides: Partial<z.input<typeof OperatorConfig>> = {},
): OperatorConfig {
  return parseEnv(OperatorConfig, env, {
    program: 'operator',
    prefix: 'VDL_',
    defaults: { identity: `${env.HOSTNAME ?? 'operator'}-${process.pid}` },
    overrides,
  });
}
