// vdl as its users deploy it, on this machine: the control plane, one real
// node (kubelet + containerd) with the images `make images` built, the chart
// installed with Helm into a namespace that enforces the restricted Pod
// Security Standard, and the tests' media site as a pod. Used by the
// real-node suites' global setup and by `make cluster-up`.
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import * as k8s from '@kubernetes/client-node';
import { pino } from 'pino';
import { hashKey } from '../../api/api-keys.ts';
import { type ControlPlane, startControlPlane } from '../cluster/control-plane.ts';
import { freePort } from '../cluster/readiness.ts';
import { prepareNodeSite, startNode, type TestNode } from '../node/node.ts';
import { eventually } from '../support/eventually.ts';
import { createNamespace, kubeConfigFrom } from '../support/kube.ts';
import { imageArchive, imageNames, imageRef, imageRegistry, imageTag } from '../toolchain/images.ts';
import { toolPath } from '../toolchain/tools.ts';

const run = promisify(execFile);
const root = fileURLToPath(new URL('../../', import.meta.url));

export const namespace = 'vdl';
export const release = 'vdl';
export const mediaNamespace = 'vdl-media';
/** A fixed ClusterIP for the media site, so the chart can name it before it exists. */
export const mediaServiceIp = '10.96.200.200';
export const mediaPort = 8080;

export interface RealCluster {
  plane: ControlPlane;
  node: TestNode;
  config: k8s.KubeConfig;
  kubeconfig: string;
  apiKey: string;
  /** The chart values the release was installed with (`helm upgrade` reuses them). */
  values: string[];
  /** Where a webhook receiver on the host is let through (operator.webhooks.allowedInternalHosts). */
  webhook: WebhookTarget;
  nodeName: string;
  /** The local port result links point at: a test forwards it to the bundled MinIO, as a user would. */
  storagePort: number;
  stop(): Promise<void>;
}

export async function helm(args: string[], kubeconfig: string): Promise<string> {
  try {
    const { stdout } = await run(toolPath('helm'), [...args, '--kubeconfig', kubeconfig], {
      maxBuffer: 32 * 1024 * 1024,
    });
    return stdout;
  } catch (error) {
    const { stdout = '', stderr = '' } = error as { stdout?: string; stderr?: string };
    throw new Error(`helm ${args.slice(0, 2).join(' ')} failed: ${stderr.trim() || stdout.trim() || error}`);
  }
}

export async function kubectl(args: string[], kubeconfig: string, input?: string): Promise<string> {
  const child = run(toolPath('kubectl'), ['--kubeconfig', kubeconfig, ...args], {
    maxBuffer: 32 * 1024 * 1024,
  });
  if (input !== undefined) {
    child.child.stdin?.end(input);
  }
  try {
    return (await child).stdout;
  } catch (error) {
    const { stderr = '' } = error as { stderr?: string };
    throw new Error(`kubectl ${args.join(' ')} failed: ${stderr.trim() || error}`);
  }
}

/** The claim the bundled MinIO keeps its files on: made by the setup, as on a cluster without a provisioner. */
export const minioClaim = 'vdl-minio-data';

/** The claim the volume-output test writes onto (its local PersistentVolume is the test's). */
export const mediaClaim = 'media';

/** Where the tests' webhook receiver listens on the host: the node's link address, which pods reach. */
export interface WebhookTarget {
  host: string;
  port: number;
}

