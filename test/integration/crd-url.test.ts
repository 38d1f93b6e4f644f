// spec.url on the real API server: the CRD's CEL rule refuses the URLs the
// API's zod rule refuses and accepts what the API stores, with a message that
// names spec.url and shows the value (test/contract/url-rule.test.ts checks
// the same table in JavaScript; this is CEL's RE2 on the API server).
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import * as k8s from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createTestNamespace, deleteNamespace, kubeConfigFrom } from '../support/kube.ts';
import { urlCases } from '../support/url-cases.ts';

const { accepted, apiStores, crdAccepts, oddUrls, refused, rewritten } = urlCases;

import { installCrd } from '../support/vdl.ts';
import { toolPath } from '../toolchain/tools.ts';

const run = promisify(execFile);
const kubeconfig = inject('adminKubeconfig');
const config = kubeConfigFrom(kubeconfig);
const objects = config.makeApiClient(k8s.CustomObjectsApi);
let namespace: string;

beforeAll(async () => {
  await installCrd(config);
  namespace = await createTestNamespace(config, 'crd-url');
});
afterAll(async () => {
  await deleteNamespace(config, namespace);
});

let counter = 0;
/** A server-side dry-run create: the API server's answer, nothing stored. Undefined when it accepts. */
async function refusal(url: string): Promise<string | undefined> {
  try {
    await objects.createNamespacedCustomObject({
      group: 'vdl.dev',
      version: 'v1alpha1',
      plural: 'videodownloads',
      namespace,
      dryRun: 'All',
      body: {
        apiVersion: 'vdl.dev/v1alpha1',
        kind: 'VideoDownload',
        metadata: { name: `url-${counter++}` },
        spec: { url },
      },
    });
    return undefined;
  } catch (error) {
    const { code, body } = error as { code?: number; body?: string };
    if (code !== 422) throw error;
    return String(body);
  }
}

describe('spec.url on the API server', () => {
  it.each([...refused, ...rewritten])('refuses %j, naming spec.url', async (url) => {
    const message = await refusal(url);
    expect(message).toMatch(/spec\.url/);
  });

  it.each([...accepted, ...rewritten])('accepts %j as the API stores it', async (url) => {
    expect(await refusal(apiStores(url) as string)).toBeUndefined();
  });

  it('agrees with the pattern as JavaScript runs it, on hundreds of odd hosts', async () => {
    const disagreements: string[] = [];
    for (const written of oddUrls(300, 7)) {
      for (const url of [written, apiStores(written)].filter((u): u is string => u !== undefined)) {
        if (((await refusal(url)) === undefined) !== crdAccepts(url)) disagreements.push(url);
      }
    }
    expect(disagreements).toEqual([]);
  });

  it.each([
    [
      'https://',
      /spec\.url: Invalid value: .*spec\.url must be an http or https URL.*not \\?"https:\/\/\\?"/,
    ],
    ['https://exa mple.com/x', /spec\.url: Invalid value: .*not \\?"https:\/\/exa mple\.com\/x\\?"/],
  ])('tells kubectl apply of %j what is wrong with spec.url', async (url, message) => {
    const manifest = JSON.stringify({
      apiVersion: 'vdl.dev/v1alpha1',
      kind: 'VideoDownload',
      metadata: { name: 'bad-url', namespace },
      spec: { url },
    });
    const applied = new Promise<string>((resolve) => {
      const child = execFile(
        toolPath('kubectl'),
        ['--kubeconfig', kubeconfig, 'apply', '-f', '-'],
        (error, _stdout, stderr) => resolve(error ? stderr : 'applied'),
      );
      child.stdin?.end(manifest);
    });
    expect(await applied).toMatch(message);
  });

  it('shows defaults and bounds in kubectl explain', async () => {
    const explain = async (field: string) =>
      (await run(toolPath('kubectl'), ['--kubeconfig', kubeconfig, 'explain', field])).stdout;
    expect(await explain('videodownload.spec.retries')).toMatch(/Default: 2\. Minimum 0, maximum 10\./);
    expect(await explain('videodownload.spec.ttlSecondsAfterFinished')).toMatch(
      /Minimum 0, maximum 2592000\./,
    );
    expect(await explain('videodownload.spec.format.preset')).toMatch(/Default: "best"\./);
    expect(await explain('videodownload.spec.url')).toMatch(/At most 8192 characters\./);
  });
});
