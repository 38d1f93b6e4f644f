// What each program of a real node is told, as pure functions of one plan, so
// a unit test can hold every setting that keeps the host untouched in place
// (own state dirs, no host-wide chains, no sysctl beyond the node's namespace).
import { stringify } from 'yaml';

/** Everything that differs between two real nodes on one machine. */
export interface NodePlan {
  /** 1..250: picks the addresses, the names and the pod subnet. */
  index: number;
  /** The node's own directory: containerd's root and state, kubelet's root, CNI data, logs. */
  stateDir: string;
  kubeletPort: number;
  kubeletHealthzPort: number;
  proxyHealthzPort: number;
  proxyMetricsPort: number;
}

export const pauseImage = 'registry.k8s.io/pause:3.10.1';
export const clusterDnsIp = '10.96.0.10';
export const clusterDomain = 'cluster.local';

/** Names and addresses a plan's index stands for. */
export function nodeIdentity(index: number) {
  if (!Number.isInteger(index) || index < 1 || index > 250)
    throw new Error(`node index ${index} is not in 1..250`);
  const name = `vdl-node-${index}`;
  return {
    name,
    /** The network namespace the node's programs and pods live in. */
    netns: name,
    /** The host end of the link into the namespace (also 15 characters at most). */
    hostLink: name,
    /** The host's address on that link: kube-apiserver and MinIO listen here. */
    hostAddress: `10.254.${index}.1`,
    /** The node's InternalIP, on the namespace's end of the link. */
    nodeAddress: `10.254.${index}.2`,
    linkPrefix: 30,
    /** Lives only inside the namespace; the host has a route to it over the link, nothing else does. */
    podSubnet: `10.244.${index}.0/24`,
    bridge: 'vdl0',
    cgroupRoot: `/${name}`,
  };
}

export function paths(plan: NodePlan) {
  const d = plan.stateDir;
  return {
    containerdSocket: `${d}/containerd/containerd.sock`,
    containerdRoot: `${d}/containerd/root`,
    containerdState: `${d}/containerd/state`,
    containerdConfig: `${d}/containerd/config.toml`,
    cniConfDir: `${d}/cni/net.d`,
    cniDataDir: `${d}/cni/networks`,
    kubeletRoot: `${d}/kubelet`,
    kubeletConfig: `${d}/kubelet-config.yaml`,
    kubeletKubeconfig: `${d}/kubelet.kubeconfig`,
    podLogsDir: `${d}/pod-logs`,
    proxyConfig: `${d}/kube-proxy-config.yaml`,
    proxyKubeconfig: `${d}/kube-proxy.kubeconfig`,
    logs: `${d}/logs`,
  };
}

export function containerdConfig(plan: NodePlan): string {
  const p = paths(plan);
  const cri = 'plugins."io.containerd.grpc.v1.cri"';
  return `version = 2
root = "${p.containerdRoot}"
state = "${p.containerdState}"
# The opt plugin would create /opt/containerd on the host.
disabled_plugins = ["io.containerd.internal.v1.opt", "io.containerd.snapshotter.v1.aufs", "io.containerd.snapshotter.v1.btrfs", "io.containerd.snapshotter.v1.zfs", "io.containerd.snapshotter.v1.devmapper"]

[grpc]
  address = "${p.containerdSocket}"

[ttrpc]
  address = "${p.containerdSocket}.ttrpc"

[metrics]
  address = ""

[${cri}]
  sandbox_image = "${pauseImage}"
  # Root here lacks CAP_SYS_RESOURCE: without this runc fails every sandbox
  # ("can't get final child's PID from pipe: EOF").
  restrict_oom_score_adj = true
  # Pod network namespaces under our state dir, not /run/netns.
  netns_mounts_under_state_dir = true
  enable_selinux = false

[${cri}.cni]
  bin_dir = "/usr/lib/cni"
  conf_dir = "${p.cniConfDir}"
  max_conf_num = 1

[${cri}.containerd]
  snapshotter = "overlayfs"
  default_runtime_name = "runc"

[${cri}.containerd.runtimes.runc]
  runtime_type = "io.containerd.runc.v2"

[${cri}.containerd.runtimes.runc.options]
  SystemdCgroup = false
`;
}