/** The values a new user would set, plus where the images come from and the media site's address. */
export function chartValues(storagePort: number, webhook: WebhookTarget): string[] {
  return [
    // Downloads may write onto the tests' media claim, and notify the receiver on the host,
    // which retries reach within a minute or so (5 s, doubled, at most 20 s apart).
    `operator.volumeOutput.claims[0].name=${mediaClaim}`,
    'operator.volumeOutput.claims[0].uid=1000',
    'operator.volumeOutput.claims[0].gid=1001',
    `operator.webhooks.allowedInternalHosts[0]=${webhook.host}:${webhook.port}`,
    'operator.webhooks.backoffSeconds=5',
    'operator.webhooks.backoffMaxSeconds=20',
    // The node has no dynamic volume provisioner: MinIO gets a claim bound beforehand.
    `minio.persistence.existingClaim=${minioClaim}`,
    // How users reach object storage for result links: here a port-forward to the bundled MinIO.
    `api.s3PublicEndpoint=http://127.0.0.1:${storagePort}`,
    `image.registry=${imageRegistry}`,
    `image.tag=${imageTag}`,
    // Imported into containerd by the node; there is no registry to pull from.
    'image.pullPolicy=Never',
    `minio.image=${imageRef('minio')}`,
    `api.allowedInternalHosts[0]=${mediaServiceIp}:${mediaPort}`,
    // helm test downloads it through the CRD, as a kubectl user would.
    `tests.downloadUrl=http://${mediaServiceIp}:${mediaPort}/progressive.mp4`,
  ];
}

export async function startRealCluster(log: (message: string) => void = () => {}): Promise<RealCluster> {
  const missing = imageNames.map(imageArchive).filter((file) => !existsSync(file));
  if (missing.length > 0)
    throw new Error(`the images are not built (${missing.join(', ')} missing): run \`make images\` first`);
  const dir = await mkdtemp(join(tmpdir(), 'vdl-real-cluster-'));
  const site = await prepareNodeSite(dir, 'real');
  let plane: ControlPlane;
  try {
    plane = await startControlPlane({ log, minio: false, ...site.controlPlane });
  } catch (error) {
    await site.release();
    throw error;
  }
  const stops: Array<() => Promise<void>> = [
    () => rm(dir, { recursive: true, force: true }),
    () => site.release(),
    () => plane.stop(),
  ];
  const stop = async () => {
    for (const step of stops.reverse()) await step().catch(() => {});
  };
  try {
    const kubeconfig = plane.adminKubeconfig;
    const config = kubeConfigFrom(kubeconfig);
    log('starting the real node and importing the images');
    const node = await startNode(
      {
        config,
        name: 'real',
        dir,
        apiServerUrl: plane.apiServerUrl,
        logger: pino({ level: 'warn' }),
        site,
        pki: plane.pki,
        images: imageNames.map(imageArchive),
      },
      'real',
    );
    stops.push(() => node.stop());
    await startMediaSite(config);
    const apiKey = randomBytes(24).toString('base64url');
    await createReleaseNamespace(config, apiKey);
    await createMinioVolume(config, node.name, site.real?.stateDir as string);
    const storagePort = await freePort();
    const webhook = { host: site.hostAddress, port: await freePort() };
    const values = chartValues(storagePort, webhook);
    log('helm install of charts/vdl');
    await helm(
      [
        'upgrade',
        '--install',
        release,
        join(root, 'charts/vdl'),
        '--namespace',
        namespace,
        ...values.flatMap((value) => ['--set', value]),
        '--wait',
        '--timeout',
        '5m',
      ],
      kubeconfig,
    );
    stops.push(async () => {
      await helm(['uninstall', release, '--namespace', namespace, '--wait'], kubeconfig).catch(() => {});
    });
    log('vdl is installed');
    return {
      plane,
      node,
      config,
      kubeconfig,
      apiKey,
      values,
      storagePort,
      webhook,
      nodeName: node.name,
      stop,
    };
  } catch (error) {
    await stop();
    throw error;
  }
}

/** The namespace the chart goes into, enforcing `restricted`, with the API key a user would create. */
async function createReleaseNamespace(config: k8s.KubeConfig, apiKey: string): Promise<void> {
  await createNamespace(config, namespace, {
    'pod-security.kubernetes.io/enforce': 'restricted',
    'pod-security.kubernetes.io/enforce-version': 'latest',
  });
  await config.makeApiClient(k8s.CoreV1Api).createNamespacedSecret({
    namespace,
    body: { metadata: { name: 'vdl-api-keys' }, stringData: { keys: `e2e:admin:${hashKey(apiKey)}\n` } },
  });
}

