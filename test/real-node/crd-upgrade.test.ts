// helm upgrade updates the VideoDownload CRD: the chart templates it (with
// helm.sh/resource-policy: keep) instead of shipping it in crds/, which Helm
// installs once and never touches again. A later chart whose CRD adds a spec
// field is simulated by a copy of the chart with one more optional field and
// a bumped version; after `helm upgrade` to it, a VideoDownload keeps the new
// field instead of having it pruned by the API server. A CRD left by an older
// chart (crds/, so no Helm ownership) is adopted with the README's commands.
// The release is back on this worktree's chart at the end, as the other files
// of this project expect it.
import { cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as k8s from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestNamespace, deleteNamespace } from '../support/kube.ts';
import { helm, kubectl, namespace, release } from './cluster.ts';
import { chart, config, custom, helmRelease, kubeconfig } from './users.ts';

const crdName = 'videodownloads.vdl.dev';
const extensions = config.makeApiClient(k8s.ApiextensionsV1Api);
/** Where the chart keeps its CRD, relative to the chart. */
const crdInChart = 'templates/crd-videodownloads.yaml';
const newField = 'addedByUpgrade';

let dir: string;
// The operator watches only the release namespace: a download elsewhere is not started.
let otherNamespace: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'vdl-crd-upgrade-'));
  otherNamespace = await createTestNamespace(config, 'crd-upgrade');
});
afterAll(async () => {
  await deleteNamespace(config, otherNamespace);
  await rm(dir, { recursive: true, force: true });
});

/** A copy of the chart as its next version: one more optional spec field in the CRD, a bumped version. */
async function nextChart(): Promise<{ dir: string; version: string }> {
  const next = join(dir, 'vdl');
  await cp(chart, next, { recursive: true });
  const crdFile = join(next, crdInChart);
  const crd = await readFile(crdFile, 'utf8');
  // spec's first property, url, at its indentation in the generated file.
  const specUrl =
    '\n            spec:\n              type: object\n              properties:\n                url:\n';
  expect(crd).toContain(specUrl);
  await writeFile(
    crdFile,
    crd.replace(
      specUrl,
      `\n            spec:\n              type: object\n              properties:\n                ${newField}:\n                  type: string\n                  description: A field only the next chart version has.\n                url:\n`,
    ),
  );
  const chartYaml = join(next, 'Chart.yaml');
  const text = await readFile(chartYaml, 'utf8');
  const [major, minor, patch] = (text.match(/^version: (\d+)\.(\d+)\.(\d+)$/m) ?? []).slice(1).map(Number);
  expect(patch).toBeTypeOf('number');
  const version = `${major}.${minor}.${(patch as number) + 1}`;
  await writeFile(chartYaml, text.replace(/^version: .+$/m, `version: ${version}`));
  return { dir: next, version };
}

async function specProperties(): Promise<string[]> {
  const crd = await extensions.readCustomResourceDefinition({ name: crdName });
  return Object.keys(crd.spec.versions[0]?.schema?.openAPIV3Schema?.properties?.spec?.properties ?? {});
}

describe('the CRD across helm upgrade on the real node', () => {
  it('adopts a CRD without Helm ownership, as an older chart left it, with the commands in the README', async () => {
    // A release whose manifest has no CRD (crds.install=false; keep leaves the
    // CRD in place), and a CRD as Helm leaves it from a chart's crds/: without
    // the ownership label and annotations.
    await helmRelease('upgrade', ['crds.install=false']);
    expect(await specProperties()).toContain('url');
    await kubectl(['label', 'crd', crdName, 'app.kubernetes.io/managed-by-'], kubeconfig);
    await kubectl(
      ['annotate', 'crd', crdName, 'meta.helm.sh/release-name-', 'meta.helm.sh/release-namespace-'],
      kubeconfig,
    );
    await expect(helmRelease('upgrade')).rejects.toThrow(/invalid ownership metadata/);
    // README, "Install on a cluster": adopting the CRD of a release installed before 0.2.
    await kubectl(['label', 'crd', crdName, 'app.kubernetes.io/managed-by=Helm'], kubeconfig);
    await kubectl(
      [
        'annotate',
        'crd',
        crdName,
        `meta.helm.sh/release-name=${release}`,
        `meta.helm.sh/release-namespace=${namespace}`,
      ],
      kubeconfig,
    );
    await helmRelease('upgrade');
    const crd = await extensions.readCustomResourceDefinition({ name: crdName });
    expect(crd.metadata?.annotations).toMatchObject({
      'meta.helm.sh/release-name': release,
      'helm.sh/resource-policy': 'keep',
    });
  });

  it('applies a new CRD field on helm upgrade, so a VideoDownload keeps it, and upgrades back', async () => {
    const next = await nextChart();
    expect(await specProperties()).not.toContain(newField);
    let upgraded = false;
    try {
      await helmRelease('upgrade', [], next.dir);
      upgraded = true;
      const releases = await helm(['list', '--namespace', namespace, '-o', 'json'], kubeconfig);
      expect(JSON.parse(releases)).toEqual([
        expect.objectContaining({ name: release, chart: `vdl-${next.version}` }),
      ]);

      const body = {
        apiVersion: 'vdl.dev/v1alpha1',
        kind: 'VideoDownload',
        metadata: { name: 'with-new-field' },
        spec: { url: 'https://videos.example/v', [newField]: 'kept' },
      };
      const object = { group: 'vdl.dev', version: 'v1alpha1', plural: 'videodownloads' };
      await custom.createNamespacedCustomObject({ ...object, namespace: otherNamespace, body });
      const read = (await custom.getNamespacedCustomObject({
        ...object,
        namespace: otherNamespace,
        name: 'with-new-field',
      })) as { spec: Record<string, unknown> };
      // With the CRD in the chart's crds/, Helm leaves the old schema and the API server prunes the field.
      expect(read.spec[newField]).toBe('kept');
      expect(await specProperties()).toContain(newField);
    } finally {
      // Back to this worktree's chart, and its CRD, for the files after this one.
      if (upgraded) await helmRelease('upgrade');
    }
    expect(await specProperties()).not.toContain(newField);
  });
});
