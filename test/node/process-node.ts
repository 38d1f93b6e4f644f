// The process node, a TestNode (./node.ts): a stand-in for the kubelet, and nothing more: it registers a
// Node, keeps its Lease fresh, and runs each pod bound to it as host
// processes (the image maps to a command of this repository), with the
// pod's environment, volumes and service-account token, then reports the
// pod's status and termination message the way a kubelet does. Everything
// above the kubelet (scheduler, Job controller, garbage collector) is real.
import { type ChildProcess, spawn } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import * as k8s from '@kubernetes/client-node';
import { kubernetesTime } from '../../crds/video-download.ts';
import { statusCodeOf } from '../../lib/kube/api-errors.ts';
import { Informer } from '../../lib/kube/informer.ts';
import { localCommandFor } from './image-commands.ts';
import type { NodeOptions, PodProcess, TestNode } from './node.ts';
import { type RegisteredNode, registerNode } from './registration.ts';

interface RunningPod {
  uid: string;
  /** Host directory of the pod: its volumes are under volumes/NAME. */
  root?: string;
  child: ChildProcess | undefined;
  exited: Promise<number | null>;
  killing: boolean;
}

const mergePatch = k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.MergePatch);

function now(): string {
  return kubernetesTime(new Date());
}

export class ProcessNode implements TestNode {
  private readonly options: NodeOptions;
  private readonly core: k8s.CoreV1Api;
  private readonly pods: Informer<k8s.V1Pod>;
  private readonly running = new Map<string, RunningPod>();
  private node: RegisteredNode | undefined;
  private stopped = false;
  private processes = 0;
  private peak = 0;

  constructor(options: NodeOptions) {
    this.options = options;
    this.core = options.config.makeApiClient(k8s.CoreV1Api);
    this.pods = new Informer<k8s.V1Pod>({
      name: `node-${options.name}`,
      config: options.config,
      apiVersion: 'v1',
      kind: 'Pod',
      plural: 'pods',
      fieldSelector: `spec.nodeName=${options.name}`,
      logger: options.logger,
      onChange: (type, pod) => void this.sync(type, pod),
    });
  }

  get name(): string {
    return this.options.name;
  }

  /** Pods whose process is running now. */
  runningProcesses(): number {
    return [...this.running.values()].filter(
      (pod) => pod.child && pod.child.exitCode === null && pod.child.signalCode === null,
    ).length;
  }

  /**
   * The most pod processes that ran at once since the last reset, counted at
   * each start and exit (exact, unlike sampling, which a busy machine can make miss a peak).
   */
  peakProcesses(): number {
    return this.peak;
  }

  resetPeakProcesses(): void {
    this.peak = this.processes;
  }

  podProcess(namespace: string, pod: string): PodProcess | undefined {
    const running = this.running.get(`${namespace}/${pod}`);
    const child = running?.child;
    if (!running?.root || !child?.pid || child.exitCode !== null || child.signalCode !== null)
      return undefined;
    return { pid: child.pid, volumes: join(running.root, 'volumes') };
  }

  /** SIGKILL to the container's process alone, as an OOM kill: the pod reports it failed as any exit. */
  killPod(namespace: string, pod: string): boolean {
    const running = this.podProcess(namespace, pod);
    if (!running) return false;
    try {
      process.kill(running.pid, 'SIGKILL');
      return true;
    } catch {
      return false; // It exited on its own just now.
    }
  }

  logFile(namespace: string, pod: string, container: string): string {
    return join(this.options.dir, 'logs', `${namespace}_${pod}_${container}.log`);
  }

  async start(): Promise<void> {
    await mkdir(join(this.options.dir, 'logs'), { recursive: true });
    this.node = await registerNode(this.options.config, this.options.name);
    this.pods.start();
    await this.pods.waitForSync();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.pods.stop();
    await Promise.all([...this.running.values()].map((pod) => this.kill(pod, 2_000)));
    await this.node?.stop();
  }

