// The API as its own process (`node api/main.ts`, as in a pod) against a
// fresh control plane of its own, with three users' keys in its Secret;
// more replicas on request, and optionally under the chart's RBAC.
// Hostile-input tests need the process apart: a crash shows as an exit, and
// its memory is its own.
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as k8s from '@kubernetes/client-node';
import { hashKey } from '../../api/api-keys.ts';
import { VideoDownloads } from '../../lib/kube/video-downloads.ts';
import { programArgs } from '../../lib/runtime/node-flags.ts';
import { type ControlPlane, startControlPlane } from '../cluster/control-plane.ts';
import { ManagedProcess } from '../cluster/managed-process.ts';
import { freePort, tailOf, waitForHealthy } from '../cluster/readiness.ts';
import { serviceAccountKubeconfig } from '../dev-environment/environment.ts';
import { applyChartRbac } from './chart-render.ts';
import { kubeConfigFrom } from './kube.ts';
import { createDownloadNamespace, installCrd } from './vdl.ts';

const repository = fileURLToPath(new URL('../..', import.meta.url));
const mergePatch = k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.MergePatch);

export type User = 'alice' | 'bob' | 'root';

export interface ApiReplica {
  url: string;
  process: ManagedProcess;
  logTail(): Promise<string>;
  stop(): Promise<void>;
}

export interface ApiProcessOptions {
  /** Run under the chart's service account and RBAC (and its admission policy), as in a cluster. */
  serviceAccount?: boolean;
}

export interface ApiProcess {
  plane: ControlPlane;
  kube: k8s.KubeConfig;
  namespace: string;
  url: string;
  /** Each user's key: alice and bob are users, root an admin. */
  keys: Record<User, string>;
  process: ManagedProcess;
  /** The key Secret's text for these users, minus any left out (revoked). */
  keysText(leaveOut?: User[]): string;
  /** Replaces the key Secret's text; the API follows it through its watch. */
  setKeysText(text: string): Promise<void>;
  /** How many VideoDownloads the namespace holds, read from the API server. */
  countDownloads(): Promise<number>;
  /** The API process's resident memory now and at its peak so far, from /proc. */
  memory(): { rssBytes: number; peakBytes: number };
  /** The last lines of the API's log, for failure messages. */
  logTail(): Promise<string>;
  /** Another API process against the same control plane, namespace, keys and ticket key. */
  startReplica(env?: Record<string, string>): Promise<ApiReplica>;
  /** The kubeconfig the API processes use. */
  apiKubeconfig: string;
  stop(): Promise<void>;
}

export async function startApiProcess(
  env: Record<string, string> = {},
  options: ApiProcessOptions = {},
): Promise<ApiProcess> {
  const plane = await startControlPlane({});
  const children: ManagedProcess[] = [];
  try {
    const kube = kubeConfigFrom(plane.adminKubeconfig);
    await installCrd(kube);
    const namespace = await createDownloadNamespace(kube, 'hostile');
    const keys: Record<User, string> = {
      alice: randomBytes(16).toString('hex'),
      bob: randomBytes(16).toString('hex'),
      root: randomBytes(16).toString('hex'),
    };
    const roles: Record<User, string> = { alice: 'user', bob: 'user', root: 'admin' };
    const keysText = (leaveOut: User[] = []) =>
      (Object.keys(keys) as User[])
        .filter((user) => !leaveOut.includes(user))
        .map((user) => `${user}:${roles[user]}:${hashKey(keys[user])}\n`)
        .join('');
    const core = kube.makeApiClient(k8s.CoreV1Api);
    await core.createNamespacedSecret({
      namespace,
      body: { metadata: { name: 'vdl-api-keys' }, stringData: { keys: keysText() } },
    });
    let apiKubeconfig = plane.adminKubeconfig;
    if (options.serviceAccount) {
      await applyChartRbac(kube, namespace, [
        'minio.enabled=false',
        `s3.endpoint=${plane.minio?.url}`,
        's3.existingSecret=vdl-s3',
        'networkPolicy.enabled=false',
      ]);
      apiKubeconfig = join(plane.dir, 'api.kubeconfig');
      await serviceAccountKubeconfig(kube, plane, namespace, 'vdl-api', apiKubeconfig);
    }
    const minio = plane.minio as NonNullable<ControlPlane['minio']>;
    // Replicas share it, as the chart's Secret makes them: a ticket from one opens a stream on another.
    const ticketKey = randomBytes(32).toString('base64');
    const spawn = async (extra: Record<string, string>): Promise<ApiReplica> => {
      const port = await freePort();
      const api = new ManagedProcess({
        name: `api-${children.length}`,
        command: process.execPath,
        args: programArgs('api', repository),
        env: {
          PATH: process.env.PATH,
          HOME: process.env.HOME,
          KUBECONFIG: apiKubeconfig,
          VDL_API_PORT: String(port),
          VDL_API_NAMESPACE: namespace,
          VDL_API_S3_ENDPOINT: minio.url,
          VDL_API_S3_ACCESS_KEY: minio.accessKey,
          VDL_API_S3_SECRET_KEY: minio.secretKey,
          VDL_API_TICKET_KEY: ticketKey,
          VDL_API_LOG_LEVEL: 'warn',
          // Hostile tests send hundreds of refused submissions, and refused ones count against the rate.
          VDL_API_SUBMIT_PER_MINUTE: '6000',
          VDL_API_SUBMIT_BURST: '1000',
          ...extra,
        },
        logFile: join(plane.dir, 'logs', `api-${children.length}.log`),
      });
      children.push(api);
      const url = `http://127.0.0.1:${port}`;
      await waitForHealthy(api, `${url}/readyz`, { timeoutMs: 90_000 });
      return { url, process: api, logTail: () => tailOf(api.logFile, 40), stop: () => api.stop() };
    };
    const first = await spawn(env);
    const api = first.process;
    const url = first.url;
    return {
      plane,
      kube,
      namespace,
      url,
      keys,
      process: api,
      keysText,
      async setKeysText(text) {
        await core.patchNamespacedSecret(
          { name: 'vdl-api-keys', namespace, body: { stringData: { keys: text } } },
          mergePatch,
        );
      },
      async countDownloads() {
        return (await new VideoDownloads(kube, namespace).list()).length;
      },
      memory() {
        const status = readFileSync(`/proc/${api.pid}/status`, 'utf8');
        const bytes = (field: string) => {
          const kilobytes = new RegExp(`^${field}:\\s+(\\d+) kB$`, 'm').exec(status)?.[1];
          if (!kilobytes) throw new Error(`no ${field} for the API (pid ${api.pid}): ${api.exit}`);
          return Number(kilobytes) * 1024;
        };
        return { rssBytes: bytes('VmRSS'), peakBytes: bytes('VmHWM') };
      },
      logTail: first.logTail,
      startReplica: (extra = {}) => spawn({ ...env, ...extra }),
      apiKubeconfig,
      async stop() {
        for (const child of children) await child.stop();
        await plane.stop();
      },
    };
  } catch (error) {
    for (const child of children) await child.stop();
    await plane.stop();
    throw error;
  }
}
