// The real node, a TestNode (../node.ts): kubelet, containerd + runc, CNI and
// kube-proxy in a network namespace of their own, running vdl's images in real
// containers with real cgroup limits, plus CoreDNS as kubeadm deploys it.
// host.sh makes and unmakes everything the node adds to the machine; a
// watcher it leaves behind unmakes it too when this process is killed.
import { type ChildProcess, execFile, execFileSync, spawn } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import * as k8s from '@kubernetes/client-node';
import { Informer } from '../../../lib/kube/informer.ts';
import type { ClientIdentity, ClusterPki } from '../../cluster/certificates.ts';
import { writeKubeconfig } from '../../cluster/kubeconfig.ts';
import { ManagedProcess } from '../../cluster/managed-process.ts';
import { toolPath } from '../../toolchain/tools.ts';
import type { NodeOptions, PodProcess, TestNode } from '../node.ts';
import {
  cniConfig,
  containerdConfig,
  kubeletArgs,
  kubeletConfig,
  kubeProxyConfig,
  type NodePlan,
  nodeIdentity,
  paths,
  pauseImage,
} from './config.ts';
import { coreDnsImage, coreDnsManifests } from './coredns.ts';

const run = promisify(execFile);
const hostScript = new URL('./host.sh', import.meta.url).pathname;
const imagesScript = new URL('./node-images.sh', import.meta.url).pathname;

/** The part of a real node that must exist before the control plane starts: its link and addresses. */
export interface RealNodeSite {
  index: number;
  stateDir: string;
  /** Where kube-apiserver and MinIO must listen for the node's pods to reach them. */
  hostAddress: string;
  /** Client certificates the control plane must issue for the node's kubelet and kube-proxy. */
  clients: ClientIdentity[];
  /** Undoes the site (used when the control plane fails to start). */
  release(): Promise<void>;
}

async function host(...args: string[]): Promise<void> {
  try {
    await run('bash', [hostScript, ...args], { maxBuffer: 16 * 1024 * 1024 });
  } catch (error) {
    const stderr = ((error as { stderr?: string }).stderr ?? '').trim();
    throw new Error(stderr || String(error));
  }
}

/** Removes nodes whose owner died, then makes the network namespace and link of a new one. */
export async function prepareRealNodeSite(dir: string): Promise<RealNodeSite> {
  await host('stale');
  const index = freeIndex();
  const stateDir = join(dir, `real-node-${index}`);
  await host('up', String(index), stateDir);
  await writeFile(join(stateDir, 'owner'), String(process.pid));
  const id = nodeIdentity(index);
  return {
    index,
    stateDir,
    hostAddress: id.hostAddress,
    clients: [{ user: `system:node:${id.name}`, groups: ['system:nodes'] }, { user: 'system:kube-proxy' }],
    release: () => host('down', String(index), stateDir),
  };
}

function freeIndex(): number {
  for (let index = 1; index <= 250; index++) {
    const { netns } = nodeIdentity(index);
    if (
      !existsSync(`/run/netns/${netns}`) &&
      !existsSync(join(process.env.TMPDIR ?? '/tmp', 'vdl-nodes', String(index)))
    )
      return index;
  }
  throw new Error('real node: all 250 node indexes are in use');
}

export interface RealNodeOptions extends Omit<NodeOptions, 'site' | 'pki'> {
  site: RealNodeSite;
  pki: ClusterPki;
  /** OCI archives of images to import into the node's containerd (vdl's own, the test media server). */
  images?: string[];
}

export class RealNode implements TestNode {
  private readonly options: RealNodeOptions;
  private readonly plan: NodePlan;
  private readonly processes: ManagedProcess[] = [];
  private watcher: ChildProcess | undefined;
  private pods: Informer<k8s.V1Pod> | undefined;
  private readonly runningPods = new Set<string>();
  private peak = 0;

  constructor(options: RealNodeOptions) {
    this.options = options;
    this.plan = {
      index: options.site.index,
      stateDir: options.site.stateDir,
      kubeletPort: 0,
      kubeletHealthzPort: 0,
      proxyHealthzPort: 0,
      proxyMetricsPort: 0,
    };
  }

  get name(): string {
    return nodeIdentity(this.plan.index).name;
  }