  private async sync(type: string, pod: k8s.V1Pod): Promise<void> {
    const key = `${pod.metadata?.namespace}/${pod.metadata?.name}`;
    const current = this.running.get(key);
    try {
      if (type === 'DELETED') {
        if (current) await this.kill(current, 0);
        this.running.delete(key);
        return;
      }
      if (pod.metadata?.deletionTimestamp) {
        // Graceful deletion: stop the process, then confirm as a kubelet does.
        if (current) await this.kill(current, (pod.metadata.deletionGracePeriodSeconds ?? 30) * 1000);
        await this.core
          .deleteNamespacedPod({
            name: pod.metadata.name as string,
            namespace: pod.metadata.namespace as string,
            gracePeriodSeconds: 0,
          })
          .catch(() => {});
        return;
      }
      if (!current && !['Succeeded', 'Failed'].includes(pod.status?.phase ?? '')) {
        const entry: RunningPod = {
          uid: pod.metadata?.uid as string,
          child: undefined,
          exited: Promise.resolve(null),
          killing: false,
        };
        this.running.set(key, entry);
        try {
          await this.run(pod, entry);
        } catch (error) {
          // As a kubelet keeps retrying volume setup (a new namespace's
          // kube-root-ca.crt, say, appears a moment after the namespace),
          // try again unless the process already started.
          if (entry.child) throw error;
          this.running.delete(key);
          this.options.logger.info(
            { pod: key, err: error instanceof Error ? error.message : String(error) },
            'pod not ready to start; retrying',
          );
          setTimeout(() => {
            const latest = this.pods.get(key);
            if (latest && latest.metadata?.uid === pod.metadata?.uid) void this.sync('MODIFIED', latest);
          }, 1000).unref();
        }
      }
    } catch (error) {
      this.options.logger.warn(
        { pod: key, err: error instanceof Error ? error.message : String(error) },
        'process node could not sync pod',
      );
    }
  }

  private async kill(pod: RunningPod, graceMs: number): Promise<void> {
    if (!pod.child || pod.child.exitCode !== null || pod.killing) return void (await pod.exited);
    pod.killing = true;
    pod.child.kill('SIGTERM');
    const timer = setTimeout(() => pod.child?.kill('SIGKILL'), graceMs);
    await pod.exited;
    clearTimeout(timer);
  }

  private async secretValue(namespace: string, name: string, key: string): Promise<string> {
    const secret = await this.core.readNamespacedSecret({ name, namespace });
    const value = secret.data?.[key];
    if (value === undefined) throw new Error(`secret ${namespace}/${name} has no key ${key}`);
    return Buffer.from(value, 'base64').toString('utf8');
  }

  private async configMapValue(namespace: string, name: string, key: string): Promise<string> {
    const map = await this.core.readNamespacedConfigMap({ name, namespace });
    const value = map.data?.[key];
    if (value === undefined) throw new Error(`configmap ${namespace}/${name} has no key ${key}`);
    return value;
  }

  private fieldValue(pod: k8s.V1Pod, path: string): string {
    const values: Record<string, string | undefined> = {
      'metadata.name': pod.metadata?.name,
      'metadata.namespace': pod.metadata?.namespace,
      'metadata.uid': pod.metadata?.uid,
      'spec.nodeName': pod.spec?.nodeName,
      'spec.serviceAccountName': pod.spec?.serviceAccountName,
      'status.podIP': '127.0.0.1',
      'status.hostIP': '127.0.0.1',
    };
    return values[path] ?? '';
  }

