// The whole system on one machine, no Docker: the real control plane and
// MinIO, a process node for download pods, the chart's RBAC, the operator
// and the API as their own processes under their own service accounts, and
// a local media server with a sample video. `make dev` and the end-to-end
// tests both start it.

import { randomBytes } from 'node:crypto';
import { mkdir, open, writeFile } from 'node:fs/promises';
import { delimiter, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as k8s from '@kubernetes/client-node';
import { pino } from 'pino';
import { stringify } from 'yaml';
import { hashKey } from '../../api/api-keys.ts';
import { type Program, programArgs } from '../../lib/runtime/node-flags.ts';
import { type ControlPlane, startControlPlane } from '../cluster/control-plane.ts';
import { ManagedProcess } from '../cluster/managed-process.ts';
import { type RunningPostgres, startPostgres } from '../cluster/postgres.ts';
import { freePort, waitForHealthy } from '../cluster/readiness.ts';
import { nodeKindOf, prepareNodeSite, startNode, type TestNode } from '../node/node.ts';
import { applyChartRbac } from '../support/chart-render.ts';
import { kubeConfigFrom } from '../support/kube.ts';
import { type MediaServer, startMediaServer } from '../support/media-server.ts';
import { type SlowLink, startSlowLink } from '../support/slow-link.ts';
import { minioClient } from '../support/storage.ts';
import { installCrd } from '../support/vdl.ts';
import { imageArchive, imageRef } from '../toolchain/images.ts';
import { toolPath } from '../toolchain/tools.ts';
import { readableLine } from './log-lines.ts';

const root = fileURLToPath(new URL('../../', import.meta.url));
const release = 'vdl';

export interface DevEnvironmentOptions {
  namespace?: string;
  /** Where logs and pod work dirs go. */
  dir: string;
  apiPort?: number;
  /** host:port pairs besides the sample server that downloads may reach. */
  allowedInternalHosts?: string[];
  maxActiveDownloads?: number;
  /** Operator processes campaigning for the one Lease (default 1); the others stand by. */
  operatorReplicas?: number;
  /** The API's VDL_API_MAX_UNFINISHED_PER_USER (its default: 50). */
  maxUnfinishedPerUser?: number;
  /** Put a throttleable link between MinIO and the operator and download pods (not the API). */
  storageLink?: boolean;
  /** The operator's VDL_MIN_UPLOAD_PART_SIZE (its default: 8Mi). */
  minUploadPartSize?: string;
  /** Receives readable log lines of every part. */
  onLog?: (line: string) => void;
}

export interface DevEnvironment {
  /** Which node the pods run on (VDL_TEST_NODE), and where servers its pods reach listen. */
  nodeKind: 'process' | 'real';
  hostAddress: string;
  plane: ControlPlane;
  namespace: string;
  apiUrl: string;
  apiKey: string;
  /** The admin kubeconfig, for kubectl. */
  kubeconfig: string;
  media: MediaServer;
  bucket: string;
  /** The archive's PostgreSQL (stop() and start() it for an outage). */
  postgres: RunningPostgres;
  /** The node download pods run on (VDL_TEST_NODE picks which kind; tests do not know). */
  node: TestNode;
  /** The link the operator and download pods reach MinIO through, with storageLink. */
  storageLink: SlowLink | undefined;
  /** The current processes; restartApi() replaces `api`. `operator` is operators[0]. */
  processes: { operator: ManagedProcess; operators: ManagedProcess[]; api: ManagedProcess };
  /** Leader-election identity of each operator, by index of processes.operators. */
  operatorIdentities: string[];
  /** Stops the API process and starts a new one on the same port, ready when this resolves. */
  restartApi(): Promise<void>;
  /** The first operator's Prometheus metrics. */
  operatorMetricsUrl: string;
  stop(): Promise<void>;
}

/** A kubeconfig that acts as this service account, with a token from the TokenRequest API. */
export async function serviceAccountKubeconfig(
  config: k8s.KubeConfig,
  plane: ControlPlane,
  namespace: string,
  account: string,
  file: string,
) {
  const issued = await config.makeApiClient(k8s.CoreV1Api).createNamespacedServiceAccountToken({
    name: account,
    namespace,
    body: { spec: { expirationSeconds: 86_400 } },
  });
  const cluster = config.getCurrentCluster() as k8s.Cluster;
  await writeFile(
    file,
    stringify({
      apiVersion: 'v1',
      kind: 'Config',
      clusters: [
        {
          name: 'vdl-local',
          cluster: { server: plane.apiServerUrl, 'certificate-authority-data': cluster.caData },
        },
      ],
      users: [{ name: account, user: { token: issued.status?.token } }],
      contexts: [{ name: account, context: { cluster: 'vdl-local', user: account, namespace } }],
      'current-context': account,
    }),
    { mode: 0o600 },
  );
}

/** Passes each new line of a child's log file to onLog, as the file grows. */
function followLog(file: string, part: string, onLog: ((line: string) => void) | undefined): () => void {
  if (!onLog) return () => {};
  let offset = 0;
  let partial = '';
  let reading = false;
  const timer = setInterval(async () => {
    if (reading) return;
    reading = true;
    try {
      const handle = await open(file, 'r');
      try {
        const { size } = await handle.stat();
        if (size > offset) {
          const buffer = Buffer.alloc(size - offset);
          await handle.read(buffer, 0, buffer.length, offset);
          offset = size;
          const lines = (partial + buffer.toString('utf8')).split('\n');
          partial = lines.pop() ?? '';
          for (const line of lines) if (line) onLog(readableLine(part, line));
        }
      } finally {
        await handle.close();
      }
    } catch {
      // Not created yet.
    } finally {
      reading = false;
    }
  }, 300);
  timer.unref();
  return () => clearInterval(timer);
}

export async function startDevEnvironment(options: DevEnvironmentOptions): Promise<DevEnvironment> {
  const namespace = options.namespace ?? 'vdl';
  const logDir = join(options.dir, 'logs');
  await mkdir(logDir, { recursive: true });
  const log = (message: string) =>
    options.onLog?.(`${new Date().toISOString().slice(11, 19)} dev        info  ${message}`);
  const kind = nodeKindOf();
  const site = await prepareNodeSite(options.dir, kind);
  let plane: ControlPlane;
  try {
    plane = await startControlPlane({ log, ...site.controlPlane });
  } catch (error) {
    await site.release();
    throw error;
  }
  const stops: Array<() => Promise<void>> = [() => site.release(), () => plane.stop()];
  const stop = async () => {
    for (const step of stops.reverse()) await step().catch(() => {});
  };
  try {
    // The archive of finished downloads: a PostgreSQL of this run's own, as the chart's bundled one.
    log('starting PostgreSQL (the archive)');
    const postgres = await startPostgres(options.dir, logDir);
    stops.push(() => postgres.destroy());
    const config = kubeConfigFrom(plane.adminKubeconfig);
    const minio = plane.minio as NonNullable<ControlPlane['minio']>;
    const core = config.makeApiClient(k8s.CoreV1Api);
    log("installing the CRD and the chart's service accounts and RBAC");
    await installCrd(config);
    await core
      .createNamespace({ body: { metadata: { name: namespace } } })
      .catch((error: { code?: number }) => {
        if (error.code !== 409) throw error;
      });
    await applyChartRbac(config, namespace, [
      'minio.enabled=false',
      `s3.endpoint=${minio.url}`,
      's3.existingSecret=vdl-s3',
      'networkPolicy.enabled=false',
    ]);
    const apiKey = randomBytes(24).toString('base64url');
    await core.createNamespacedSecret({
      namespace,
      body: {
        metadata: { name: 'vdl-s3' },
        stringData: { accessKey: minio.accessKey, secretKey: minio.secretKey },
      },
    });
    await core.createNamespacedSecret({
      namespace,
      body: { metadata: { name: 'vdl-api-keys' }, stringData: { keys: `dev:user:${hashKey(apiKey)}\n` } },
    });
    const bucket = 'vdl';
    await minioClient(minio).makeBucket(bucket);

    log(`generating a sample video and serving it on ${site.hostAddress}, where the pods reach it`);
    const media = await startMediaServer({
      forbiddenRedirect: 'http://169.254.169.254/latest/meta-data/',
      host: site.hostAddress,
    });
    stops.push(() => media.close());
    const allowed = [`${site.hostAddress}:${media.port}`, ...(options.allowedInternalHosts ?? [])].join(',');
    const webhookAllowed = (options.allowedInternalHosts ?? []).join(',');

    const storageLink = options.storageLink
      ? await startSlowLink({ host: minio.endPoint, port: minio.port })
      : undefined;
    if (storageLink) stops.push(() => storageLink.close());
    const ytDlp = toolPath('yt-dlp');
    if (kind === 'real') log('starting a real node: kubelet, containerd, kube-proxy and CoreDNS');
    const node = await startNode({
      config,
      name: 'vdl-process-node',
      dir: join(options.dir, 'node'),
      apiServerUrl: plane.apiServerUrl,
      logger: pino({ level: 'warn' }),
      site,
      pki: plane.pki,
      images: kind === 'real' ? [imageArchive('downloader')] : [],
      extraEnv: {
        PATH: [dirname(ytDlp), dirname(toolPath('ffmpeg')), process.env.PATH].join(delimiter),
        VDL_YT_DLP: ytDlp,
        VDL_EGRESS_ALLOW: allowed,
      },
    });
    stops.push(() => node.stop());

    const accounts = join(options.dir, 'accounts');
    await mkdir(accounts, { recursive: true });
    await serviceAccountKubeconfig(
      config,
      plane,
      namespace,
      `${release}-operator`,
      join(accounts, 'operator.kubeconfig'),
    );
    await serviceAccountKubeconfig(
      config,
      plane,
      namespace,
      `${release}-api`,
      join(accounts, 'api.kubeconfig'),
    );

    const followed = new Set<string>();
    const start = (part: string, program: Program, env: Record<string, string>) => {
      const logFile = join(logDir, `${part}.log`);
      const child = new ManagedProcess({
        name: part,
        command: process.execPath,
        args: programArgs(program, root),
        env: { PATH: process.env.PATH, HOME: process.env.HOME, ...env },
        logFile,
      });
      // A restarted part appends to the same log, which is followed once.
      const unfollow = followed.has(part) ? () => {} : followLog(logFile, part, options.onLog);
      followed.add(part);
      stops.push(async () => {
        await child.stop();
        unfollow();
      });
      return child;
    };
    log('starting the operator and the API under their own service accounts');
    const operatorEnv = {
      KUBECONFIG: join(accounts, 'operator.kubeconfig'),
      VDL_WATCH_NAMESPACE: namespace,
      VDL_LEASE_NAMESPACE: namespace,
      VDL_LEASE_NAME: `${release}-operator`,
      VDL_DOWNLOADER_SERVICE_ACCOUNT: `${release}-downloader`,
      VDL_DOWNLOADER_IMAGE: imageRef('downloader'),
      // Presigned requests are signed for the host the pods reach.
      VDL_S3_ENDPOINT: storageLink?.url ?? minio.url,
      VDL_S3_ACCESS_KEY: minio.accessKey,
      VDL_S3_SECRET_KEY: minio.secretKey,
      VDL_DEFAULT_BUCKET: bucket,
      VDL_MAX_ACTIVE_DOWNLOADS: String(options.maxActiveDownloads ?? 4),
      VDL_MAX_ACTIVE_PER_OWNER: String(options.maxActiveDownloads ?? 4),
      VDL_JOB_TTL_SECONDS_AFTER_FINISHED: '300',
      // A real node's pods get the allowed test hosts from their Job, as in the chart.
      VDL_EGRESS_ALLOW: allowed,
      // The named local servers may receive webhooks too (a receiver tried out beside make dev).
      VDL_WEBHOOK_ALLOW: webhookAllowed,
      VDL_ARCHIVE_URL: postgres.endpoint.url,
      ...(options.minUploadPartSize ? { VDL_MIN_UPLOAD_PART_SIZE: options.minUploadPartSize } : {}),
    };
    const replicas = options.operatorReplicas ?? 1;
    const operatorIdentities = Array.from({ length: replicas }, (_, i) => `operator-${i}`);
    const operatorPorts: number[] = [];
    for (const _ of operatorIdentities) operatorPorts.push(await freePort());
    const operators = operatorIdentities.map((identity, i) =>
      start(replicas === 1 ? 'operator' : identity, 'operator', {
        ...operatorEnv,
        VDL_IDENTITY: identity,
        VDL_METRICS_PORT: String(operatorPorts[i]),
      }),
    );
    const apiPort = options.apiPort ?? (await freePort());
    const ticketKey = randomBytes(32).toString('base64');
    const apiEnv = {
      KUBECONFIG: join(accounts, 'api.kubeconfig'),
      VDL_API_PORT: String(apiPort),
      VDL_API_NAMESPACE: namespace,
      VDL_API_BUCKET: bucket,
      VDL_API_S3_ENDPOINT: minio.url,
      VDL_API_S3_ACCESS_KEY: minio.accessKey,
      VDL_API_S3_SECRET_KEY: minio.secretKey,
      VDL_API_EGRESS_ALLOW: allowed,
      VDL_API_WEBHOOK_ALLOW: webhookAllowed,
      VDL_API_ARCHIVE_URL: postgres.endpoint.url,
      // As the chart's Secret does: a restarted API still accepts the tickets the one before issued.
      VDL_API_TICKET_KEY: ticketKey,
      // One local user trying things out: generous limits (the defaults are for shared servers).
      VDL_API_SUBMIT_PER_MINUTE: '600',
      VDL_API_SUBMIT_BURST: '100',
      ...(options.maxUnfinishedPerUser
        ? { VDL_API_MAX_UNFINISHED_PER_USER: String(options.maxUnfinishedPerUser) }
        : {}),
    };
    const apiUrl = `http://127.0.0.1:${apiPort}`;
    const processes = {
      operator: operators[0] as ManagedProcess,
      operators,
      api: start('api', 'api', apiEnv),
    };
    await Promise.all([
      ...operators.map((operator, i) =>
        waitForHealthy(operator, `http://127.0.0.1:${operatorPorts[i]}/readyz`, { timeoutMs: 60_000 }),
      ),
      waitForHealthy(processes.api, `${apiUrl}/readyz`, { timeoutMs: 60_000 }),
    ]);
    return {
      nodeKind: kind,
      hostAddress: site.hostAddress,
      plane,
      namespace,
      apiUrl,
      apiKey,
      kubeconfig: plane.adminKubeconfig,
      media,
      bucket,
      postgres,
      node,
      storageLink,
      processes,
      operatorIdentities,
      async restartApi() {
        await processes.api.stop();
        processes.api = start('api', 'api', apiEnv);
        await waitForHealthy(processes.api, `${apiUrl}/readyz`, { timeoutMs: 60_000 });
      },
      operatorMetricsUrl: `http://127.0.0.1:${operatorPorts[0]}/metrics`,
      stop,
    };
  } catch (error) {
    await stop();
    throw error;
  }
}
