// The real Kubernetes control plane on loopback: etcd, kube-apiserver,
// kube-controller-manager and kube-scheduler as plain processes, plus MinIO,
// each on a free port, all stopped and their files removed by stop().
import { randomBytes } from 'node:crypto';
import { mkdir, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { toolPath } from '../toolchain/tools.ts';
import { type ClientIdentity, type ClusterPki, createClusterPki } from './certificates.ts';
import { writeKubeconfig } from './kubeconfig.ts';
import { ManagedProcess } from './managed-process.ts';
import { freePort, type TlsClient, waitForHealthy } from './readiness.ts';
import { createWorkDir, removeAbandonedWorkDirs } from './work-dir.ts';

export interface ControlPlaneOptions {
  /** Where certificates, data and logs go; a fresh temp dir when absent (removed by stop()). */
  dir?: string;
  /** kube-apiserver's --min-request-timeout: watches end after 1-2x this many seconds. */
  minRequestTimeoutSeconds?: number;
  /** Start MinIO as well (default true). */
  minio?: boolean;
  /**
   * For a real node: the host's address on the link to the node's network
   * namespace. kube-apiserver (and MinIO) listen there instead of on loopback,
   * and the kubernetes Service's endpoint is this address (a loopback one is
   * refused by the Endpoints API and unreachable from a pod).
   */
  nodeLinkAddress?: string;
  /** More client certificates to issue (a kubelet's, kube-proxy's). */
  extraClients?: ClientIdentity[];
  log?: (message: string) => void;
}

export interface MinioEndpoint {
  endPoint: string;
  port: number;
  useSSL: false;
  accessKey: string;
  secretKey: string;
  url: string;
}

export interface ControlPlane {
  dir: string;
  /** system:masters client config; tests and setup use it, the programs under test do not. */
  adminKubeconfig: string;
  apiServerUrl: string;
  /** etcd's client URL (plain HTTP on loopback), for tests that compact or inspect storage. */
  etcdUrl: string;
  pki: ClusterPki;
  minio: MinioEndpoint | undefined;
  processes: Map<string, ManagedProcess>;
  /** Stops kube-apiserver and starts it again on the same port and storage. */
  restartApiServer(): Promise<void>;
  /** Stops etcd and starts it again on the same ports and data dir. */
  restartEtcd(): Promise<void>;
  /** Stops MinIO (an outage); startMinio() brings it back on the same port and data dir. */
  stopMinio(): Promise<void>;
  startMinio(): Promise<void>;
  stop(): Promise<void>;
}

const startTimeoutMs = 120_000;

/**
 * Starts the control plane; a port taken between choosing it and binding it
 * (by a process outside our control) is retried with fresh ports.
 */
export async function startControlPlane(options: ControlPlaneOptions = {}): Promise<ControlPlane> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await startControlPlaneOnce(options);
    } catch (error) {
      if (attempt >= 3 || !String((error as Error).message).includes('address already in use')) throw error;
      options.log?.(`a port was taken while starting (attempt ${attempt}); retrying with fresh ports`);
    }
  }
}

