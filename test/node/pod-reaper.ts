// The one part of a kubelet the operator tests need besides pod status: a
// pod bound to a node is deleted gracefully and stays until its kubelet
// confirms. This confirms at once for every pod on the given node.
import * as k8s from '@kubernetes/client-node';

export function reapTerminatingPods(config: k8s.KubeConfig, nodeName: string): () => void {
  const core = config.makeApiClient(k8s.CoreV1Api);
  const watch = new k8s.Watch(config);
  let abort: AbortController | undefined;
  let stopped = false;
  const start = async () => {
    if (stopped) return;
    abort = await watch.watch(
      '/api/v1/pods',
      { fieldSelector: `spec.nodeName=${nodeName}` },
      (_type, pod: k8s.V1Pod) => {
        if (!pod.metadata?.deletionTimestamp) return;
        core
          .deleteNamespacedPod({
            name: pod.metadata.name as string,
            namespace: pod.metadata.namespace as string,
            gracePeriodSeconds: 0,
          })
          .catch(() => {});
      },
      () => {
        if (!stopped) setTimeout(() => void start(), 200);
      },
    );
  };
  void start();
  return () => {
    stopped = true;
    abort?.abort();
  };
}
