// What a kubelet does to be given pods: register a Node with capacity and a
// Ready condition, and keep its Lease in kube-node-lease fresh so the node
// lifecycle controller does not taint it unreachable.
import * as k8s from '@kubernetes/client-node';

export interface RegisteredNode {
  name: string;
  stop(): Promise<void>;
}

const leaseDurationSeconds = 40;
const mergePatch = k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.MergePatch);
const renewIntervalMs = 10_000;

function readyCondition(now: Date): k8s.V1NodeCondition {
  return {
    type: 'Ready',
    status: 'True',
    reason: 'KubeletReady',
    message: 'vdl process node is posting ready status',
    lastHeartbeatTime: now,
    lastTransitionTime: now,
  };
}

export async function registerNode(
  config: k8s.KubeConfig,
  name: string,
  capacity: Record<string, string> = { cpu: '8', memory: '16Gi', pods: '110', 'ephemeral-storage': '100Gi' },
): Promise<RegisteredNode> {
  const core = config.makeApiClient(k8s.CoreV1Api);
  const coordination = config.makeApiClient(k8s.CoordinationV1Api);
  const now = new Date();
  await core.createNode({
    body: {
      metadata: {
        name,
        labels: {
          'kubernetes.io/hostname': name,
          'kubernetes.io/os': 'linux',
          'vdl.dev/process-node': 'true',
        },
      },
      status: {
        capacity,
        allocatable: capacity,
        conditions: [readyCondition(now)],
        addresses: [
          { type: 'InternalIP', address: '127.0.0.1' },
          { type: 'Hostname', address: name },
        ],
        nodeInfo: {
          architecture: process.arch === 'x64' ? 'amd64' : process.arch,
          operatingSystem: 'linux',
          kubeletVersion: 'vdl-process-node',
          kubeProxyVersion: '',
          containerRuntimeVersion: 'process://',
          bootID: '',
          kernelVersion: '',
          machineID: '',
          osImage: '',
          systemUUID: '',
        },
      },
    },
  });
  const renew = async () => {
    const renewTime = new k8s.V1MicroTime(Date.now());
    const spec = { holderIdentity: name, leaseDurationSeconds, renewTime };
    try {
      // A patch, not a replace: a Lease refuses an update without a
      // resourceVersion, and a node whose renewals all fail is tainted
      // unreachable after the grace period, so no new pod lands on it.
      await coordination.patchNamespacedLease(
        { name, namespace: 'kube-node-lease', body: { spec } },
        mergePatch,
      );
    } catch (error) {
      if ((error as { code?: number }).code !== 404) throw error;
      await coordination.createNamespacedLease({
        namespace: 'kube-node-lease',
        body: { metadata: { name }, spec },
      });
    }
  };
  await renew();
  const timer = setInterval(() => {
    renew().catch(() => {
      // The next tick tries again; a node that stays silent is marked NotReady, as a real one would be.
    });
  }, renewIntervalMs);
  timer.unref();
  return {
    name,
    async stop() {
      clearInterval(timer);
      await core.deleteNode({ name }).catch(() => {});
    },
  };
}