  async start(): Promise<void> {
    try {
      await this.startOnce();
    } catch (error) {
      await this.stop();
      throw error;
    }
  }

  private async startOnce(): Promise<void> {
    const { site, pki, logger } = this.options;
    const id = nodeIdentity(site.index);
    const p = paths(this.plan);
    // Ports are free on the node's own address: nothing else listens in its namespace.
    Object.assign(this.plan, {
      kubeletPort: 10250,
      kubeletHealthzPort: 10248,
      proxyHealthzPort: 10256,
      proxyMetricsPort: 10249,
    });
    // The watcher outlives a SIGKILL of this process and then undoes the host side.
    this.watcher = spawn(
      'bash',
      [hostScript, 'watch', String(process.pid), String(site.index), site.stateDir],
      {
        detached: true,
        stdio: 'ignore',
      },
    );
    this.watcher.unref();
    await Promise.all(
      [
        p.cniConfDir,
        p.cniDataDir,
        p.kubeletRoot,
        p.podLogsDir,
        p.logs,
        p.containerdRoot,
        p.containerdState,
      ].map((d) => mkdir(d, { recursive: true })),
    );
    const client = (user: string) => pki.clients[user] as ClusterPki['ca'];
    await Promise.all([
      writeFile(p.containerdConfig, containerdConfig(this.plan)),
      writeFile(join(p.cniConfDir, '10-vdl.conflist'), cniConfig(this.plan)),
      writeFile(p.kubeletConfig, kubeletConfig(this.plan, pki.ca.cert)),
      writeFile(p.proxyConfig, kubeProxyConfig(this.plan)),
      writeKubeconfig(p.kubeletKubeconfig, {
        server: this.options.apiServerUrl,
        caCert: pki.ca.cert,
        client: client(`system:node:${id.name}`),
        user: `system:node:${id.name}`,
      }),
      writeKubeconfig(p.proxyKubeconfig, {
        server: this.options.apiServerUrl,
        caCert: pki.ca.cert,
        client: client('system:kube-proxy'),
        user: 'system:kube-proxy',
      }),
    ]);

    logger.info({ node: id.name }, 'starting containerd');
    this.inNamespace('containerd', 'containerd', ['--config', p.containerdConfig]);
    await this.until('containerd to answer', async () => {
      await run('ctr', ['--address', p.containerdSocket, 'version']);
      return true;
    });
    const imageDir = join(site.stateDir, 'node-images');
    await run('bash', [imagesScript, join(toolPath('pause'), '..'), imageDir, pauseImage, coreDnsImage]);
    for (const archive of [
      join(imageDir, 'pause.oci.tar'),
      join(imageDir, 'coredns.oci.tar'),
      ...(this.options.images ?? []),
    ])
      await this.importImage(archive);

    logger.info({ node: id.name }, 'starting kubelet and kube-proxy');
    this.inNamespace('kubelet', toolPath('kubelet'), kubeletArgs(this.plan));
    this.inNamespace('kube-proxy', toolPath('kube-proxy'), [`--config=${p.proxyConfig}`, '--v=1']);
    const core = this.options.config.makeApiClient(k8s.CoreV1Api);
    await this.until('the node to be Ready', async () => {
      const node = await core.readNode({ name: id.name });
      return node.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') || undefined;
    });
    this.pods = new Informer<k8s.V1Pod>({
      name: `real-node-${id.name}`,
      config: this.options.config,
      apiVersion: 'v1',
      kind: 'Pod',
      plural: 'pods',
      fieldSelector: `spec.nodeName=${id.name}`,
      logger,
      onChange: (_type, pod) => this.count(pod),
    });
    await this.pods.start();
    await this.startClusterDns();
    logger.info({ node: id.name }, 'real node ready');
  }

  private async startClusterDns(): Promise<void> {
    const objects = k8s.KubernetesObjectApi.makeApiClient(this.options.config);
    for (const object of coreDnsManifests()) {
      try {
        await objects.create(object);
      } catch (error) {
        if ((error as { code?: number }).code !== 409) throw error;
      }
    }
    const apps = this.options.config.makeApiClient(k8s.AppsV1Api);
    await this.until('CoreDNS to be available', async () => {
      const deployment = await apps.readNamespacedDeployment({ name: 'coredns', namespace: 'kube-system' });
      return (deployment.status?.availableReplicas ?? 0) >= 1 || undefined;
    });
  }

