// Issue 19's "done when", on the real node: a VideoDownload (kubectl apply)
// with a webhook and a volume target ends with the file at its templated
// path on a local PersistentVolume, owned by the uid and gid asked for,
// with tags and a cover ffprobe sees; the webhook receiver on the host,
// down for a minute after the download finished, still gets exactly one
// event whose signature it verifies. Deleting the download then removes the
// file (a cleanup Job) and the folders it made, not the volume.
import { execFile } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { chown, mkdtemp, readdir, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { stringify } from 'yaml';
import { eventually } from '../support/eventually.ts';
import { describedVideo } from '../support/media-server.ts';
import { WebhookReceiver } from '../support/webhook-receiver.ts';
import { toolPath } from '../toolchain/tools.ts';
import { kubectl, mediaClaim, namespace } from './cluster.ts';
import { call, core, downloadObject, type Forwards, kubeconfig, mediaUrl, openForwards } from './users.ts';

const run = promisify(execFile);
const mediaUid = 1000;
const mediaGid = 1001;
const secret = randomBytes(32).toString('base64');
const receiver = new WebhookReceiver(secret, inject('realWebhook').port, inject('realWebhook').host);
let forwards: Forwards;
let library: string;

beforeAll(async () => {
  forwards = await openForwards();
  // The media library: a folder on the node owned by the user the files should belong to.
  library = await mkdtemp(join(tmpdir(), 'vdl-library-'));
  await chown(library, mediaUid, mediaGid);
  const capacity = { storage: '1Gi' };
  await core.createPersistentVolume({
    body: {
      metadata: { name: `${namespace}-${mediaClaim}` },
      spec: {
        capacity,
        accessModes: ['ReadWriteOnce'],
        persistentVolumeReclaimPolicy: 'Retain',
        storageClassName: '',
        local: { path: library },
        nodeAffinity: {
          required: {
            nodeSelectorTerms: [
              {
                matchExpressions: [
                  { key: 'kubernetes.io/hostname', operator: 'In', values: [inject('realNodeName')] },
                ],
              },
            ],
          },
        },
        claimRef: { namespace, name: mediaClaim },
      },
    },
  });
  await core.createNamespacedPersistentVolumeClaim({
    namespace,
    body: {
      metadata: { name: mediaClaim },
      spec: {
        accessModes: ['ReadWriteOnce'],
        storageClassName: '',
        volumeName: `${namespace}-${mediaClaim}`,
        resources: { requests: capacity },
      },
    },
  });
  await core.createNamespacedSecret({
    namespace,
    body: { metadata: { name: 'vdl-webhook-library' }, stringData: { secret } },
  });
}, 120_000);

afterAll(async () => {
  await receiver.stop();
  await forwards?.close();
  await core.deleteNamespacedPersistentVolumeClaim({ namespace, name: mediaClaim }).catch(() => {});
  await core.deletePersistentVolume({ name: `${namespace}-${mediaClaim}` }).catch(() => {});
  await core.deleteNamespacedSecret({ namespace, name: 'vdl-webhook-library' }).catch(() => {});
  if (library) await rm(library, { recursive: true, force: true });
});

async function ffprobe(file: string) {
  const { stdout } = await run(toolPath('ffmpeg').replace(/ffmpeg$/, 'ffprobe'), [
    '-v',
    'error',
    '-show_streams',
    '-show_format',
    '-of',
    'json',
    file,
  ]);
  return JSON.parse(stdout) as {
    streams: Array<{ disposition?: { attached_pic?: number } }>;
    format: { tags?: Record<string, string> };
  };
}

describe('a download onto a volume, with a webhook', () => {
  const name = 'library-video';
  const path = `${describedVideo.uploader}/2026/${describedVideo.title}.mp4`;

  it('writes the file at its templated path as its user, with tags and a cover, and notifies a receiver that was down for a minute', async () => {
    const download = {
      apiVersion: 'vdl.dev/v1alpha1',
      kind: 'VideoDownload',
      metadata: { name, namespace },
      spec: {
        url: mediaUrl('/described/progressive.mp4.html'),
        embed: { metadata: true, thumbnail: true },
        storage: {
          volume: {
            claimName: mediaClaim,
            path: '{uploader}/{upload_year}/{title}.{ext}',
            uid: mediaUid,
            gid: mediaGid,
            fileMode: 0o664,
          },
        },
        notify: { url: receiver.url, secretRef: { name: 'vdl-webhook-library' } },
      },
    };
    await kubectl(['-n', namespace, 'apply', '-f', '-'], kubeconfig, stringify(download));
    await kubectl(
      ['-n', namespace, 'wait', '--for=condition=Complete', '--timeout=240s', `videodownload/${name}`],
      kubeconfig,
    );
    const done = (await downloadObject(name)) as {
      status?: {
        completionTime?: string;
        result?: { sha256?: string; size?: number; volume?: { claimName: string; path: string } };
        notification?: { state: string; attempts: number; lastError?: string };
      };
    };
    expect(done.status?.result?.volume).toEqual({ claimName: mediaClaim, path, createdFolders: 2 });
    expect(await readdir(library)).toEqual([describedVideo.uploader]);

    // On the node's disk: the user's file, its mode, the bytes status names, tags and a cover inside.
    const file = join(library, path);
    const stats = await stat(file);
    expect([stats.uid, stats.gid, stats.mode & 0o777]).toEqual([mediaUid, mediaGid, 0o664]);
    const folder = await stat(join(library, describedVideo.uploader));
    expect([folder.uid, folder.gid, folder.mode & 0o777]).toEqual([mediaUid, mediaGid, 0o775]);
    expect(
      createHash('sha256')
        .update(await readFile(file))
        .digest('hex'),
    ).toBe(done.status?.result?.sha256);
    expect(await readdir(join(library, describedVideo.uploader, '2026'))).toEqual([
      `${describedVideo.title}.mp4`,
    ]);
    const probe = await ffprobe(file);
    expect(probe.format.tags).toMatchObject({ title: describedVideo.title, artist: describedVideo.uploader });
    expect(probe.streams.filter((s) => s.disposition?.attached_pic === 1)).toHaveLength(1);

    // The API says where the file is; it has no link to sign.
    const result = await call(forwards.api, 'GET', `/result/${name}`);
    expect(result.status).toBe(200);
    expect(result.json).toMatchObject({ url: null, volume: { claim_name: mediaClaim, path } });

    // The receiver is down: attempts fail, and status says so.
    const failing = await eventually(
      'failed delivery attempts in status',
      async () => {
        const notification = (await downloadObject(name)).status as typeof done.status;
        return (notification?.notification?.attempts ?? 0) >= 2 ? notification?.notification : undefined;
      },
      { timeoutMs: 60_000, intervalMs: 500 },
    );
    expect(failing.state).toBe('Retrying');
    expect(failing.lastError).toMatch(/ECONNREFUSED|refused/i);
    // Down for a minute from the download's end: the scenario, not a wait for readiness.
    const downFor = 60_000 - (Date.now() - new Date(done.status?.completionTime as string).getTime());
    if (downFor > 0) await delay(downFor);
    await receiver.start();
    const delivered = await eventually(
      'the event delivered',
      async () => {
        const notification = ((await downloadObject(name)).status as typeof done.status)?.notification;
        return notification?.state === 'Delivered' ? notification : undefined;
      },
      { timeoutMs: 90_000, intervalMs: 500 },
    );
    expect(delivered.attempts).toBeGreaterThanOrEqual(3);
    expect(receiver.received).toHaveLength(1);
    const [event] = receiver.verified;
    expect(event?.body).toMatchObject({
      type: 'download.done',
      data: {
        job_id: name,
        state: 'DONE',
        claim_name: mediaClaim,
        path,
        sha256: done.status?.result?.sha256,
        size: done.status?.result?.size,
      },
    });
  }, 420_000);

  it('deleting the download removes its file and the folders it made, not the library', async () => {
    await kubectl(
      ['-n', namespace, 'delete', 'videodownload', name, '--wait=true', '--timeout=180s'],
      kubeconfig,
    );
    expect(await readdir(library)).toEqual([]);
    expect((await stat(library)).isDirectory()).toBe(true);
  }, 240_000);
});
