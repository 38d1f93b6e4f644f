// Starts the local control plane and keeps it running until Ctrl-C:
// `make cluster` for poking at it by hand with kubectl.
import { startControlPlane } from './control-plane.ts';

const started = Date.now();
const plane = await startControlPlane({ log: (message) => console.error(`[cluster] ${message}`) });
console.log(`control plane ready in ${((Date.now() - started) / 1000).toFixed(1)} s
  export KUBECONFIG=${plane.adminKubeconfig}
  MinIO: ${plane.minio?.url} (access key ${plane.minio?.accessKey}, secret ${plane.minio?.secretKey})
  logs:  ${plane.dir}/logs
Ctrl-C stops everything and removes ${plane.dir}.`);

let stopping = false;
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, async () => {
    if (stopping) return;
    stopping = true;
    await plane.stop();
    process.exit(0);
  });
}
