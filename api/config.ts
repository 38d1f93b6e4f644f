// The API's configuration: one validated object, read once from VDL_API_*
// environment variables, with defaults that work in `make dev`.
import { z } from 'zod';
import { envFlag, envInteger, parseEnv } from '../lib/config/env-config.ts';

export const ApiConfig = z.object({
  host: z.string().default('127.0.0.1'),
  port: envInteger.min(0).max(65_535).default(8000),
  /** Namespace the downloads live in. */
  namespace: z.string().default('default'),
  /** Secret holding the API keys (data key "keys": lines "user:role:sha256hex"). */
  keysSecret: z.string().default('vdl-api-keys'),
  /** Local development only: every request is the user "anonymous", an admin. */
  noAuth: envFlag('true').default(false),
  /** Submissions per user per minute, and burst. */
  submitPerMinute: envInteger.min(1).default(30),
  submitBurst: envInteger.min(1).default(10),
  /** Unfinished downloads a user may have at once, reserved through a ConfigMap per user (api/quota.ts). */
  maxUnfinishedPerUser: envInteger.min(1).default(50),
  /** Live streams (WebSocket and SSE) a user may hold open at once, per API replica. */
  maxLiveConnectionsPerUser: envInteger.min(1).default(20),
  /** Downloads one WebSocket may follow. */
  maxIdsPerSocket: envInteger.min(1).max(10_000).default(100),
  /** Subscribe messages per WebSocket per minute, and burst; beyond them the socket is closed (1008). */
  subscribePerMinute: envInteger.min(1).default(60),
  subscribeBurst: envInteger.min(1).default(20),
  /** Base64 HMAC key for stream tickets, the same on every replica (the chart keeps it in a Secret); empty: a random key of this process. */
  ticketKey: z.string().default(''),
  /** How long a stream ticket (POST /tickets) may be used to open a stream. */
  ticketSeconds: envInteger.min(1).max(600).default(60),
  bodyLimitBytes: envInteger.min(1024).default(64 * 1024),
  maxUrlLength: envInteger.min(16).max(2048).default(2048),
  /** Comma-separated host suffixes; when set, only these hosts may be downloaded from. */
  allowHosts: z.string().default(''),
  denyHosts: z.string().default(''),
  /** ip:port pairs that may be reached although internal (tests, local development). */
  egressAllow: z.string().default(''),
  /** ip:port pairs a webhook's notify.url may name although internal: the operator's VDL_WEBHOOK_ALLOW. */
  webhookAllow: z.string().default(''),
  /** The bucket downloads store into unless their spec names one: the operator's VDL_DEFAULT_BUCKET. */
  bucket: z.string().default('vdl'),
  s3Endpoint: z.string().default('http://127.0.0.1:9000'),
  s3Region: z.string().default('us-east-1'),
  /** The S3 endpoint as clients outside the cluster reach it, for presigned URLs; empty: s3Endpoint. */
  s3PublicEndpoint: z.string().default(''),
  s3AccessKey: z.string().default(''),
  s3SecretKey: z.string().default(''),
  presignSeconds: envInteger
    .min(10)
    .max(7 * 86_400)
    .default(900),
  /** The archive of finished downloads (PostgreSQL URL, from a Secret; never logged): the operator's VDL_ARCHIVE_URL. Empty: live downloads only. */
  archiveUrl: z.string().default(''),
  logLevel: z.enum(['trace', 'debug', 'info', 'warn', 'error', 'silent']).default('info'),
});
export type ApiConfig = z.output<typeof ApiConfig>;

/** Reads VDL_API_* variables (VDL_API_ and the field in upper snake case); overrides (from tests) win. */
export function loadApiConfig(
  env: NodeJS.ProcessEnv = process.env,
  overrides: Partial<z.input<typeof ApiConfig>> = {},
): ApiConfig {
  return parseEnv(ApiConfig, env, { program: 'API', prefix: 'VDL_API_', overrides });
}