  /** Lays out the pod's volumes as host directories; returns mount path → host path. */
  private async volumes(pod: k8s.V1Pod, root: string): Promise<Map<string, string>> {
    const namespace = pod.metadata?.namespace as string;
    const hostDirs = new Map<string, string>();
    for (const volume of pod.spec?.volumes ?? []) {
      const dir = join(root, 'volumes', volume.name);
      await mkdir(dir, { recursive: true });
      hostDirs.set(volume.name, dir);
      if (volume.secret) {
        const secret = await this.core.readNamespacedSecret({
          name: volume.secret.secretName as string,
          namespace,
        });
        // As the kubelet does: only the listed items under their paths, with the given modes.
        const data = secret.data ?? {};
        const items =
          volume.secret.items ?? Object.keys(data).map((key) => ({ key, path: key, mode: undefined }));
        for (const item of items) {
          const value = data[item.key];
          if (value === undefined)
            throw new Error(`secret ${namespace}/${volume.secret.secretName} has no key ${item.key}`);
          await writeFile(join(dir, item.path), Buffer.from(value, 'base64'), {
            mode: item.mode ?? volume.secret.defaultMode ?? 0o644,
          });
        }
      } else if (volume.configMap) {
        const map = await this.core.readNamespacedConfigMap({
          name: volume.configMap.name as string,
          namespace,
        });
        for (const [key, value] of Object.entries(map.data ?? {})) await writeFile(join(dir, key), value);
      } else if (volume.projected) {
        for (const source of volume.projected.sources ?? []) {
          if (source.serviceAccountToken) {
            // A token bound to this pod, as the kubelet requests it.
            const issued = await this.core.createNamespacedServiceAccountToken({
              name: pod.spec?.serviceAccountName ?? 'default',
              namespace,
              body: {
                spec: {
                  audiences: source.serviceAccountToken.audience ? [source.serviceAccountToken.audience] : [],
                  expirationSeconds: source.serviceAccountToken.expirationSeconds ?? 3600,
                  boundObjectRef: {
                    apiVersion: 'v1',
                    kind: 'Pod',
                    name: pod.metadata?.name,
                    uid: pod.metadata?.uid,
                  },
                },
              },
            });
            await writeFile(join(dir, source.serviceAccountToken.path), issued.status?.token as string, {
              mode: 0o600,
            });
          } else if (source.configMap) {
            for (const item of source.configMap.items ?? []) {
              await writeFile(
                join(dir, item.path),
                await this.configMapValue(namespace, source.configMap.name as string, item.key),
              );
            }
          } else if (source.secret) {
            for (const item of source.secret.items ?? []) {
              await writeFile(
                join(dir, item.path),
                await this.secretValue(namespace, source.secret.name as string, item.key),
              );
            }
          }
        }
      }
    }
    return hostDirs;
  }