/**
 * What a cluster without a dynamic provisioner offers MinIO: a local
 * PersistentVolume on the node and a claim bound to it, outside the release,
 * so its files outlive helm uninstall too. The directory lies in the node's
 * state dir, which the node's teardown (and its watcher, after a SIGKILL)
 * removes, so the host keeps nothing of it; kubelet gives it the pod's fsGroup.
 */
async function createMinioVolume(config: k8s.KubeConfig, nodeName: string, stateDir: string): Promise<void> {
  const path = join(stateDir, 'volumes', 'minio');
  await mkdir(path, { recursive: true });
  const core = config.makeApiClient(k8s.CoreV1Api);
  const capacity = { storage: '2Gi' };
  await core.createPersistentVolume({
    body: {
      metadata: { name: `${namespace}-${minioClaim}` },
      spec: {
        capacity,
        accessModes: ['ReadWriteOnce'],
        persistentVolumeReclaimPolicy: 'Retain',
        storageClassName: '',
        local: { path },
        nodeAffinity: {
          required: {
            nodeSelectorTerms: [
              { matchExpressions: [{ key: 'kubernetes.io/hostname', operator: 'In', values: [nodeName] }] },
            ],
          },
        },
        claimRef: { namespace, name: minioClaim },
      },
    },
  });
  await core.createNamespacedPersistentVolumeClaim({
    namespace,
    body: {
      metadata: { name: minioClaim },
      spec: {
        accessModes: ['ReadWriteOnce'],
        storageClassName: '',
        volumeName: `${namespace}-${minioClaim}`,
        resources: { requests: capacity },
      },
    },
  });
}

/** The tests' media site: a pod behind a Service at a fixed ClusterIP. */
async function startMediaSite(config: k8s.KubeConfig): Promise<void> {
  const core = config.makeApiClient(k8s.CoreV1Api);
  const apps = config.makeApiClient(k8s.AppsV1Api);
  await createNamespace(config, mediaNamespace);
  const labels = { app: 'media-site' };
  await apps.createNamespacedDeployment({
    namespace: mediaNamespace,
    body: {
      metadata: { name: 'media-site', labels },
      spec: {
        replicas: 1,
        selector: { matchLabels: labels },
        template: {
          metadata: { labels },
          spec: {
            automountServiceAccountToken: false,
            securityContext: {
              runAsNonRoot: true,
              runAsUser: 65532,
              seccompProfile: { type: 'RuntimeDefault' },
            },
            containers: [
              {
                name: 'media-site',
                image: imageRef('test-media'),
                imagePullPolicy: 'Never',
                env: [{ name: 'VDL_MEDIA_PORT', value: String(mediaPort) }],
                ports: [{ containerPort: mediaPort }],
                readinessProbe: { httpGet: { path: '/progressive.mp4', port: mediaPort }, periodSeconds: 1 },
                securityContext: {
                  allowPrivilegeEscalation: false,
                  readOnlyRootFilesystem: true,
                  capabilities: { drop: ['ALL'] },
                },
                volumeMounts: [{ name: 'tmp', mountPath: '/tmp' }],
              },
            ],
            volumes: [{ name: 'tmp', emptyDir: {} }],
          },
        },
      },
    },
  });
  await core.createNamespacedService({
    namespace: mediaNamespace,
    body: {
      metadata: { name: 'media-site' },
      spec: {
        clusterIP: mediaServiceIp,
        selector: labels,
        ports: [{ port: mediaPort, targetPort: mediaPort }],
      },
    },
  });
  await eventually(
    'the media site to be ready',
    async () => {
      const deployment = await apps.readNamespacedDeployment({
        name: 'media-site',
        namespace: mediaNamespace,
      });
      return (deployment.status?.readyReplicas ?? 0) >= 1 || undefined;
    },
    { timeoutMs: 120_000, intervalMs: 500 },
  );
}