async function startControlPlaneOnce(options: ControlPlaneOptions): Promise<ControlPlane> {
  const log = options.log ?? (() => {});
  await removeAbandonedWorkDirs();
  const ownsDir = options.dir === undefined;
  const dir = options.dir ?? (await createWorkDir());
  const processes = new Map<string, ManagedProcess>();
  const stop = async () => {
    await Promise.all([...processes.values()].reverse().map((process) => process.stop()));
    processes.clear();
    if (ownsDir) await rm(dir, { recursive: true, force: true });
  };
  try {
    const pkiDir = join(dir, 'pki');
    const logDir = join(dir, 'logs');
    await Promise.all([mkdir(pkiDir, { recursive: true }), mkdir(logDir, { recursive: true })]);
    const host = options.nodeLinkAddress ?? '127.0.0.1';
    const pki = await createClusterPki(
      pkiDir,
      [
        { user: 'vdl-admin', groups: ['system:masters'] },
        { user: 'system:kube-controller-manager' },
        { user: 'system:kube-scheduler' },
        // How kube-apiserver authenticates to kubelets for logs, exec and port-forward.
        { user: 'kube-apiserver-kubelet-client', groups: ['system:masters'] },
        ...(options.extraClients ?? []),
      ],
      options.nodeLinkAddress ? [options.nodeLinkAddress] : [],
    );
    const ports = {
      etcdClient: await freePort(),
      etcdPeer: await freePort(),
      apiserver: await freePort(),
      controllerManager: await freePort(),
      scheduler: await freePort(),
    };
    const apiServerUrl = `https://${host}:${ports.apiserver}`;
    const kubeconfig = (name: string) => join(dir, `${name}.kubeconfig`);
    const writeFor = (file: string, user: string) =>
      writeKubeconfig(kubeconfig(file), {
        server: apiServerUrl,
        caCert: pki.ca.cert,
        client: pki.clients[user] as ClusterPki['ca'],
        user,
      });
    await Promise.all([
      writeFor('admin', 'vdl-admin'),
      writeFor('kube-controller-manager', 'system:kube-controller-manager'),
      writeFor('kube-scheduler', 'system:kube-scheduler'),
    ]);
    const adminTls: TlsClient = {
      ca: await readFile(pki.ca.cert),
      cert: await readFile(pki.clients['vdl-admin']?.cert as string),
      key: await readFile(pki.clients['vdl-admin']?.key as string),
    };
    const start = (name: string, command: string, args: string[], env?: NodeJS.ProcessEnv) => {
      const process = new ManagedProcess({ name, command, args, env, logFile: join(logDir, `${name}.log`) });
      processes.set(name, process);
      return process;
    };

    const startEtcd = async () => {
      log('starting etcd');
      const etcd = start('etcd', toolPath('etcd'), etcdArgs(dir, ports));
      await waitForHealthy(etcd, `http://127.0.0.1:${ports.etcdClient}/health`, {
        timeoutMs: startTimeoutMs,
      });
    };
    const minioEndpoint = options.minio === false ? undefined : await chooseMinioEndpoint(host);
    const minioStarted = minioEndpoint && startMinioOnFreePorts(dir, logDir, start, minioEndpoint);
    await startEtcd();

    const startApiServer = async () => {
      log('starting kube-apiserver');
      const apiserver = start(
        'kube-apiserver',
        toolPath('kube-apiserver'),
        apiServerArgs(dir, pki, ports, options.minRequestTimeoutSeconds, options.nodeLinkAddress),
      );
      await waitForHealthy(apiserver, `${apiServerUrl}/readyz`, { tls: adminTls, timeoutMs: startTimeoutMs });
    };
    await startApiServer();

    log('starting kube-controller-manager and kube-scheduler');
    const controllerManager = start('kube-controller-manager', toolPath('kube-controller-manager'), [
      `--kubeconfig=${kubeconfig('kube-controller-manager')}`,
      `--root-ca-file=${pki.ca.cert}`,
      `--service-account-private-key-file=${pki.serviceAccount.privateKey}`,
      '--use-service-account-credentials=true',
      '--leader-elect=false',
      '--bind-address=127.0.0.1',
      `--secure-port=${ports.controllerManager}`,
      `--cert-dir=${join(dir, 'kube-controller-manager')}`,
    ]);
    const scheduler = start('kube-scheduler', toolPath('kube-scheduler'), [
      `--kubeconfig=${kubeconfig('kube-scheduler')}`,
      '--leader-elect=false',
      '--bind-address=127.0.0.1',
      `--secure-port=${ports.scheduler}`,
      `--cert-dir=${join(dir, 'kube-scheduler')}`,
    ]);
    await Promise.all([
      waitForHealthy(controllerManager, `https://127.0.0.1:${ports.controllerManager}/healthz`, {
        tls: { rejectUnauthorized: false },
        timeoutMs: startTimeoutMs,
      }),
      waitForHealthy(scheduler, `https://127.0.0.1:${ports.scheduler}/healthz`, {
        tls: { rejectUnauthorized: false },
        timeoutMs: startTimeoutMs,
      }),
    ]);
    const minio = await minioStarted;
    log(`control plane ready at ${apiServerUrl}`);

    return {
      dir,
      adminKubeconfig: kubeconfig('admin'),
      apiServerUrl,
      etcdUrl: `http://127.0.0.1:${ports.etcdClient}`,
      pki,
      minio,
      processes,
      async restartApiServer() {
        await processes.get('kube-apiserver')?.stop();
        await startApiServer();
      },
      async restartEtcd() {
        await processes.get('etcd')?.stop();
        await startEtcd();
      },
      async stopMinio() {
        await processes.get('minio')?.stop();
      },
      async startMinio() {
        if (minioEndpoint) await startMinio(dir, logDir, start, minioEndpoint);
      },
      stop,
    };
  } catch (error) {
    await stop();
    throw error;
  }
}

function etcdArgs(dir: string, ports: { etcdClient: number; etcdPeer: number }): string[] {
  const client = `http://127.0.0.1:${ports.etcdClient}`;
  const peer = `http://127.0.0.1:${ports.etcdPeer}`;
  return [
    '--name=vdl',
    `--data-dir=${join(dir, 'etcd')}`,
    `--listen-client-urls=${client}`,
    `--advertise-client-urls=${client}`,
    `--listen-peer-urls=${peer}`,
    `--initial-advertise-peer-urls=${peer}`,
    `--initial-cluster=vdl=${peer}`,
    // What envtest does: a test cluster's data need not survive a power cut.
    '--unsafe-no-fsync=true',
    '--log-level=warn',
  ];
}

