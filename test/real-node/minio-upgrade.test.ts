// helm upgrade with files in the bundled MinIO, on the real node: a chart of a
// new version (and another value) does not touch the MinIO pod, a value that
// does replace it finds the files on its volume, the credentials stay, and
// going back to charts/vdl loses nothing either. The release ends as the
// other files of this project expect it: charts/vdl with the install's values.
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { namespace, release } from './cluster.ts';
import {
  call,
  chart,
  core,
  type Forwards,
  helmRelease,
  mediaUrl,
  openForwards,
  sha256Of,
  stateOf,
  submit,
} from './users.ts';

const minioSelector = `app.kubernetes.io/instance=${release},app.kubernetes.io/component=minio`;

/** charts/vdl copied, with its Chart.yaml version bumped as a release of the chart would. */
function bumpedChart(): { dir: string; version: string } {
  const dir = join(mkdtempSync(join(tmpdir(), 'vdl-chart-next-')), 'vdl');
  cpSync(chart, dir, { recursive: true });
  const file = join(dir, 'Chart.yaml');
  const text = readFileSync(file, 'utf8');
  const current = /^version: (\S+)$/m.exec(text)?.[1];
  const version = `${current}-next.1`;
  writeFileSync(file, text.replace(/^version: .*$/m, `version: ${version}`));
  return { dir, version };
}

async function minioPod() {
  const pods = (await core.listNamespacedPod({ namespace, labelSelector: minioSelector })).items.filter(
    (pod) => !pod.metadata?.deletionTimestamp,
  );
  expect(pods).toHaveLength(1);
  return pods[0];
}

async function credentials(): Promise<Record<string, string> | undefined> {
  return (await core.readNamespacedSecret({ name: `${release}-minio`, namespace })).data;
}

let forwards: Forwards | undefined;
const chartCopies: string[] = [];
afterAll(async () => {
  await forwards?.close();
  for (const dir of chartCopies) rmSync(dir, { recursive: true, force: true });
});

/** The stored file as a user fetches it: through the API's presigned link, over a fresh port-forward. */
async function storedSha256(id: string): Promise<string> {
  // A port-forward to a Service holds on to the pod it picked: open new ones after a rollout.
  await forwards?.close();
  forwards = await openForwards();
  const result = await call(forwards.api, 'GET', `/result/${id}`);
  expect(result.status, JSON.stringify(result.json)).toBe(200);
  return sha256Of(result.json.url);
}

describe('helm upgrade with MinIO data present', () => {
  it('keeps every stored file and the credentials across a chart version bump, a MinIO pod replacement and the way back', async () => {
    forwards = await openForwards();
    const source = await sha256Of(`${forwards.media.url}/progressive.mp4`);
    const id = await submit(forwards.api, { url: mediaUrl('/progressive.mp4') });
    await stateOf(forwards.api, id, ['DONE']);
    expect(await storedSha256(id)).toBe(source);
    const keys = await credentials();
    expect(Object.keys(keys ?? {}).sort()).toEqual(['accessKey', 'secretKey']);
    const before = await minioPod();

    let restored = false;
    try {
      // A new chart version, and a value of another component: the MinIO pod is left alone.
      const next = bumpedChart();
      chartCopies.push(join(next.dir, '..'));
      await helmRelease('upgrade', ['operator.logLevel=debug'], next.dir);
      expect(await storedSha256(id)).toBe(source);
      const afterBump = await minioPod();
      expect(afterBump?.metadata?.uid).toBe(before?.metadata?.uid);
      const operators = await core.listNamespacedPod({
        namespace,
        labelSelector: `app.kubernetes.io/instance=${release},app.kubernetes.io/component=operator`,
      });
      // The bump did reach the pods whose template carries the chart version.
      expect(operators.items.map((pod) => pod.metadata?.labels?.['helm.sh/chart'])).toContain(
        `vdl-${next.version}`,
      );

      // A value that changes MinIO's own pod: a new pod (Recreate), the same volume and files.
      await helmRelease(
        'upgrade',
        ['operator.logLevel=debug', 'minio.resources.requests.cpu=150m'],
        next.dir,
      );
      const replaced = await minioPod();
      expect(replaced?.metadata?.uid).not.toBe(before?.metadata?.uid);
      expect(await storedSha256(id)).toBe(source);
      expect(await credentials()).toEqual(keys);

      // Back to charts/vdl as installed.
      await helmRelease('upgrade');
      restored = true;
      expect((await minioPod())?.metadata?.uid).not.toBe(replaced?.metadata?.uid);
      expect(await storedSha256(id)).toBe(source);
      expect(await credentials()).toEqual(keys);
    } finally {
      if (!restored) await helmRelease('upgrade');
    }
  });
});
