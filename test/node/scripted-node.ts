// A node whose pods a test plays by hand: the Node is registered and its
// Lease kept (./registration.ts), pods the operator deletes are confirmed
// gone at once (./pod-reaper.ts), and the test says when a pod's container
// runs and how it ends (running, terminated), as a kubelet would report it.
// For operator tests that decide every container's fate themselves.
import * as k8s from '@kubernetes/client-node';
import { downloadLabelValue } from '../../operator/controllers/video-download/desired-job.ts';
import { eventually } from '../support/eventually.ts';
import type { ClusterNode } from './node.ts';
import { reapTerminatingPods } from './pod-reaper.ts';
import { type RegisteredNode, registerNode } from './registration.ts';

const mergePatch = k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.MergePatch);

export class ScriptedNode implements ClusterNode {
  readonly name: string;
  private readonly config: k8s.KubeConfig;
  private readonly core: k8s.CoreV1Api;
  private readonly namespace: string;
  private registered: RegisteredNode | undefined;
  private stopReaper: (() => void) | undefined;

  /** A node named name, playing the pods of one namespace. */
  constructor(config: k8s.KubeConfig, namespace: string, name: string) {
    this.config = config;
    this.core = config.makeApiClient(k8s.CoreV1Api);
    this.namespace = namespace;
    this.name = name;
  }

  async start(): Promise<void> {
    this.registered = await registerNode(this.config, this.name);
    this.stopReaper = reapTerminatingPods(this.config, this.name);
  }

  async stop(): Promise<void> {
    this.stopReaper?.();
    await this.registered?.stop();
  }

  async podsOf(downloadName: string): Promise<k8s.V1Pod[]> {
    const pods = await this.core.listNamespacedPod({
      namespace: this.namespace,
      labelSelector: `vdl.dev/download=${downloadLabelValue(downloadName)}`,
    });
    return pods.items;
  }

  /** The download's pod that has not finished yet, once the Job controller made it. */
  async livePod(downloadName: string): Promise<k8s.V1Pod> {
    return eventually(`a live pod of ${downloadName}`, async () => {
      const pods = await this.podsOf(downloadName);
      return pods.find(
        (p) => !['Succeeded', 'Failed'].includes(p.status?.phase ?? '') && !p.metadata?.deletionTimestamp,
      );
    });
  }

  async running(pod: k8s.V1Pod): Promise<void> {
    const now = new Date().toISOString();
    await this.patch(pod, {
      phase: 'Running',
      startTime: now,
      conditions: [{ type: 'Ready', status: 'True', lastTransitionTime: now }],
      containerStatuses: [
        {
          name: 'downloader',
          image: 'vdl/downloader:dev',
          imageID: '',
          ready: true,
          restartCount: 0,
          started: true,
          state: { running: { startedAt: now } },
        },
      ],
    });
  }

  async terminated(pod: k8s.V1Pod, exitCode: number, message?: string, reason?: string): Promise<void> {
    const now = new Date().toISOString();
    await this.patch(pod, {
      phase: exitCode === 0 ? 'Succeeded' : 'Failed',
      conditions: [{ type: 'Ready', status: 'False', lastTransitionTime: now }],
      containerStatuses: [
        {
          name: 'downloader',
          image: 'vdl/downloader:dev',
          imageID: '',
          ready: false,
          restartCount: 0,
          started: false,
          state: {
            terminated: {
              exitCode,
              reason: reason ?? (exitCode === 0 ? 'Completed' : 'Error'),
              message,
              startedAt: now,
              finishedAt: now,
            },
          },
        },
      ],
    });
  }

  private async patch(pod: k8s.V1Pod, status: Record<string, unknown>): Promise<void> {
    await this.core.patchNamespacedPodStatus(
      { name: pod.metadata?.name as string, namespace: this.namespace, body: { status } },
      mergePatch,
    );
  }
}
