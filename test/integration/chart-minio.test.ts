// The bundled MinIO as the chart renders it: its files on a
// PersistentVolumeClaim (or a claim of the user's, or an emptyDir when asked),
// its pod template the same for any chart version (a chart bump alone must not
// replace the pod holding the files), and a Secret of the user's in place of
// the generated one, for tools that render without a cluster.
import { cpSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { chart, helm, type Manifest, release, renderChart } from '../support/chart-render.ts';

const namespace = 'vdl';
type Deployment = Manifest & {
  spec: { strategy: unknown; template: { metadata: Record<string, unknown>; spec: PodSpec } };
};
interface PodSpec {
  volumes: Array<{ name: string; persistentVolumeClaim?: { claimName: string }; emptyDir?: unknown }>;
  containers: Array<{ env: Array<{ name: string; valueFrom?: { secretKeyRef?: { name: string } } }> }>;
}

const minioOf = (manifests: Manifest[]) =>
  manifests.find(
    (item) => item.kind === 'Deployment' && item.metadata.name === `${release}-minio`,
  ) as Deployment;
const dataVolume = (deployment: Deployment) =>
  deployment.spec.template.spec.volumes.find((volume) => volume.name === 'data');

/** charts/vdl copied with another chart version and appVersion, rendered. */
async function renderBumped(version: string): Promise<Manifest[]> {
  const dir = join(mkdtempSync(join(tmpdir(), 'vdl-chart-')), 'vdl');
  cpSync(chart, dir, { recursive: true });
  const file = join(dir, 'Chart.yaml');
  writeFileSync(
    file,
    readFileSync(file, 'utf8')
      .replace(/^version: .*$/m, `version: ${version}`)
      .replace(/^appVersion: .*$/m, `appVersion: "${version}"`),
  );
  const text = await helm(['template', release, dir, '--namespace', namespace]);
  return parseAllDocuments(text)
    .map((document) => document.toJSON() as Manifest | null)
    .filter((item): item is Manifest => Boolean(item?.kind));
}

describe('the bundled MinIO', () => {
  it('keeps its files on a PersistentVolumeClaim of the chart by default', async () => {
    const manifests = await renderChart(namespace);
    const claim = manifests.find((item) => item.kind === 'PersistentVolumeClaim');
    expect(claim?.metadata.name).toBe(`${release}-minio`);
    expect(claim?.spec).toEqual({
      accessModes: ['ReadWriteOnce'],
      resources: { requests: { storage: '20Gi' } },
    });
    const minio = minioOf(manifests);
    expect(dataVolume(minio)).toEqual({
      name: 'data',
      persistentVolumeClaim: { claimName: `${release}-minio` },
    });
    expect(minio.spec.strategy).toEqual({ type: 'Recreate' });
  });

  it('uses a claim of the user instead, a StorageClass, or an emptyDir when persistence is off', async () => {
    const own = await renderChart(namespace, ['minio.persistence.existingClaim=mine']);
    expect(own.filter((item) => item.kind === 'PersistentVolumeClaim')).toEqual([]);
    expect(dataVolume(minioOf(own))).toEqual({ name: 'data', persistentVolumeClaim: { claimName: 'mine' } });
    const classed = await renderChart(namespace, [
      'minio.persistence.storageClass=fast',
      'minio.persistence.size=5Gi',
    ]);
    expect(classed.find((item) => item.kind === 'PersistentVolumeClaim')?.spec).toMatchObject({
      storageClassName: 'fast',
      resources: { requests: { storage: '5Gi' } },
    });
    const none = await renderChart(namespace, ['minio.persistence.storageClass=-']);
    expect(none.find((item) => item.kind === 'PersistentVolumeClaim')?.spec).toMatchObject({
      storageClassName: '',
    });
    const ephemeral = await renderChart(namespace, ['minio.persistence.enabled=false']);
    expect(ephemeral.filter((item) => item.kind === 'PersistentVolumeClaim')).toEqual([]);
    expect(dataVolume(minioOf(ephemeral))).toEqual({ name: 'data', emptyDir: { sizeLimit: '20Gi' } });
  });

  it('renders the same MinIO pod template for another chart version and appVersion', async () => {
    const [current, bumped] = await Promise.all([renderBumped('0.1.0'), renderBumped('9.8.7')]);
    expect(minioOf(bumped).metadata.labels?.['helm.sh/chart']).toBe('vdl-9.8.7');
    expect(minioOf(bumped).spec.template).toEqual(minioOf(current).spec.template);
    // What does change with the version still does elsewhere: the operator's pods roll.
    const operator = (manifests: Manifest[]) =>
      (
        manifests.find(
          (item) => item.metadata.name === `${release}-operator` && item.kind === 'Deployment',
        ) as Deployment
      ).spec.template;
    expect(operator(bumped)).not.toEqual(operator(current));
  });

  it('takes the credentials from minio.existingSecret, and then generates none', async () => {
    const manifests = await renderChart(namespace, ['minio.existingSecret=my-minio']);
    expect(
      manifests.filter((item) => item.kind === 'Secret' && item.metadata.name === `${release}-minio`),
    ).toEqual([]);
    const secretRefs = manifests
      .filter((item): item is Deployment => item.kind === 'Deployment')
      .flatMap((deployment) => deployment.spec.template.spec.containers)
      .flatMap((container) => container.env ?? [])
      .filter((env) => /S3_(ACCESS|SECRET)_KEY$|^MINIO_ROOT_/.test(env.name))
      .map((env) => env.valueFrom?.secretKeyRef?.name);
    // MinIO's root user and password, and the operator's and the API's storage keys.
    expect(secretRefs).toHaveLength(6);
    expect(new Set(secretRefs)).toEqual(new Set(['my-minio']));
  });

  it('generates new credentials at each helm template without a cluster: why Argo CD users set minio.existingSecret', async () => {
    const secret = async () =>
      (await renderChart(namespace)).find(
        (item) => item.kind === 'Secret' && item.metadata.name === `${release}-minio`,
      ) as (Manifest & { data: Record<string, string> }) | undefined;
    const [first, second] = await Promise.all([secret(), secret()]);
    expect(first?.data.secretKey).not.toBe(second?.data.secretKey);
  });
});
