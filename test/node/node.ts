// What tests may ask of the node their download pods run on, whichever node
// it is: the process node (a kubelet stand-in running containers as host
// processes) or a real kubelet. Tests and the dev environment hold a TestNode
// and get it from startNode; only this folder knows the concrete nodes.
import type * as k8s from '@kubernetes/client-node';
import type { Logger } from 'pino';
import type { ClientIdentity, ClusterPki } from '../cluster/certificates.ts';
import { ProcessNode } from './process-node.ts';
import { prepareRealNodeSite, RealNode, type RealNodeSite } from './real-node/real-node.ts';

/** A running pod's container as the host sees it: what the program in it can read. */
export interface PodProcess {
  /** Host process id of the container's main process. */
  pid: number;
  /** Host directory holding the pod's volumes, one folder per volume name. */
  volumes: string;
}

/** Every node of the tests, also one whose pods a test plays by hand (./scripted-node.ts). */
export interface ClusterNode {
  /** The Node object's name, which pods are bound to. */
  readonly name: string;
  /** Registers the Node and serves the pods bound to it, resolving once it is ready for them. */
  start(): Promise<void>;
  /** Stops every pod's container and removes the Node. */
  stop(): Promise<void>;
}

/** A node that runs its pods' containers: what end-to-end and fault tests ask of it. */
export interface TestNode extends ClusterNode {
  /** Pods whose container runs now. */
  runningProcesses(): number;
  /** The most containers that ran at once since the last reset, counted at each start and exit, never sampled. */
  peakProcesses(): number;
  resetPeakProcesses(): void;
  /** The running container of a pod, if it runs now. */
  podProcess(namespace: string, pod: string): PodProcess | undefined;
  /** Kills a pod's running container as the kernel's OOM killer would (SIGKILL); false when none runs. */
  killPod(namespace: string, pod: string): boolean;
  /** Where a pod's container logs go. */
  logFile(namespace: string, pod: string, container: string): string;
}

export interface NodeOptions {
  config: k8s.KubeConfig;
  name: string;
  /** Where pods' work dirs and container logs go. */
  dir: string;
  apiServerUrl: string;
  /** Extra environment for every container (tool paths, the allowed internal hosts). */
  extraEnv?: Record<string, string>;
  logger: Logger;
  /** The site prepareNodeSite made before the control plane started. */
  site?: NodeSite;
  /** The control plane's PKI: a real node's kubelet and kube-proxy authenticate with it. */
  pki?: ClusterPki;
  /** OCI archives a real node imports into its containerd (a process node maps images to commands). */
  images?: string[];
}

/**
 * What a node needs of the machine before the control plane starts: a real
 * node's pods reach kube-apiserver, MinIO and test servers only at the host's
 * end of its link, so those listen there.
 */
export interface NodeSite {
  /** Where servers that the node's pods must reach listen (loopback for the process node). */
  hostAddress: string;
  /** Options the control plane must start with for this node. */
  controlPlane: { nodeLinkAddress?: string; extraClients?: ClientIdentity[] };
  real?: RealNodeSite;
  /** Undoes the site if the node never started (a started node undoes it on stop). */
  release(): Promise<void>;
}

export async function prepareNodeSite(dir: string, kind: NodeKind = nodeKindOf()): Promise<NodeSite> {
  if (kind === 'process') return { hostAddress: '127.0.0.1', controlPlane: {}, release: async () => {} };
  const real = await prepareRealNodeSite(dir);
  return {
    hostAddress: real.hostAddress,
    controlPlane: { nodeLinkAddress: real.hostAddress, extraClients: real.clients },
    real,
    release: real.release,
  };
}

/**
 * The kinds of node there are; VDL_TEST_NODE picks one (default: process).
 * process: pods as host processes, fast, with fault hooks no kubelet has;
 * real: kubelet + containerd, pods in containers with real cgroup limits (needs root).
 */
export const nodeKinds = ['process', 'real'] as const;
export type NodeKind = (typeof nodeKinds)[number];

export function nodeKindOf(env: Record<string, string | undefined> = process.env): NodeKind {
  const kind = env.VDL_TEST_NODE ?? 'process';
  if (!(nodeKinds as readonly string[]).includes(kind))
    throw new Error(`VDL_TEST_NODE=${kind}: no such node (one of ${nodeKinds.join(', ')})`);
  return kind as NodeKind;
}

/** A started node of the chosen kind. */
export async function startNode(options: NodeOptions, kind: NodeKind = nodeKindOf()): Promise<TestNode> {
  const nodes: Record<NodeKind, (options: NodeOptions) => TestNode> = {
    process: (nodeOptions) => new ProcessNode(nodeOptions),
    real: ({ site, pki, ...nodeOptions }) => {
      if (!site?.real || !pki) throw new Error('a real node needs the site prepareNodeSite made and the PKI');
      return new RealNode({ ...nodeOptions, site: site.real, pki });
    },
  };
  const node = nodes[kind](options);
  await node.start();
  return node;
}