  /** Imports an OCI archive into the node's containerd, under the names it carries. */
  async importImage(archive: string): Promise<void> {
    await run(
      'ctr',
      ['--address', paths(this.plan).containerdSocket, '-n', 'k8s.io', 'images', 'import', archive],
      {
        maxBuffer: 16 * 1024 * 1024,
      },
    );
  }

  private count(pod: k8s.V1Pod): void {
    const key = `${pod.metadata?.namespace}/${pod.metadata?.name}`;
    const running = (pod.status?.containerStatuses ?? []).some((c) => c.state?.running);
    if (running) this.runningPods.add(key);
    else this.runningPods.delete(key);
    this.peak = Math.max(this.peak, this.runningPods.size);
  }

  private inNamespace(name: string, command: string, args: string[]): ManagedProcess {
    const id = nodeIdentity(this.plan.index);
    const process = new ManagedProcess({
      name,
      command: 'nsenter',
      args: [`--net=/run/netns/${id.netns}`, '--', command, ...args],
      logFile: join(paths(this.plan).logs, `${name}.log`),
    });
    this.processes.push(process);
    return process;
  }

  private async until<T>(what: string, check: () => Promise<T | undefined>, timeoutMs = 120_000): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    let last = 'nothing yet';
    for (;;) {
      const gone = this.processes.find((p) => p.exit !== undefined);
      if (gone)
        throw new Error(
          `real node: ${gone.name} ${gone.exit} while waiting for ${what} (log: ${gone.logFile})`,
        );
      try {
        const value = await check();
        if (value !== undefined) return value;
      } catch (error) {
        last = error instanceof Error ? error.message : String(error);
      }
      if (Date.now() > deadline)
        throw new Error(`real node: timed out waiting for ${what}; last seen: ${last}`);
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  }

  async stop(): Promise<void> {
    this.pods?.stop();
    for (const process of [...this.processes].reverse()) await process.stop(10_000);
    this.processes.length = 0;
    await this.options.config
      .makeApiClient(k8s.CoreV1Api)
      .deleteNode({ name: this.name })
      .catch(() => {});
    await host('down', String(this.plan.index), this.plan.stateDir);
    this.watcher?.kill('SIGKILL');
  }

  runningProcesses(): number {
    return this.runningPods.size;
  }

  peakProcesses(): number {
    return this.peak;
  }

  resetPeakProcesses(): void {
    this.peak = this.runningPods.size;
  }

  private crictl(...args: string[]): string {
    return execFileSync(
      toolPath('crictl'),
      ['--runtime-endpoint', `unix://${paths(this.plan).containerdSocket}`, ...args],
      {
        encoding: 'utf8',
      },
    ).trim();
  }

  podProcess(namespace: string, pod: string): PodProcess | undefined {
    const sandbox = this.crictl(
      'pods',
      '--namespace',
      namespace,
      '--name',
      `^${pod}$`,
      '--state',
      'ready',
      '-q',
    ).split('\n')[0];
    if (!sandbox) return undefined;
    const container = this.crictl('ps', '--pod', sandbox, '--state', 'running', '-q').split('\n')[0];
    if (!container) return undefined;
    const info = JSON.parse(this.crictl('inspect', container)) as { info?: { pid?: number } };
    const uid = (JSON.parse(this.crictl('inspectp', sandbox)) as { status?: { metadata?: { uid?: string } } })
      .status?.metadata?.uid;
    if (!info.info?.pid || !uid) return undefined;
    return { pid: info.info.pid, volumes: join(paths(this.plan).kubeletRoot, 'pods', uid, 'volumes') };
  }

  killPod(namespace: string, pod: string): boolean {
    const running = this.podProcess(namespace, pod);
    if (!running) return false;
    process.kill(running.pid, 'SIGKILL');
    return true;
  }

  logFile(namespace: string, pod: string, container: string): string {
    const dir = paths(this.plan).podLogsDir;
    const podDir = readdirSync(dir).find((d) => d.startsWith(`${namespace}_${pod}_`));
    return join(dir, podDir ?? `${namespace}_${pod}_unknown`, container, '0.log');
  }
}
