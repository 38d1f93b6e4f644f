// `make cluster-up`: vdl installed with Helm on a real node of this machine,
// as the real-node suites see it, until Ctrl-C. Prints how to reach it.
import { mediaPort, mediaServiceIp, namespace, startRealCluster } from './cluster.ts';

const cluster = await startRealCluster((message) => console.error(`[cluster-up] ${message}`));
console.log(`
vdl runs on a real node (kubelet + containerd); helm release "vdl" in namespace "${namespace}".
  export KUBECONFIG=${cluster.kubeconfig}
  kubectl get pods -A -o wide
  kubectl -n ${namespace} port-forward svc/vdl-api 8000:80 &
  kubectl -n ${namespace} port-forward svc/vdl-minio ${cluster.storagePort}:9000 &   # result links point here
  curl -s -H "Authorization: Bearer ${cluster.apiKey}" -H 'content-type: application/json' \\
    -d '{"url": "http://${mediaServiceIp}:${mediaPort}/progressive.mp4"}' http://127.0.0.1:8000/download
Ctrl-C stops it and removes everything it added to this machine.
`);
let stopping = false;
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    if (stopping) return;
    stopping = true;
    void cluster.stop().then(() => process.exit(0));
  });
}
