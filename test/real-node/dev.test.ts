// `make dev` on a real node, as a new user runs it: the sample download goes
// through the API to DONE in a containerd container, and Ctrl-C (SIGTERM)
// stops everything. Its own control plane and node run beside the suite's.
import { spawn } from 'node:child_process';
import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as k8s from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { freePort } from '../cluster/readiness.ts';
import { eventually } from '../support/eventually.ts';
import { kubeConfigFrom } from '../support/kube.ts';

const main = new URL('../dev-environment/main.ts', import.meta.url).pathname;

describe('make dev on a real node', () => {
  it('downloads the sample in a containerd container and stops on SIGTERM', async () => {
    const devDir = await mkdtemp(join(tmpdir(), 'vdl-dev-real-'));
    const child = spawn(process.execPath, [main], {
      env: {
        ...process.env,
        VDL_TEST_NODE: 'real',
        VDL_DEV_DIR: devDir,
        VDL_API_PORT: String(await freePort()),
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
    try {
      await new Promise<void>((resolve, reject) => {
        const onData = (data: Buffer) => {
          output += data.toString();
          if (output.includes('vdl is running')) resolve();
        };
        child.stdout.on('data', onData);
        child.stderr.on('data', onData);
        void exited.then((code) =>
          reject(new Error(`make dev exited ${code} before it was ready:\n${output}`)),
        );
      });
      expect(output).toContain('a real node: every download runs in a containerd container');
      const env = Object.fromEntries(
        (await readFile(join(devDir, 'env'), 'utf8'))
          .split('\n')
          .filter(Boolean)
          .map(
            (line) =>
              line
                .replace(/^export /, '')
                .split(/=(.*)/s)
                .slice(0, 2) as [string, string],
          ),
      );
      const headers = { authorization: `Bearer ${env.VDL_API_KEY}`, 'content-type': 'application/json' };
      const submitted = await fetch(`${env.VDL_API_URL}/download`, {
        method: 'POST',
        headers,
        body: JSON.stringify({ url: env.VDL_SAMPLE_URL }),
      });
      expect(submitted.status).toBe(202);
      const { job_id: id } = (await submitted.json()) as { job_id: string };
      await eventually(
        `${id} to be DONE`,
        async () => {
          const status = (await (await fetch(`${env.VDL_API_URL}/status/${id}`, { headers })).json()) as {
            state: string;
          };
          if (status.state === 'FAILED') throw new Error(`failed: ${JSON.stringify(status)}`);
          return status.state === 'DONE' ? true : undefined;
        },
        { timeoutMs: 120_000, intervalMs: 500 },
      );
      const core = kubeConfigFrom(env.KUBECONFIG as string).makeApiClient(k8s.CoreV1Api);
      const pods = await core.listNamespacedPod({
        namespace: env.VDL_NAMESPACE as string,
        labelSelector: `vdl.dev/download=${id}`,
      });
      expect(pods.items[0]?.status?.containerStatuses?.[0]?.containerID).toMatch(/^containerd:\/\//);
    } finally {
      child.kill('SIGTERM');
    }
    expect(await exited).toBe(0);
  });
});
