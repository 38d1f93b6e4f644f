// The Helm chart: lint, render several value combinations, apply every
// rendered manifest to the real API server (server-side dry-run) in a
// namespace that enforces the restricted Pod Security Standard, and check
// each service account's permissions with kubectl auth can-i.
import { execFile } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { VideoDownloadSpec } from '../../crds/video-download.ts';
import { loadOperatorConfig } from '../../operator/config.ts';
import { desiredJob } from '../../operator/controllers/video-download/desired-job.ts';
import { chart, helm, renderChart, renderChartText } from '../support/chart-render.ts';
import { createNamespace, deleteNamespace, kubeConfigFrom, uniqueName } from '../support/kube.ts';
import { installCrd } from '../support/vdl.ts';
import { toolPath } from '../toolchain/tools.ts';

const kubeconfig = inject('adminKubeconfig');
const config = kubeConfigFrom(kubeconfig);
let namespace: string;

async function kubectl(args: string[], input?: string): Promise<{ stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = execFile(
      toolPath('kubectl'),
      ['--kubeconfig', kubeconfig, ...args],
      { maxBuffer: 16 * 1024 * 1024 },
      (error, stdout, stderr) =>
        error
          ? reject(new Error(`kubectl ${args.join(' ')}: ${stderr || error.message}`))
          : resolve({ stdout, stderr }),
    );
    if (input !== undefined) child.stdin?.end(input);
  });
}

const render = (values: string[] = []) => renderChartText(namespace, values);

beforeAll(async () => {
  await installCrd(config);
  namespace = uniqueName('chart');
  // The chart's test pod uses the default service account, which createNamespace waits for.
  await createNamespace(config, namespace, {
    'pod-security.kubernetes.io/enforce': 'restricted',
    'pod-security.kubernetes.io/warn': 'restricted',
  });
});
afterAll(async () => {
  await deleteNamespace(config, namespace);
});

describe('the vdl chart', () => {
  it('passes helm lint --strict', async () => {
    expect(await helm(['lint', '--strict', chart])).toMatch(/1 chart\(s\) linted, 0 chart\(s\) failed/);
  });

  it.each([
    ['default values', []],
    [
      'external S3',
      [
        'minio.enabled=false',
        's3.endpoint=https://s3.example.com',
        's3.existingSecret=my-s3',
        'networkPolicy.s3CIDRs={203.0.113.0/24}',
      ],
    ],
    ['cluster-wide watching', ['operator.clusterWide=true']],
    [
      'an ingress with TLS',
      ['api.ingress.enabled=true', 'api.ingress.host=vdl.example.com', 'api.ingress.tlsSecret=vdl-tls'],
    ],
    [
      'single replicas, no PDB, no NetworkPolicy',
      ['operator.replicas=1', 'api.replicas=1', 'networkPolicy.enabled=false'],
    ],
    ['a closed API server rule', ['networkPolicy.apiServerCIDRs={172.18.0.2/32}']],
  ])(
    'renders %s into manifests the API server accepts, restricted pod security included',
    async (_name, values) => {
      const manifests = await render(values);
      const kinds = parseAllDocuments(manifests)
        .map((d) => (d.toJSON() as { kind?: string } | null)?.kind)
        .filter(Boolean);
      expect(kinds).toEqual(expect.arrayContaining(['Deployment', 'Service', 'ServiceAccount']));
      const { stderr } = await kubectl(['apply', '--dry-run=server', '-n', namespace, '-f', '-'], manifests);
      expect(stderr).not.toMatch(/violate PodSecurity/);
    },
  );

  it.each([
    ['by default, kept on uninstall', [], 'keep'],
    ['with crds.keep=false, deleted on uninstall', ['crds.keep=false'], undefined],
  ])('templates the CRD %s, so helm upgrade updates it', async (_name, values, policy) => {
    const crds = (await renderChart(namespace, values)).filter((d) => d.kind === 'CustomResourceDefinition');
    expect(crds.map((crd) => crd.metadata.name)).toEqual(['videodownloads.vdl.dev']);
    const metadata = crds[0]?.metadata as { annotations?: Record<string, string> } | undefined;
    expect(metadata?.annotations?.['helm.sh/resource-policy']).toBe(policy);
  });

  it('leaves the CRD to you with crds.install=false', async () => {
    const kinds = (await renderChart(namespace, ['crds.install=false'])).map((d) => d.kind);
    expect(kinds).not.toContain('CustomResourceDefinition');
    expect(kinds).toContain('Deployment');
  });

  it('makes download Jobs that meet the restricted Pod Security Standard', async () => {
    const job = desiredJob(
      {
        apiVersion: 'vdl.dev/v1alpha1',
        kind: 'VideoDownload',
        metadata: { name: 'psa', namespace, uid: '00000000-0000-0000-0000-000000000001' },
        spec: VideoDownloadSpec.parse({ url: 'https://example.com/v' }),
      },
      loadOperatorConfig({}),
    );
    delete job.metadata?.ownerReferences;
    const { stderr } = await kubectl(
      ['apply', '--dry-run=server', '-n', namespace, '-f', '-'],
      JSON.stringify(job),
    );
    expect(stderr).not.toMatch(/violate PodSecurity/);
  });

  it.each([
    ['operator.replicas=0', /replicas/],
    ['image.pullPolicy=Sometimes', /pullPolicy/],
    ['networkPolicy.apiServerCIDRs={not-a-cidr}', /apiServerCIDRs/],
    ['downloader.workDirSizeLimit=lots', /workDirSizeLimit/],
    ['surprise=1', /surprise/],
    ['minio.enabled=false', /s3.existingSecret is required|s3.endpoint is required/],
  ])('refuses the bad value %s', async (value, message) => {
    await expect(render([value])).rejects.toThrow(message);
  });
});