  private async run(pod: k8s.V1Pod, entry: RunningPod): Promise<void> {
    const name = pod.metadata?.name as string;
    const namespace = pod.metadata?.namespace as string;
    const container = pod.spec?.containers[0] as k8s.V1Container;
    const local = localCommandFor(container.image ?? '');
    if (!local) {
      await this.report(pod, 'Pending', {
        waiting: { reason: 'ErrImageNeverPull', message: `no local command for image ${container.image}` },
      });
      return;
    }
    const root = await mkdtemp(join(this.options.dir, `${namespace}_${name}_`));
    entry.root = root;
    const volumeDirs = await this.volumes(pod, root);
    // Container paths become host paths: each mount, and the termination message file.
    const mounts = (container.volumeMounts ?? []).map(
      (m) => [m.mountPath, volumeDirs.get(m.name) as string] as const,
    );
    const terminationFile = join(root, 'termination-log');
    const hostPath = (value: string) => {
      if (value === (container.terminationMessagePath ?? '/dev/termination-log')) return terminationFile;
      for (const [mountPath, dir] of mounts) {
        if (value === mountPath || value.startsWith(`${mountPath}/`))
          return dir + value.slice(mountPath.length);
      }
      return value;
    };
    const env: Record<string, string> = {
      PATH: process.env.PATH ?? '/usr/bin:/bin',
      HOSTNAME: name,
      // What the kubelet injects for the kubernetes Service; here the API server itself.
      KUBERNETES_SERVICE_HOST: new URL(this.options.apiServerUrl).hostname,
      KUBERNETES_SERVICE_PORT: new URL(this.options.apiServerUrl).port,
      VDL_TERMINATION_LOG: terminationFile,
      ...this.options.extraEnv,
    };
    for (const variable of container.env ?? []) {
      const from = variable.valueFrom;
      let value = variable.value ?? '';
      if (from?.secretKeyRef)
        value = await this.secretValue(namespace, from.secretKeyRef.name as string, from.secretKeyRef.key);
      else if (from?.configMapKeyRef)
        value = await this.configMapValue(
          namespace,
          from.configMapKeyRef.name as string,
          from.configMapKeyRef.key,
        );
      else if (from?.fieldRef) value = this.fieldValue(pod, from.fieldRef.fieldPath);
      env[variable.name] = hostPath(value);
    }
    const logFile = this.logFile(namespace, name, container.name);
    const log = createWriteStream(logFile, { flags: 'a' });
    const child = spawn(
      'setpriv',
      ['--pdeathsig', 'KILL', '--', local.command, ...local.args, ...(container.args ?? [])],
      {
        env,
        cwd: container.workingDir ? hostPath(container.workingDir) : root,
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    child.once('spawn', () => {
      this.processes += 1;
      this.peak = Math.max(this.peak, this.processes);
      child.once('exit', () => {
        this.processes -= 1;
      });
    });
    child.stdout?.pipe(log, { end: false });
    child.stderr?.pipe(log, { end: false });
    entry.child = child;
    entry.exited = new Promise((resolve) =>
      child.once('exit', (code, signal) => resolve(code ?? (signal ? 128 + 9 : 1))),
    );
    const startedAt = now();
    await this.report(pod, 'Running', { running: { startedAt: new Date(startedAt) } }, startedAt);
    const exitCode = (await entry.exited) ?? 1;
    log.end();
    if (entry.killing) return;
    const message = (await readFile(terminationFile, 'utf8').catch(() => '')).slice(0, 4096);
    await this.report(
      pod,
      exitCode === 0 ? 'Succeeded' : 'Failed',
      {
        terminated: {
          exitCode,
          reason: exitCode === 0 ? 'Completed' : 'Error',
          message: message || undefined,
          startedAt: new Date(startedAt),
          finishedAt: new Date(),
        },
      },
      startedAt,
    );
    await rm(root, { recursive: true, force: true });
  }

  /**
   * Reports until the API server takes it, as a kubelet's status manager
   * does: a pod that ends while the API server is away must still be seen
   * to end, or its Job would wait on it forever.
   */
  private async report(
    pod: k8s.V1Pod,
    phase: string,
    state: k8s.V1ContainerState,
    startedAt?: string,
  ): Promise<void> {
    for (let wait = 250; ; wait = Math.min(wait * 2, 5_000)) {
      try {
        return await this.reportOnce(pod, phase, state, startedAt);
      } catch (error) {
        // A pod that is gone needs no status.
        if (this.stopped || statusCodeOf(error) === 404) return;
        this.options.logger.info(
          { pod: pod.metadata?.name, phase, err: error instanceof Error ? error.message : String(error) },
          'pod status not written; retrying',
        );
        await delay(wait);
      }
    }
  }

  private async reportOnce(
    pod: k8s.V1Pod,
    phase: string,
    state: k8s.V1ContainerState,
    startedAt?: string,
  ): Promise<void> {
    const container = pod.spec?.containers[0] as k8s.V1Container;
    const ready = phase === 'Running';
    const transition = now();
    await this.core.patchNamespacedPodStatus(
      {
        name: pod.metadata?.name as string,
        namespace: pod.metadata?.namespace as string,
        body: {
          status: {
            phase,
            hostIP: '127.0.0.1',
            podIP: '127.0.0.1',
            podIPs: [{ ip: '127.0.0.1' }],
            startTime: startedAt,
            conditions: [
              { type: 'PodScheduled', status: 'True', lastTransitionTime: transition },
              { type: 'Initialized', status: 'True', lastTransitionTime: transition },
              { type: 'ContainersReady', status: ready ? 'True' : 'False', lastTransitionTime: transition },
              { type: 'Ready', status: ready ? 'True' : 'False', lastTransitionTime: transition },
            ],
            containerStatuses: [
              {
                name: container.name,
                image: container.image,
                imageID: `process://${container.image}`,
                containerID: `process://${pod.metadata?.uid}`,
                ready,
                started: ready,
                restartCount: 0,
                state,
              },
            ],
          },
        },
      },
      mergePatch,
    );
  }
}
