// The chart rendered by `helm template`, the one way every test renders it;
// and its identities and what limits them (ServiceAccounts, Roles and
// bindings, and the admission policy that narrows the downloader's status
// writes) applied for real: the local environment and the tests run the
// programs under exactly what a cluster would enforce.
import { execFile } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import type * as k8s from '@kubernetes/client-node';
import { parseAllDocuments } from 'yaml';
import { toolPath } from '../toolchain/tools.ts';

const run = promisify(execFile);
export const chart = fileURLToPath(new URL('../../charts/vdl', import.meta.url));
export const release = 'vdl';

/** What of the chart says who may do what. */
export const chartRbacKinds = [
  'ServiceAccount',
  'Role',
  'RoleBinding',
  'ClusterRole',
  'ClusterRoleBinding',
  'ValidatingAdmissionPolicy',
  'ValidatingAdmissionPolicyBinding',
];

/** Values that render the chart without its MinIO and NetworkPolicy, for the local environment. */
export const localChartValues = [
  'minio.enabled=false',
  's3.endpoint=http://127.0.0.1:9000',
  's3.existingSecret=vdl-s3',
  'networkPolicy.enabled=false',
];

/** One object of the rendered chart. */
export interface Manifest {
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string> };
  spec?: Record<string, unknown>;
}

/** Runs helm (template, lint) and returns what it printed. */
export async function helm(args: string[]): Promise<string> {
  const { stdout } = await run(toolPath('helm'), args, { maxBuffer: 16 * 1024 * 1024 });
  return stdout;
}

/** The chart as helm template prints it for a release in namespace, with --set values and other flags. */
export function renderChartText(
  namespace: string,
  values: string[] = [],
  flags: string[] = [],
): Promise<string> {
  return helm([
    'template',
    release,
    chart,
    '--namespace',
    namespace,
    ...values.flatMap((value) => ['--set', value]),
    ...flags,
  ]);
}

/** The chart's objects, parsed. */
export async function renderChart(
  namespace: string,
  values: string[] = [],
  flags: string[] = [],
): Promise<Manifest[]> {
  return parseAllDocuments(await renderChartText(namespace, values, flags))
    .map((document) => document.toJSON() as Manifest | null)
    .filter((item): item is Manifest => Boolean(item?.kind));
}

/** The chart's RBAC objects for a release in namespace. */
export async function renderChartRbac(namespace: string, values: string[] = localChartValues) {
  return (await renderChart(namespace, values)).filter((item) => chartRbacKinds.includes(item.kind));
}

/** Applies the chart's RBAC and admission policy with kubectl, as `helm install` would create them. */
export async function applyChartRbac(
  config: k8s.KubeConfig,
  namespace: string,
  values: string[] = localChartValues,
): Promise<void> {
  const items = await renderChartRbac(namespace, values);
  const kubeconfig = join(mkdtempSync(join(tmpdir(), 'vdl-kubeconfig-')), 'config');
  writeFileSync(kubeconfig, config.exportConfig(), { mode: 0o600 });
  await new Promise<void>((resolve, reject) => {
    const child = execFile(
      toolPath('kubectl'),
      ['--kubeconfig', kubeconfig, 'apply', '-n', namespace, '-f', '-'],
      (error, _out, stderr) =>
        error ? reject(new Error(`applying the chart's RBAC failed: ${stderr}`)) : resolve(),
    );
    child.stdin?.end(JSON.stringify({ apiVersion: 'v1', kind: 'List', items }));
  });
}
