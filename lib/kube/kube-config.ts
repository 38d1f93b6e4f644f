// Loading a KubeConfig whose API calls reuse their connections.
// @kubernetes/client-node 2.0 builds a new undici Agent for every request
// (KubeConfig.applySecurityAuthentication → createDispatcher), so each call
// pays a TCP and TLS handshake on both ends and leaves a keep-alive socket
// behind; profiling the operator at 1,000 downloads showed TLS setup as its
// largest cost. Here one dispatcher per cluster, user and TLS material is kept.
import { createHash } from 'node:crypto';
import * as k8s from '@kubernetes/client-node';

type DispatcherFactory = (cluster: k8s.Cluster | null, options: Record<string, unknown>) => unknown;

function fingerprint(
  cluster: k8s.Cluster | null,
  user: k8s.User | null,
  options: Record<string, unknown>,
): string {
  const hash = createHash('sha256');
  hash.update(
    `${cluster?.server}\0${user?.name}\0${String(options.rejectUnauthorized)}\0${String(options.servername)}`,
  );
  for (const key of ['ca', 'cert', 'key', 'pfx']) {
    const value = options[key];
    hash.update(`\0${key}:`);
    if (value) hash.update(value as Buffer | string);
  }
  return hash.digest('hex');
}

export function reuseConnections(config: k8s.KubeConfig): k8s.KubeConfig {
  const target = config as unknown as { createDispatcher: DispatcherFactory };
  const create = target.createDispatcher.bind(config);
  const dispatchers = new Map<string, unknown>();
  target.createDispatcher = (cluster, options) => {
    const key = fingerprint(cluster, config.getCurrentUser(), options);
    let dispatcher = dispatchers.get(key);
    if (dispatcher === undefined) {
      dispatcher = create(cluster, options);
      dispatchers.set(key, dispatcher);
    }
    return dispatcher;
  };
  return config;
}

/** The default kubeconfig (KUBECONFIG, ~/.kube/config or in-cluster), with connection reuse. */
export function loadKubeConfig(): k8s.KubeConfig {
  const config = new k8s.KubeConfig();
  config.loadFromDefault();
  return reuseConnections(config);
}