function apiServerArgs(
  dir: string,
  pki: ClusterPki,
  ports: { etcdClient: number; apiserver: number },
  minRequestTimeoutSeconds: number | undefined,
  nodeLinkAddress: string | undefined,
): string[] {
  const kubeletClient = pki.clients['kube-apiserver-kubelet-client'];
  return [
    `--etcd-servers=http://127.0.0.1:${ports.etcdClient}`,
    `--bind-address=${nodeLinkAddress ?? '127.0.0.1'}`,
    // Without it, a loopback bind fails on a machine with no default route.
    `--advertise-address=${nodeLinkAddress ?? '127.0.0.1'}`,
    // A loopback endpoint is invalid, so the kubernetes Service gets one only
    // where a real node can reach the API server at a non-loopback address.
    `--endpoint-reconciler-type=${nodeLinkAddress ? 'lease' : 'none'}`,
    ...(kubeletClient
      ? [
          `--kubelet-client-certificate=${kubeletClient.cert}`,
          `--kubelet-client-key=${kubeletClient.key}`,
          '--kubelet-preferred-address-types=InternalIP',
        ]
      : []),
    '--enable-admission-plugins=NodeRestriction',
    `--secure-port=${ports.apiserver}`,
    `--cert-dir=${join(dir, 'kube-apiserver')}`,
    `--tls-cert-file=${pki.apiserver.cert}`,
    `--tls-private-key-file=${pki.apiserver.key}`,
    `--client-ca-file=${pki.ca.cert}`,
    '--authorization-mode=Node,RBAC',
    '--service-cluster-ip-range=10.96.0.0/16',
    '--service-account-issuer=https://kubernetes.default.svc.cluster.local',
    `--service-account-key-file=${pki.serviceAccount.publicKey}`,
    `--service-account-signing-key-file=${pki.serviceAccount.privateKey}`,
    '--allow-privileged=true',
    ...(minRequestTimeoutSeconds ? [`--min-request-timeout=${minRequestTimeoutSeconds}`] : []),
  ];
}

type MinioPlan = MinioEndpoint & { consolePort: number };

/** Ports and credentials, chosen once so a restarted MinIO comes back where clients expect it. */
async function chooseMinioEndpoint(host: string): Promise<MinioPlan> {
  const [port, consolePort] = [await freePort(), await freePort()];
  return {
    endPoint: host,
    port,
    consolePort,
    useSSL: false,
    accessKey: `vdl-${randomBytes(6).toString('hex')}`,
    secretKey: randomBytes(24).toString('base64url'),
    url: `http://${host}:${port}`,
  };
}

/**
 * The first start of MinIO. A port freePort() found free can be taken by a
 * test running beside this one before MinIO binds it; then MinIO exits saying
 * so, and it is started again on other ports (the plan records the ones used,
 * which a later restart reuses).
 */
async function startMinioOnFreePorts(
  dir: string,
  logDir: string,
  start: (name: string, command: string, args: string[], env?: NodeJS.ProcessEnv) => ManagedProcess,
  plan: MinioPlan,
): Promise<MinioEndpoint> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await startMinio(dir, logDir, start, plan);
    } catch (error) {
      if (attempt >= 3 || !/already in use/.test(String(error))) throw error;
      const [port, consolePort] = [await freePort(), await freePort()];
      Object.assign(plan, { port, consolePort, url: `http://${plan.endPoint}:${port}` });
    }
  }
}

async function startMinio(
  dir: string,
  logDir: string,
  start: (name: string, command: string, args: string[], env?: NodeJS.ProcessEnv) => ManagedProcess,
  plan: MinioPlan,
): Promise<MinioEndpoint> {
  const { endPoint, port, consolePort, accessKey, secretKey, url } = plan;
  const minio = start(
    'minio',
    toolPath('minio'),
    [
      'server',
      '--quiet',
      '--address',
      `${endPoint}:${port}`,
      '--console-address',
      `${endPoint}:${consolePort}`,
      join(dir, 'minio'),
    ],
    {
      ...process.env,
      MINIO_ROOT_USER: accessKey,
      MINIO_ROOT_PASSWORD: secretKey,
      MINIO_BROWSER: 'off',
      MINIO_UPDATE: 'off',
      HOME: logDir,
    },
  );
  await waitForHealthy(minio, `${url}/minio/health/ready`, { timeoutMs: startTimeoutMs });
  return { endPoint, port, useSSL: false, accessKey, secretKey, url };
}
