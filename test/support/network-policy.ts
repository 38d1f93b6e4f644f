// A small evaluator of Kubernetes NetworkPolicy semantics, for testing the
// chart's policies without a network plugin: may this pod reach that pod or
// address on this port? Follows the networking.k8s.io/v1 rules: a pod that
// no policy selects for a direction is open in that direction; once one
// does, only what some rule of those policies allows gets through (rules add
// up, never subtract); podSelector peers are in the policy's namespace unless
// a namespaceSelector widens them; ipBlock matches by address, minus except.
import ipaddr from 'ipaddr.js';

export interface LabelSelector {
  matchLabels?: Record<string, string>;
  matchExpressions?: Array<{
    key: string;
    operator: 'In' | 'NotIn' | 'Exists' | 'DoesNotExist';
    values?: string[];
  }>;
}

export interface Peer {
  podSelector?: LabelSelector;
  namespaceSelector?: LabelSelector;
  ipBlock?: { cidr: string; except?: string[] };
}

export interface PolicyPort {
  protocol?: 'TCP' | 'UDP' | 'SCTP';
  port?: number | string;
  endPort?: number;
}

export interface NetworkPolicy {
  kind: 'NetworkPolicy';
  metadata: { name: string; namespace: string };
  spec: {
    podSelector: LabelSelector;
    policyTypes?: Array<'Ingress' | 'Egress'>;
    ingress?: Array<{ from?: Peer[]; ports?: PolicyPort[] }>;
    egress?: Array<{ to?: Peer[]; ports?: PolicyPort[] }>;
  };
}

export interface Pod {
  name: string;
  namespace: string;
  namespaceLabels: Record<string, string>;
  labels: Record<string, string>;
  ip: string;
  /** Named container ports, for policies that name a port. */
  ports?: Record<string, number>;
}

/** Where a connection goes: a pod, or an address outside the cluster's pods. */
export type Destination = Pod | { ip: string };

export interface Connection {
  from: Pod;
  to: Destination;
  port: number;
  protocol?: 'TCP' | 'UDP';
}

export function selects(selector: LabelSelector | undefined, labels: Record<string, string>): boolean {
  if (!selector) return true;
  for (const [key, value] of Object.entries(selector.matchLabels ?? {})) {
    if (labels[key] !== value) return false;
  }
  for (const { key, operator, values = [] } of selector.matchExpressions ?? []) {
    const has = key in labels;
    const ok =
      operator === 'In'
        ? has && values.includes(labels[key] as string)
        : operator === 'NotIn'
          ? !has || !values.includes(labels[key] as string)
          : operator === 'Exists'
            ? has
            : !has;
    if (!ok) return false;
  }
  return true;
}

function parsed(address: string): ipaddr.IPv4 | ipaddr.IPv6 {
  return ipaddr.parse(address);
}

export function inCidr(address: string, cidr: string): boolean {
  const ip = parsed(address);
  const [network, bits] = ipaddr.parseCIDR(cidr);
  return ip.kind() === network.kind() && ip.match(network, bits);
}

function isPod(destination: Destination): destination is Pod {
  return 'labels' in destination;
}

function peerMatches(peer: Peer, policyNamespace: string, target: Destination): boolean {
  if (peer.ipBlock) {
    const { cidr, except = [] } = peer.ipBlock;
    return inCidr(target.ip, cidr) && !except.some((e) => inCidr(target.ip, e));
  }
  // Selector peers name pods only, never outside addresses.
  if (!isPod(target)) return false;
  const namespaceOk = peer.namespaceSelector
    ? selects(peer.namespaceSelector, target.namespaceLabels)
    : target.namespace === policyNamespace;
  return namespaceOk && selects(peer.podSelector, target.labels);
}

function portMatches(ports: PolicyPort[] | undefined, connection: Connection, target: Destination): boolean {
  if (!ports || ports.length === 0) return true;
  const protocol = connection.protocol ?? 'TCP';
  return ports.some((p) => {
    if ((p.protocol ?? 'TCP') !== protocol) return false;
    if (p.port === undefined) return true;
    const number = typeof p.port === 'number' ? p.port : isPod(target) ? target.ports?.[p.port] : undefined;
    if (number === undefined) return false;
    return p.endPort !== undefined
      ? connection.port >= number && connection.port <= p.endPort
      : connection.port === number;
  });
}

function types(policy: NetworkPolicy): Array<'Ingress' | 'Egress'> {
  if (policy.spec.policyTypes) return policy.spec.policyTypes;
  return policy.spec.egress ? ['Ingress', 'Egress'] : ['Ingress'];
}

function selecting(policies: NetworkPolicy[], pod: Pod, type: 'Ingress' | 'Egress'): NetworkPolicy[] {
  return policies.filter(
    (p) =>
      p.metadata.namespace === pod.namespace &&
      types(p).includes(type) &&
      selects(p.spec.podSelector, pod.labels),
  );
}

/** Undefined when the connection is allowed, otherwise which side refuses it. */
export function refusal(policies: NetworkPolicy[], connection: Connection): string | undefined {
  const { from, to } = connection;
  const egress = selecting(policies, from, 'Egress');
  if (
    egress.length > 0 &&
    !egress.some((policy) =>
      (policy.spec.egress ?? []).some(
        (rule) =>
          (rule.to === undefined || rule.to.length === 0
            ? true
            : rule.to.some((peer) => peerMatches(peer, policy.metadata.namespace, to))) &&
          portMatches(rule.ports, connection, to),
      ),
    )
  ) {
    return `egress of ${from.name} (${egress.map((p) => p.metadata.name).join(', ')})`;
  }
  if (!isPod(to)) return undefined;
  const ingress = selecting(policies, to, 'Ingress');
  if (
    ingress.length > 0 &&
    !ingress.some((policy) =>
      (policy.spec.ingress ?? []).some(
        (rule) =>
          (rule.from === undefined || rule.from.length === 0
            ? true
            : rule.from.some((peer) => peerMatches(peer, policy.metadata.namespace, from))) &&
          portMatches(rule.ports, connection, to),
      ),
    )
  ) {
    return `ingress of ${to.name} (${ingress.map((p) => p.metadata.name).join(', ')})`;
  }
  return undefined;
}

export function allowed(policies: NetworkPolicy[], connection: Connection): boolean {
  return refusal(policies, connection) === undefined;
}
