// `make dev`: the whole system on this machine, until Ctrl-C. Prints where
// everything is and a first download to try, and writes .dev/env.
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startDevEnvironment } from './environment.ts';

const root = fileURLToPath(new URL('../../', import.meta.url));
// VDL_DEV_DIR moves the state elsewhere (the test of `make dev` itself uses it).
const devDir = process.env.VDL_DEV_DIR ?? join(root, '.dev');
const started = Date.now();
await rm(join(devDir, 'run'), { recursive: true, force: true });
await mkdir(devDir, { recursive: true });

const allowedInternalHosts = (process.env.VDL_ALLOWED_INTERNAL_HOSTS ?? '')
  .split(',')
  .map((entry) => entry.trim())
  .filter(Boolean);
const env = await startDevEnvironment({
  dir: join(devDir, 'run'),
  apiPort: Number(process.env.VDL_API_PORT ?? 8000),
  allowedInternalHosts,
  onLog: (line) => console.log(line),
});

const sample = `${env.media.url}/progressive.mp4`;
await writeFile(
  join(devDir, 'env'),
  [
    `export KUBECONFIG=${env.kubeconfig}`,
    `export VDL_API_URL=${env.apiUrl}`,
    `export VDL_API_KEY=${env.apiKey}`,
    `export VDL_NAMESPACE=${env.namespace}`,
    `export VDL_SAMPLE_URL=${sample}`,
    `export VDL_ARCHIVE_URL='${env.postgres.endpoint.url}'`,
    '',
  ].join('\n'),
  { mode: 0o600 },
);
await writeFile(
  join(devDir, 'sample-download.yaml'),
  `apiVersion: vdl.dev/v1alpha1\nkind: VideoDownload\nmetadata:\n  name: sample\n  namespace: ${env.namespace}\nspec:\n  url: ${sample}\n`,
);

console.log(`
vdl is running (ready in ${((Date.now() - started) / 1000).toFixed(1)} s). Ctrl-C stops everything.

  API        ${env.apiUrl}   (key: ${env.apiKey})
  kubectl    export KUBECONFIG=${env.kubeconfig}      (or: source ${join(devDir, 'env')})
  logs       ${join(devDir, 'run/logs')} (operator, api), ${env.nodeKind === 'real' ? `kubectl -n ${env.namespace} logs job/<job_id>` : join(devDir, 'run/node/logs')} (download pods)
  archive    PostgreSQL on ${env.postgres.endpoint.host}:${env.postgres.endpoint.port}, finished downloads outlive their resources   (psql "$VDL_ARCHIVE_URL")
  node       ${env.nodeKind === 'real' ? 'a real node: every download runs in a containerd container' : 'the process node: downloads run as host processes'}

Download the sample video through the API:
  source ${join(devDir, 'env')}
  curl -s -H "Authorization: Bearer $VDL_API_KEY" -H 'content-type: application/json' \\
    -d '{"url": "'$VDL_SAMPLE_URL'"}' $VDL_API_URL/download
  curl -s -H "Authorization: Bearer $VDL_API_KEY" $VDL_API_URL/status/<job_id>
  curl -s -L -o sample.mp4 -H "Authorization: Bearer $VDL_API_KEY" "$VDL_API_URL/result/<job_id>?redirect=true"

Or with kubectl:
  kubectl apply -f ${join(devDir, 'sample-download.yaml')}
  kubectl -n ${env.namespace} wait --for=condition=Complete vd/sample && kubectl -n ${env.namespace} get vd -o wide

Online, any site yt-dlp supports works the same: {"url": "https://www.youtube.com/watch?v=aqz-KE-bpKQ"}.
Local media servers of your own: listen on ${env.hostAddress}, then VDL_ALLOWED_INTERNAL_HOSTS=${env.hostAddress}:PORT make dev
`);

let stopping = false;
const shutdown = async (why: string) => {
  if (stopping) return;
  stopping = true;
  console.log(`stopping vdl (${why}) ...`);
  await env.stop();
  process.exit(0);
};
for (const signal of ['SIGINT', 'SIGTERM'] as const) process.on(signal, () => void shutdown(signal));
// make passes no signal on when it is killed itself; a changed parent means it is gone.
const parent = process.ppid;
setInterval(() => {
  if (process.ppid !== parent) void shutdown('parent process exited');
}, 1000).unref();
