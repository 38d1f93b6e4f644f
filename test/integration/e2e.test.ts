// The whole system end to end, as `make dev` runs it: real control plane and
// MinIO, the operator and the API as their own processes under the chart's
// RBAC, download pods run by the process node with real yt-dlp and ffmpeg.
import { execFile, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import * as k8s from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { UploadPlan } from '../../crds/upload-plan.ts';
import type { VideoDownload } from '../../crds/video-download.ts';
import { freePort } from '../cluster/readiness.ts';
import { type DevEnvironment, startDevEnvironment } from '../dev-environment/environment.ts';
import { eventually } from '../support/eventually.ts';
import { kubeConfigFrom } from '../support/kube.ts';
import { longPageTitle, memberCookie } from '../support/media-server.ts';
import { incompleteUploads, minioClient, uploadedParts } from '../support/storage.ts';
import { Downloads, watchDownloads } from '../support/vdl.ts';
import { toolPath } from '../toolchain/tools.ts';

const run = promisify(execFile);
let env: DevEnvironment;
let config: k8s.KubeConfig;
const phases = new Map<string, string[]>();
/** Every progress stage each download reported, in order. */
const stages = new Map<string, string[]>();
let watcher: ReturnType<typeof watchDownloads>;

const sha256 = (data: Buffer) => createHash('sha256').update(data).digest('hex');

async function api<T = Record<string, unknown>>(
  method: string,
  path: string,
  body?: unknown,
): Promise<{ status: number; body: T }> {
  const response = await fetch(`${env.apiUrl}${path}`, {
    method,
    headers: {
      authorization: `Bearer ${env.apiKey}`,
      ...(body ? { 'content-type': 'application/json' } : {}),
    },
    body: body ? JSON.stringify(body) : undefined,
  });
  const text = await response.text();
  return { status: response.status, body: (text ? JSON.parse(text) : {}) as T };
}

async function submit(url: string, extra: Record<string, unknown> = {}): Promise<string> {
  const response = await api<{ job_id: string }>('POST', '/download', { url, ...extra });
  expect(response.status, JSON.stringify(response.body)).toBe(202);
  return response.body.job_id;
}

async function finished(
  id: string,
  timeoutMs = 90_000,
): Promise<{ state: string; error: { reason: string } | null; attempts: number }> {
  return eventually(
    `${id} to finish`,
    async () => {
      const status = await api<{ state: string; error: { reason: string } | null; attempts: number }>(
        'GET',
        `/status/${id}`,
      );
      return ['DONE', 'FAILED'].includes(status.body.state) ? status.body : undefined;
    },
    { timeoutMs, intervalMs: 250 },
  );
}

beforeAll(async () => {
  env = await startDevEnvironment({
    dir: mkdtempSync(join(tmpdir(), 'vdl-e2e-')),
    namespace: 'e2e',
    maxActiveDownloads: 3,
    // Uploads of several parts, through a link the tests can slow down.
    storageLink: true,
    minUploadPartSize: '5Mi',
  });
  config = kubeConfigFrom(env.kubeconfig);
  watcher = watchDownloads(config, env.namespace, (d: VideoDownload) => {
    const list = phases.get(d.metadata.name as string) ?? [];
    if (d.status?.phase && list.at(-1) !== d.status.phase) list.push(d.status.phase);
    phases.set(d.metadata.name as string, list);
    const seen = stages.get(d.metadata.name as string) ?? [];
    const stage = d.status?.progress?.stage;
    if (stage && seen.at(-1) !== stage) seen.push(stage);
    stages.set(d.metadata.name as string, seen);
  });
  await watcher.waitForSync();
}, 180_000);

afterAll(async () => {
  watcher?.stop();
  await env?.stop();
});

describe('end to end', () => {
  it('REST: submit, watch progress rise over SSE, fetch the file with the same bytes', async () => {
    const id = await submit(`${env.media.url}/throttled-rest.mp4`);
    const response = await fetch(`${env.apiUrl}/status/${id}/events`, {
      headers: { authorization: `Bearer ${env.apiKey}` },
    });
    const percents: number[] = [];
    const states: string[] = [];
    const decoder = new TextDecoder();
    let buffer = '';
    for await (const chunk of response.body as AsyncIterable<Uint8Array>) {
      buffer += decoder.decode(chunk);
      const blocks = buffer.split('\n\n');
      buffer = blocks.pop() ?? '';
      for (const block of blocks) {
        const data = block.split('\n').find((line) => line.startsWith('data: '));
        if (!data || !block.includes('event: status')) continue;
        const status = JSON.parse(data.slice(6)) as { state: string; progress: { percent: number | null } };
        states.push(status.state);
        if (status.progress.percent !== null) percents.push(status.progress.percent);
      }
    }
    expect(states.at(-1)).toBe('DONE');
    expect(new Set(percents).size).toBeGreaterThanOrEqual(3);
    expect([...percents].sort((a, b) => a - b)).toEqual(percents);
    expect(percents.at(-1)).toBe(100);

    const result = await api<{ url: string; sha256: string }>('GET', `/result/${id}`);
    expect(result.status).toBe(200);
    const bytes = Buffer.from(await (await fetch(result.body.url)).arrayBuffer());
    const source = readFileSync(env.media.file('large.mp4'));
    expect(sha256(bytes)).toBe(sha256(source));
    expect(result.body.sha256).toBe(sha256(source));
  });

  it('kubectl: apply the example manifest, wait for Complete, see it in kubectl get', async () => {
    const kubectl = (args: string[]) =>
      run(toolPath('kubectl'), ['--kubeconfig', env.kubeconfig, '-n', env.namespace, ...args]);
    const example = readFileSync(
      fileURLToPath(new URL('../../crds/examples/videodownload.yaml', import.meta.url)),
      'utf8',
    ).replace(/url: .*/, `url: ${env.media.url}/page.html`);
    await new Promise<void>((resolve, reject) => {
      const child = execFile(
        toolPath('kubectl'),
        ['--kubeconfig', env.kubeconfig, '-n', env.namespace, 'apply', '-f', '-'],
        (error) => (error ? reject(error) : resolve()),
      );
      child.stdin?.end(example);
    });
    const waited = await kubectl(['wait', '--for=condition=Complete', 'vd/example', '--timeout=90s']);
    expect(waited.stdout).toContain('condition met');
    const table = await kubectl(['get', 'vd', 'example', '--no-headers']);
    expect(table.stdout).toMatch(/^example\s+Succeeded\s+100\s+A test page\s/);
  });

  it('kubectl: a download behind a login gets its cookies from a Secret; the API refuses cookies', async () => {
    const core = config.makeApiClient(k8s.CoreV1Api);
    await core.createNamespacedSecret({
      namespace: env.namespace,
      body: {
        metadata: { name: 'vdl-cookies-e2e' },
        stringData: {
          'cookies.txt': `# Netscape HTTP Cookie File\n127.0.0.1\tFALSE\t/\tFALSE\t0\t${memberCookie.name}\t${memberCookie.value}\n`,
        },
      },
    });
    const downloads = new Downloads(config, env.namespace);
    await downloads.create('members', {
      url: `${env.media.url}/members/video.mp4`,
      cookies: { secretName: 'vdl-cookies-e2e' },
    });
    const done = await eventually(
      'members to finish',
      async () => {
        const d = await downloads.get('members');
        return ['Succeeded', 'Failed'].includes(d.status?.phase ?? '') ? d : undefined;
      },
      { timeoutMs: 90_000, intervalMs: 250 },
    );
    expect(done.status?.phase, JSON.stringify(done.status?.conditions)).toBe('Succeeded');

    const refused = await api<{ detail: string }>('POST', '/download', {
      url: `${env.media.url}/members/video.mp4`,
      cookies: { secretName: 'vdl-cookies-e2e' },
    });
    expect(refused.status).toBe(422);
    expect(refused.body.detail).toMatch(/cookies/);
  });

  it('finishes a page with a 1,500-character title, its title shortened to what status holds', async () => {
    expect(longPageTitle.length).toBeGreaterThan(1500);
    const id = await submit(`${env.media.url}/long-title.html`);
    const status = await finished(id);
    expect(status).toMatchObject({ state: 'DONE', attempts: 1 });
    const download = await new Downloads(config, env.namespace).get(id);
    const title = download.status?.result?.title ?? '';
    expect(title.length).toBeGreaterThan(500);
    expect(title.length).toBeLessThanOrEqual(1024);
    expect(longPageTitle.startsWith(title.replace(/…$/, ''))).toBe(true);
    expect(download.status?.progress?.title).toBe(title);
    const filename = download.status?.result?.filename ?? '';
    expect(Buffer.byteLength(filename)).toBeLessThanOrEqual(255);
    expect(filename).toMatch(/^Episode_1\._very_long_title.* \[long-title[^\]]*\]\.mp4$/);
  });

  it('fails a missing video at once with a clear reason', async () => {
    const id = await submit(`${env.media.url}/missing.mp4`);
    const status = await finished(id);
    expect(status).toMatchObject({ state: 'FAILED', error: { reason: 'NotFound' }, attempts: 1 });
  });

  it('retries a transient failure in a new pod and succeeds', async () => {
    const id = await submit(`${env.media.url}/fail-once/video.mp4`);
    const status = await finished(id, 120_000);
    expect(status).toMatchObject({ state: 'DONE', attempts: 2 });
  });

  it('cancels a running download: process killed, Job and pod gone, nothing stored', async () => {
    const id = await submit(`${env.media.url}/throttled-cancel.mp4`);
    await eventually('the download running', () => (phases.get(id)?.includes('Running') ? true : undefined), {
      timeoutMs: 30_000,
    });
    expect((await api('DELETE', `/downloads/${id}`)).status).toBe(202);
    const batch = config.makeApiClient(k8s.BatchV1Api);
    const core = config.makeApiClient(k8s.CoreV1Api);
    await eventually(
      'Job, pod and process gone',
      async () => {
        const jobs = await batch.listNamespacedJob({
          namespace: env.namespace,
          labelSelector: `vdl.dev/download=${id}`,
        });
        const pods = await core.listNamespacedPod({
          namespace: env.namespace,
          labelSelector: `vdl.dev/download=${id}`,
        });
        return jobs.items.length === 0 && pods.items.length === 0 && env.node.runningProcesses() === 0
          ? true
          : undefined;
      },
      { timeoutMs: 60_000 },
    );
    // The finalizer cleans up once the pod is gone; the download goes after it.
    await eventually('the download gone', async () =>
      (await api('GET', `/status/${id}`)).status === 404 ? true : undefined,
    );
    const storage = minioClient(env.plane.minio as NonNullable<typeof env.plane.minio>);
    const objects: string[] = [];
    for await (const item of storage.listObjectsV2(env.bucket, `${env.namespace}/${id}/`, true))
      objects.push(item.name as string);
    const uploads = await incompleteUploads(storage, env.bucket, `${env.namespace}/${id}/`);
    expect(objects).toEqual([]);
    expect(uploads).toEqual([]);
  });

  it('a download pod holds no storage credential, and what it holds reaches no other object', async () => {
    const minio = env.plane.minio as NonNullable<typeof env.plane.minio>;
    const storage = minioClient(minio);
    const victim = `${env.namespace}/someone-else/uid/file`;
    await storage.putObject(env.bucket, victim, Buffer.from('not yours'));
    const id = await submit(`${env.media.url}/throttled-credentials.mp4`);
    const core = config.makeApiClient(k8s.CoreV1Api);
    const { pid, volumes } = await eventually(
      'the download process',
      async () => {
        const pods = await core.listNamespacedPod({
          namespace: env.namespace,
          labelSelector: `vdl.dev/download=${id}`,
        });
        for (const pod of pods.items) {
          const name = pod.metadata?.name as string;
          const running = env.node.podProcess(env.namespace, name);
          if (running) return running;
        }
        return undefined;
      },
      { timeoutMs: 60_000, intervalMs: 100 },
    );
    // What yt-dlp (same user) could read: the process environment and every mounted file.
    const environ = readFileSync(`/proc/${pid}/environ`, 'utf8');
    const files = (function walk(dir: string): string[] {
      return readdirSync(dir).flatMap((entry) => {
        const path = join(dir, entry);
        return statSync(path).isDirectory() ? walk(path) : [path];
      });
    })(volumes);
    const mounted = files.map((file) => readFileSync(file, 'utf8')).join('\n');
    expect(environ).not.toContain(minio.secretKey);
    expect(mounted).not.toContain(minio.secretKey);
    expect(environ).not.toContain(minio.accessKey);
    // The access key id names the signer inside each presigned URL (X-Amz-Credential), as SigV4
    // requires; it is no secret. Nowhere else.
    expect(mounted.replaceAll(`X-Amz-Credential=${minio.accessKey}%2F`, '')).not.toContain(minio.accessKey);

    const planFile = files.find((file) => file.endsWith('upload-plan.json')) as string;
    const plan = UploadPlan.parse(JSON.parse(readFileSync(planFile, 'utf8')));
    expect(plan.file.key.startsWith(`${env.namespace}/${id}/`)).toBe(true);
    // Every request it holds, aimed at another download's object, or used to read: refused.
    const retarget = (url: string) => url.replace(plan.file.key, victim).replace(plan.info.key, victim);
    const requests = [
      ...[...plan.file.parts, ...plan.info.parts].map((url) => ['PUT', retarget(url)]),
      ['POST', retarget(plan.file.complete)],
      ['DELETE', retarget(plan.file.abort)],
      ['GET', retarget(plan.file.parts[0] as string)],
      ['GET', plan.file.parts[0] as string],
      ['GET', plan.file.complete],
    ] as const;
    for (const [method, url] of requests) {
      const response = await fetch(url, { method, body: method === 'PUT' ? 'overwritten' : undefined });
      expect(`${method} ${response.status}`).toBe(`${method} 403`);
    }
    const chunks: Buffer[] = [];
    for await (const chunk of await storage.getObject(env.bucket, victim)) chunks.push(chunk as Buffer);
    expect(Buffer.concat(chunks).toString()).toBe('not yours');
    expect(await finished(id)).toMatchObject({ state: 'DONE' });
  });

  it('cancels a download whose parts were being uploaded as it downloaded: nothing stored, no upload left', async () => {
    // noisy.mp4 (13 MB) at 2 MB/s: 5 MiB parts (the plan's part size grows with the size
    // limit, hence 50Mi) go to storage while yt-dlp still writes the file.
    const id = await submit(`${env.media.url}/noisy.mp4?rate=${2 * 10 ** 6}`, {
      limits: { maxFileSize: '50Mi' },
    });
    const storage = minioClient(env.plane.minio as NonNullable<typeof env.plane.minio>);
    const prefix = `${env.namespace}/${id}/`;
    await eventually(
      'a part of the file stored while downloading',
      async () => {
        // Listed from the top, as incompleteUploads does: MinIO's listing under a prefix is not reliable here.
        for await (const upload of storage.listIncompleteUploads(env.bucket, '', true))
          if (upload.key.startsWith(prefix) && upload.key.endsWith('/file')) {
            const parts = await uploadedParts(storage, env.bucket, upload.key, upload.uploadId);
            if (parts.length > 0) return true;
          }
        return undefined;
      },
      { timeoutMs: 60_000, intervalMs: 100 },
    );
    expect(stages.get(id)).not.toContain('uploading');
    expect((await api('DELETE', `/downloads/${id}`)).status).toBe(202);
    await eventually(
      'the download gone',
      async () => ((await api('GET', `/status/${id}`)).status === 404 ? true : undefined),
      { timeoutMs: 90_000 },
    );
    const objects: string[] = [];
    for await (const item of storage.listObjectsV2(env.bucket, prefix, true))
      objects.push(item.name as string);
    const uploads = await incompleteUploads(storage, env.bucket, prefix);
    expect({ objects, uploads }).toEqual({ objects: [], uploads: [] });
  });

  it('deleting a download mid-upload leaves no object and no unfinished upload once it is gone', async () => {
    const link = env.storageLink as NonNullable<typeof env.storageLink>;
    const id = await submit(`${env.media.url}/throttled-noisy-delete.mp4`);
    try {
      await eventually(
        'the download running',
        () => (phases.get(id)?.includes('Running') ? true : undefined),
        {
          timeoutMs: 60_000,
        },
      );
      // The 13 MB file would take about a minute to upload: the delete comes in the middle.
      link.throttle(256 * 1024);
      await eventually(
        'the download uploading',
        () => (stages.get(id)?.includes('uploading') ? true : undefined),
        {
          timeoutMs: 60_000,
          intervalMs: 50,
        },
      );
      expect((await api('DELETE', `/downloads/${id}`)).status).toBe(202);
      const downloads = new Downloads(config, env.namespace);
      await eventually(
        'the VideoDownload gone',
        async () => {
          try {
            await downloads.get(id);
            return undefined;
          } catch (error) {
            return (error as { code?: number }).code === 404 ? true : undefined;
          }
        },
        { timeoutMs: 90_000 },
      );
    } finally {
      link.throttle(undefined);
    }
    const storage = minioClient(env.plane.minio as NonNullable<typeof env.plane.minio>);
    const objects: string[] = [];
    for await (const item of storage.listObjectsV2(env.bucket, `${env.namespace}/${id}/`, true))
      objects.push(item.name as string);
    const uploads = await incompleteUploads(storage, env.bucket, `${env.namespace}/${id}/`);
    expect({ objects, uploads }).toEqual({ objects: [], uploads: [] });
  });

  it('a download deleted with kubectl is still listed and answered with its final state, from the archive', async () => {
    const id = await submit(`${env.media.url}/progressive.mp4`);
    expect((await finished(id)).state).toBe('DONE');
    await run(toolPath('kubectl'), [
      '--kubeconfig',
      env.kubeconfig,
      '-n',
      env.namespace,
      'delete',
      'vd',
      id,
      '--wait=true',
    ]);
    // Gone from the cluster, not from the API.
    const status = await api<{ state: string; job_id: string }>('GET', `/status/${id}`);
    expect(status.status).toBe(200);
    expect(status.body).toMatchObject({ job_id: id, state: 'DONE' });
    const list = await api<{ items: Array<{ job_id: string; state: string }> }>(
      'GET',
      '/downloads?state=DONE&limit=200',
    );
    expect(list.body.items.filter((item) => item.job_id === id)).toEqual([
      expect.objectContaining({ state: 'DONE' }),
    ]);
    // Its file went with it (deletion policy Delete): the link is gone, said so.
    expect((await api('GET', `/result/${id}`)).status).toBe(410);
  });

  it('runs ten downloads with at most three at once, and completes them all', async () => {
    const batch = config.makeApiClient(k8s.BatchV1Api);
    // Counted at every process start and exit, not sampled: exact however busy the machine.
    env.node.resetPeakProcesses();
    const ids = await Promise.all(
      Array.from({ length: 10 }, (_, i) => submit(`${env.media.url}/throttled-${i}.mp4`)),
    );
    const statuses = await Promise.all(ids.map((id) => finished(id, 180_000)));
    expect(statuses.map((s) => s.state)).toEqual(Array(10).fill('DONE'));
    const maxRunning = env.node.peakProcesses();
    // More than one at once: three Jobs start together and each throttled download lasts about 3 s.
    expect(maxRunning).toBeGreaterThan(1);
    expect(maxRunning).toBeLessThanOrEqual(3);
    const jobs = await batch.listNamespacedJob({ namespace: env.namespace });
    expect(
      jobs.items.filter((job) => ids.includes(job.metadata?.labels?.['vdl.dev/download'] ?? '')).length,
    ).toBe(10);
  });
});

