// What the Job controller and the kubelet would give a download pod before it
// runs: a pod named as the Job controller names them ("<job>-<5 random>"),
// never scheduled (a scheduling gate holds it), and a service-account token
// bound to that pod, whose pod claim the downloader-status policy reads.
import * as k8s from '@kubernetes/client-node';

export async function podBoundToken(
  config: k8s.KubeConfig,
  namespace: string,
  jobName: string,
): Promise<{ pod: string; token: string }> {
  const core = config.makeApiClient(k8s.CoreV1Api);
  const pod = await core.createNamespacedPod({
    namespace,
    body: {
      metadata: { generateName: `${jobName}-` },
      spec: {
        serviceAccountName: 'vdl-downloader',
        automountServiceAccountToken: false,
        schedulingGates: [{ name: 'vdl.dev/test' }],
        securityContext: { runAsNonRoot: true, runAsUser: 65532, seccompProfile: { type: 'RuntimeDefault' } },
        containers: [
          {
            name: 'downloader',
            image: 'vdl/downloader:test',
            securityContext: { allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] } },
          },
        ],
      },
    },
  });
  const issued = await core.createNamespacedServiceAccountToken({
    name: 'vdl-downloader',
    namespace,
    body: {
      spec: {
        audiences: [],
        expirationSeconds: 3600,
        boundObjectRef: { apiVersion: 'v1', kind: 'Pod', name: pod.metadata?.name, uid: pod.metadata?.uid },
      },
    },
  });
  return { pod: pod.metadata?.name as string, token: issued.status?.token as string };
}