export function cniConfig(plan: NodePlan): string {
  const id = nodeIdentity(plan.index);
  return `${JSON.stringify(
    {
      cniVersion: '1.0.0',
      name: id.name,
      plugins: [
        {
          type: 'bridge',
          bridge: id.bridge,
          isGateway: true,
          isDefaultGateway: true,
          // Pod traffic never leaves the machine: no masquerade, and the
          // namespace has no route off the link to the host.
          ipMasq: false,
          hairpinMode: true,
          ipam: {
            type: 'host-local',
            ranges: [[{ subnet: id.podSubnet }]],
            dataDir: paths(plan).cniDataDir,
          },
        },
        { type: 'portmap', capabilities: { portMappings: true } },
      ],
    },
    null,
    2,
  )}\n`;
}

export function kubeletConfig(plan: NodePlan, clientCaFile: string): string {
  const id = nodeIdentity(plan.index);
  const p = paths(plan);
  return stringify({
    apiVersion: 'kubelet.config.k8s.io/v1beta1',
    kind: 'KubeletConfiguration',
    address: id.nodeAddress,
    port: plan.kubeletPort,
    healthzBindAddress: id.nodeAddress,
    healthzPort: plan.kubeletHealthzPort,
    readOnlyPort: 0,
    authentication: {
      anonymous: { enabled: false },
      webhook: { enabled: false },
      x509: { clientCAFile: clientCaFile },
    },
    // Only the CA's clients reach it at all (kube-apiserver's kubelet client, system:masters).
    authorization: { mode: 'AlwaysAllow' },
    containerRuntimeEndpoint: `unix://${p.containerdSocket}`,
    cgroupDriver: 'cgroupfs',
    // Every pod cgroup under one root of ours, removed whole on stop.
    cgroupRoot: id.cgroupRoot,
    failCgroupV1: false,
    failSwapOn: false,
    // Otherwise kubelet adds KUBE-FIREWALL and canary chains to the host's iptables.
    makeIPTablesUtilChains: false,
    clusterDNS: [clusterDnsIp],
    clusterDomain,
    // Pods with dnsPolicy Default get no resolver of the host's: nothing outside resolves here.
    resolvConf: '',
    podLogsDir: p.podLogsDir,
    serializeImagePulls: false,
    // Images are imported, never pulled: the garbage collector must not drop them.
    imageGCHighThresholdPercent: 100,
    imageGCLowThresholdPercent: 99,
    evictionHard: {
      'memory.available': '100Mi',
      'nodefs.available': '1%',
      'imagefs.available': '1%',
      'nodefs.inodesFree': '1%',
    },
    rotateCertificates: false,
    serverTLSBootstrap: false,
    registerNode: true,
    maxPods: 110,
  });
}

export function kubeletArgs(plan: NodePlan): string[] {
  const id = nodeIdentity(plan.index);
  const p = paths(plan);
  return [
    `--config=${p.kubeletConfig}`,
    `--kubeconfig=${p.kubeletKubeconfig}`,
    `--root-dir=${p.kubeletRoot}`,
    `--cert-dir=${p.kubeletRoot}/pki`,
    `--node-ip=${id.nodeAddress}`,
    `--hostname-override=${id.name}`,
    '--v=1',
  ];
}

export function kubeProxyConfig(plan: NodePlan): string {
  const id = nodeIdentity(plan.index);
  return stringify({
    apiVersion: 'kubeproxy.config.k8s.io/v1alpha1',
    kind: 'KubeProxyConfiguration',
    mode: 'nftables',
    clientConnection: { kubeconfig: paths(plan).proxyKubeconfig },
    bindAddress: id.nodeAddress,
    hostnameOverride: id.name,
    clusterCIDR: id.podSubnet,
    healthzBindAddress: `${id.nodeAddress}:${plan.proxyHealthzPort}`,
    metricsBindAddress: `${id.nodeAddress}:${plan.proxyMetricsPort}`,
    // Zeros leave the machine-wide conntrack sysctls alone.
    conntrack: { maxPerCore: 0, min: 0, tcpEstablishedTimeout: '0s', tcpCloseWaitTimeout: '0s' },
  });
}