describe('make dev', () => {
  it('starts the whole system, serves the printed example, and stops cleanly on Ctrl-C', async () => {
    const devDir = mkdtempSync(join(tmpdir(), 'vdl-make-dev-'));
    const port = await freePort();
    const child = spawn(
      process.execPath,
      [fileURLToPath(new URL('../dev-environment/main.ts', import.meta.url))],
      {
        env: { ...process.env, VDL_DEV_DIR: devDir, VDL_API_PORT: String(port) },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let output = '';
    child.stdout.on('data', (chunk) => {
      output += chunk;
    });
    child.stderr.on('data', (chunk) => {
      output += chunk;
    });
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    try {
      await eventually('make dev to be ready', () => (output.includes('vdl is running') ? true : undefined), {
        timeoutMs: 120_000,
      });
      const settings = Object.fromEntries(
        readFileSync(join(devDir, 'env'), 'utf8')
          .trim()
          .split('\n')
          .map((line) =>
            line
              .replace(/^export /, '')
              .split(/=(.*)/s)
              .slice(0, 2),
          ),
      ) as Record<string, string>;
      expect(settings.VDL_API_URL).toBe(`http://127.0.0.1:${port}`);
      // The printed curl example, as a new user would run it.
      const headers = { authorization: `Bearer ${settings.VDL_API_KEY}` };
      const accepted = await fetch(`${settings.VDL_API_URL}/download`, {
        method: 'POST',
        headers: { ...headers, 'content-type': 'application/json' },
        body: JSON.stringify({ url: settings.VDL_SAMPLE_URL }),
      });
      const { job_id: id } = (await accepted.json()) as { job_id: string };
      await eventually(
        'the sample to be DONE',
        async () => {
          const status = (await (
            await fetch(`${settings.VDL_API_URL}/status/${id}`, { headers })
          ).json()) as { state: string };
          if (status.state === 'FAILED') throw new Error(JSON.stringify(status));
          return status.state === 'DONE' ? true : undefined;
        },
        { timeoutMs: 60_000 },
      );
      const file = await fetch(`${settings.VDL_API_URL}/result/${id}?redirect=true`, { headers });
      expect(file.status).toBe(200);
      expect((await file.arrayBuffer()).byteLength).toBeGreaterThan(10_000);
    } catch (error) {
      throw new Error(`${(error as Error).message}\nmake dev printed:\n${output.slice(-4000)}`);
    } finally {
      child.kill('SIGINT');
    }
    expect(await exited).toBe(0);
    expect(output).toContain('stopping vdl (SIGINT)');
    // Nothing it started is left listening.
    await expect(fetch(`http://127.0.0.1:${port}/healthz`)).rejects.toThrow();
  });
});
