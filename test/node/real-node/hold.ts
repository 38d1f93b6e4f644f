// A control plane and one real node, held until this process is killed: what
// the host-undo test kills with SIGKILL to prove the watcher undoes the node.
// Prints one JSON line once the node is Ready and CoreDNS runs on it.
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { startControlPlane } from '../../cluster/control-plane.ts';
import { kubeConfigFrom } from '../../support/kube.ts';
import { prepareNodeSite, startNode } from '../node.ts';

const dir = await mkdtemp(join(tmpdir(), 'vdl-hold-'));
const site = await prepareNodeSite(dir, 'real');
const plane = await startControlPlane({ minio: false, ...site.controlPlane });
const config = kubeConfigFrom(plane.adminKubeconfig);
await startNode(
  {
    config,
    name: 'hold',
    dir,
    apiServerUrl: plane.apiServerUrl,
    logger: pino({ level: 'warn' }),
    site,
    pki: plane.pki,
  },
  'real',
);
console.log(JSON.stringify({ ready: true, index: site.real?.index, stateDir: site.real?.stateDir }));
setInterval(() => {}, 1 << 30);