describe('RBAC of the chart', () => {
  const sa = (name: string) => `system:serviceaccount:${namespace}:vdl-${name}`;
  // "resource:subresource" asks about a subresource; "resource/name" about one object.
  const can = async (who: string, verb: string, resource: string) => {
    const [target, subresource] = resource.split(':');
    const extra = subresource ? [`--subresource=${subresource}`] : [];
    // can-i prints yes (exit 0) or no (exit 1); anything else is a failure of the test, not a "no".
    const answer = await new Promise<string>((resolve, reject) => {
      execFile(
        toolPath('kubectl'),
        [
          '--kubeconfig',
          kubeconfig,
          'auth',
          'can-i',
          verb,
          target as string,
          '--as',
          sa(who),
          '-n',
          namespace,
          ...extra,
        ],
        (error, stdout, stderr) => {
          const said = stdout.trim();
          if (said === 'yes' || said === 'no') resolve(said);
          else reject(new Error(`kubectl auth can-i failed: ${stderr || error?.message}`));
        },
      );
    });
    return answer === 'yes';
  };

  beforeAll(async () => {
    const rbac = (await renderChart(namespace)).filter((d) =>
      ['ServiceAccount', 'Role', 'RoleBinding'].includes(d.kind),
    );
    await kubectl(
      ['apply', '-n', namespace, '-f', '-'],
      JSON.stringify({ apiVersion: 'v1', kind: 'List', items: rbac }),
    );
  });

  it.each([
    ['operator', 'watch', 'videodownloads.vdl.dev'],
    ['operator', 'patch', 'videodownloads.vdl.dev:status'],
    ['operator', 'delete', 'videodownloads.vdl.dev'],
    ['operator', 'create', 'jobs.batch'],
    ['operator', 'delete', 'jobs.batch'],
    ['operator', 'watch', 'pods'],
    ['operator', 'create', 'events'],
    ['operator', 'update', 'leases.coordination.k8s.io/vdl-operator'],
    ['operator', 'update', 'videodownloads.vdl.dev:finalizers'],
    ['api', 'create', 'videodownloads.vdl.dev'],
    ['api', 'watch', 'videodownloads.vdl.dev'],
    ['api', 'delete', 'videodownloads.vdl.dev'],
    ['api', 'get', 'secrets/vdl-api-keys'],
    ['api', 'update', 'configmaps'],
    ['api', 'create', 'configmaps'],
    ['downloader', 'patch', 'videodownloads.vdl.dev:status'],
    ['uninstall-drain', 'patch', 'deployments.apps/vdl-operator:scale'],
    ['uninstall-drain', 'patch', 'videodownloads.vdl.dev:status'],
    ['uninstall-drain', 'delete', 'jobs.batch'],
    ['uninstall-drain', 'list', 'pods'],
  ])('lets the %s %s %s', async (who, verb, resource) => {
    expect(await can(who, verb, resource)).toBe(true);
  });

  it.each([
    ['operator', 'get', 'secrets'],
    ['operator', 'create', 'pods'],
    ['operator', 'update', 'videodownloads.vdl.dev'],
    ['operator', 'update', 'leases.coordination.k8s.io/someone-else'],
    ['operator', 'create', 'videodownloads.vdl.dev'],
    ['api', 'get', 'secrets/other-secret'],
    ['api', 'list', 'secrets'],
    ['api', 'patch', 'videodownloads.vdl.dev:status'],
    ['api', 'patch', 'videodownloads.vdl.dev'],
    ['api', 'create', 'jobs.batch'],
    ['api', 'list', 'pods'],
    ['api', 'list', 'configmaps'],
    ['api', 'watch', 'configmaps'],
    ['api', 'patch', 'configmaps'],
    ['api', 'delete', 'configmaps'],
    ['downloader', 'get', 'videodownloads.vdl.dev'],
    ['downloader', 'update', 'videodownloads.vdl.dev:status'],
    ['api', 'update', 'videodownloads.vdl.dev:status'],
    ['downloader', 'patch', 'videodownloads.vdl.dev'],
    ['downloader', 'delete', 'videodownloads.vdl.dev'],
    ['downloader', 'get', 'secrets'],
    ['downloader', 'create', 'pods'],
    ['downloader', 'list', 'configmaps'],
    ['uninstall-drain', 'patch', 'deployments.apps/vdl-api:scale'],
    ['uninstall-drain', 'patch', 'deployments.apps/vdl-operator'],
    ['uninstall-drain', 'create', 'jobs.batch'],
    ['uninstall-drain', 'delete', 'videodownloads.vdl.dev'],
    ['uninstall-drain', 'delete', 'pods'],
    ['uninstall-drain', 'get', 'secrets'],
  ])('does not let the %s %s %s', async (who, verb, resource) => {
    expect(await can(who, verb, resource)).toBe(false);
  });
});
